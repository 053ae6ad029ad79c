import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * With neither transport usable, opening ROS 2 fails with one error that says,
 * per transport, why and what to install. Reproduced for real: the compiled
 * modules run from a package folder that has no native build, in a shell
 * without ROS 2.
 */
test("with no transport available, openRos2Transport says what to install for each", () => {
  const compiled = fileURLToPath(new URL("../../", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "s2r-ros2-open-"));
  try {
    for (const sub of ["robot", "common"]) cpSync(join(compiled, sub), join(dir, sub), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "s2r", type: "module" }));
    const env = { ...process.env };
    delete env.ROS_DISTRO;
    delete env.AMENT_PREFIX_PATH;
    const script = `import(${JSON.stringify(new URL("robot/ros2/open.js", "file://" + dir + "/").href)}).then((m) => m.openRos2Transport()).then(() => console.log("opened"), (e) => console.log(e.message));`;
    const message = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env }).trim();
    assert.match(message, /^ros2: no ROS 2 transport is available:/);
    assert.match(message, /\n {2}rclnodejs: .*needs a sourced ROS 2 environment.*source \/opt\/ros\/humble\/setup\.bash.*npm install rclnodejs/);
    assert.match(message, /\n {2}cyclone: .*the native build has not run.*apt-get install cyclonedds-dev cyclonedds-tools/);
    assert.match(message, /s2r ros2 doctor/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
