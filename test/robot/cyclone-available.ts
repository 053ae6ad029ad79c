import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";
import { projectPath } from "../../common/paths.js";
import { readNativeStatus } from "../../robot/ros2/cyclone/native.js";

/**
 * Builds the Cyclone DDS addon and C peer if needed (a no-op when up to date)
 * and reports whether the ROS 2 tests can run here. Missing Cyclone DDS (or a
 * compiler) skips them with the reason, except in CI, where it is a failure;
 * a compile failure is a failure everywhere.
 */
export function cycloneAvailable(t: TestContext): boolean {
  execFileSync(process.execPath, [projectPath("scripts", "build-native.mjs"), "--quiet"], { stdio: ["ignore", "ignore", "pipe"] });
  const status = readNativeStatus();
  if (status?.built) return true;
  const reason = `Cyclone DDS addon not built: ${status?.reason ?? "no build/native-status.json"} (${status?.install ?? ""})`;
  if (process.env.CI === "true" || !status?.missing?.length) assert.fail(reason);
  t.skip(reason);
  return false;
}
