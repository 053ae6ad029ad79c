import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../../../common/paths.js";
import { writeRandomPolicy } from "../../../robot/control/random-policy.js";
import type { SpawnedEmulator } from "../../../robot/emulator/spawn-emulator.js";
import { faultEmulator, readBack, tolerantRigFile } from "./fault-rig.js";

// Fault matrix row "the log's disk full mid-session": `s2r deploy` as its own
// process under RLIMIT_FSIZE (ulimit -f; Node ignores SIGXFSZ, so writes fail
// with EFBIG as on a full disk) against `s2r emulate` over a pty. The session
// must stop the motion (torque off, seen by the emulator), exit 1 saying the
// log could not be written, and leave what reached the disk readable.

const dir = mkdtempSync(join(tmpdir(), "s2r-fault-disk-"));
let emu: SpawnedEmulator | undefined;
test.after(async () => {
  await emu?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

test("the session log's file cannot grow mid-episode: torque off, exit 1 naming the log, what was written readable", async () => {
  const policy = writeRandomPolicy(dir, { task: "furuta", seed: 5 });
  const f = await faultEmulator(dir, "disk");
  emu = f.emu;
  const calibration = f.calibration;
  const log = join(dir, "disk.mcap");
  // 192 KiB: homing and settling fit; a few seconds of 100 Hz cycles do not.
  const args = [projectPath("bin", "s2r.js"), "deploy", "--policy", policy.onnxPath, "--rig", tolerantRigFile(dir), "--port", emu.link, "--calibration", calibration, "--duration", "30", "--log", log, "--json"];
  const child = spawn("bash", ["-c", 'ulimit -f 192 && exec "$0" "$@"', process.execPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 1, `deploy must stop when its log cannot be written: ${out}${err}`);
  assert.match(err, /session log could not be written: .*disk\.mcap.*EFBIG/, err);
  assert.match(out + err, /log_error/);

  const events = emu.events();
  const enables = events.filter((e) => e.event === "torque" && e.on === true);
  assert.ok(enables.length >= 2, `the episode enabled torque: ${JSON.stringify(events)}`);
  const lastOn = enables.at(-1)!.atMs as number;
  const off = events.find((e) => e.event === "torque" && e.on === false && (e.atMs as number) > lastOn);
  assert.ok(off, `the motor's torque went off after the episode began: ${JSON.stringify(events)}`);

  const { contents: c, jointStates, lastLogTime: lastLogged } = await readBack(log);
  assert.equal(c.truncated, true, "the file ends where the disk did");
  assert.ok(jointStates > 20, `cycles before the failure are readable (${jointStates})`);
  // Upper bound of fault -> torque off: from the last message that reached the disk (the writer flushes in batches).
  const boundMs = (off.atMs as number) - Number(lastLogged / 1000n) / 1000;
  console.log(`disk full: torque off at most ${boundMs.toFixed(1)} ms after the last message that reached the disk; ${jointStates} cycles readable`);
  assert.ok(boundMs > 0 && boundMs < 2000, `${boundMs.toFixed(1)} ms`);
});
