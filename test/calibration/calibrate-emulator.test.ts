/**
 * `s2r calibrate` in this process against `s2r emulate` in a child process,
 * over a real pseudo-terminal, for the ways a session ends badly: Ctrl-C in
 * the middle of a move, and a device that reports a hardware error before
 * anything moved. (A full calibration finding the hidden zeros is in
 * acceptance-emulator.test.ts.)
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../launch/cli.js";
import { projectPath } from "../../common/paths.js";
import { HardwareError } from "../../robot/hardware/interface.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { spawnEmulator, type SpawnedEmulator } from "../../robot/emulator/spawn-emulator.js";
import { DynamixelRig } from "../../robot/rigs/dynamixel-rig.js";
import { rigConfigSchema } from "../../robot/rigs/rig-config.js";
import { provisionalCalibration } from "../../calibration/calibrate/calibration-result.js";
import { sameDeadlinesForAll, TIMING_TOLERANT } from "../../robot/control/deadline-policy.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-calibrate-emu-"));
const spawned: SpawnedEmulator[] = [];
test.after(async () => {
  for (const e of spawned) await e.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The Furuta rig file with patience for a loaded 2-core test machine, where
 * the emulator's process is now and then off the CPU for longer than the
 * real bus's 10 ms timeout or the 100 ms Bus Watchdog. Same code paths.
 */
const rigFile = join(dir, "furuta.json");
const raw = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
raw.bus.timeoutMs = 100;
raw.bus.retries = 2;
raw.safety.deadlines = sameDeadlinesForAll(TIMING_TOLERANT);
raw.safety.watchdogMs = 1000;
writeFileSync(rigFile, JSON.stringify(raw));
const rig = rigConfigSchema.parse(raw, "");

async function calibrate(argv: string[], signal = new AbortController().signal) {
  let out = "";
  let err = "";
  const code = await main(["calibrate", rigFile, ...argv], { out: (t) => (out += t), err: (t) => (err += t), interactive: false, signal });
  return { code, out, err };
}

async function logDigest(file: string) {
  const events: string[] = [];
  const counts: Record<string, number> = {};
  const c = await readSessionLog(file, {
    onMessage: (m) => {
      counts[m.topic] = (counts[m.topic] ?? 0) + 1;
      if (m.topic === "/events") events.push(String(m.decode().msg));
    },
  });
  return { events, counts, closedCleanly: c.closedCleanly, session: c.session };
}

test("Ctrl-C in the middle of a move: exit 130, torque off on the rig, the log complete, no calibration written", async () => {
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "int.tty"), "--seed", "5"]);
  spawned.push(emu);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("SIGINT")), 4000);
  const out = join(dir, "int.json");
  const log = join(dir, "int.mcap");
  const r = await calibrate(["--port", emu.link, "--out", out, "--log", log], controller.signal);
  clearTimeout(timer);
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /interrupted: interrupted during seek the lower stop of arm_joint \(SIGINT\)/);
  assert.equal(existsSync(out), false);
  const d = await logDigest(log);
  assert.ok(d.closedCleanly);
  assert.equal(d.session, "calibrate");
  assert.ok(d.counts["/commands"]! > 100, "the arm was being driven");
  assert.ok(d.events.includes("torque off"));
  assert.ok(d.events.some((e) => /calibrate session ended \(interrupted\)/.test(e)));
  assert.ok(existsSync(join(dir, "int.html")), "the report is written for an interrupted session too");
  // The rig itself: torque off, no voltage.
  const hw = await DynamixelRig.open(emu.link, rig, provisionalCalibration(rig));
  try {
    assert.equal((await hw.bus.readRegister(1, "Torque Enable")).raw, 0);
    assert.equal((await hw.bus.readRegister(1, "Goal PWM")).raw, 0);
  } finally {
    await hw.close();
  }
});

test("a device reporting a hardware error is refused before anything moves, naming the error", async () => {
  // A motor that overheats at once: any current trips its overload.
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "hw.tty"), "--overload", "0.01", "--continuous-current", "0"]);
  spawned.push(emu);
  const hw = await DynamixelRig.open(emu.link, rig, provisionalCalibration(rig));
  try {
    await hw.activate();
    const started = performance.now();
    let tripped: unknown;
    while (!tripped && performance.now() - started < 5000) {
      try {
        await hw.read();
        await hw.write([3]);
        await new Promise((r) => setTimeout(r, 10));
      } catch (e) {
        tripped = e;
      }
    }
    assert.ok(tripped instanceof HardwareError && /Overload Error/.test(tripped.message), String(tripped));
    await hw.deactivate();
  } finally {
    await hw.close();
  }

  const out = join(dir, "hw.json");
  const log = join(dir, "hw.mcap");
  const r = await calibrate(["--port", emu.link, "--out", out, "--log", log]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /refused: refusing to start: ID 1 \(arm_joint\) reports Hardware Error Status Overload Error \(32\)/);
  assert.equal(existsSync(out), false);
  const d = await logDigest(log);
  assert.ok(d.closedCleanly);
  assert.equal(d.counts["/commands"] ?? 0, 0, "nothing was driven");
  assert.ok(d.events.some((e) => /calibrate session ended \(refused\): refusing to start: ID 1 \(arm_joint\) reports Hardware Error Status Overload Error/.test(e)));
});

test("usage errors name the option", async () => {
  assert.equal((await calibrate([])).code, 2);
  const noPort = await calibrate([]);
  assert.match(noPort.err, /--port is required/);
  const mixed = await calibrate(["--ros2", "--out", join(dir, "x.json")]);
  assert.equal(mixed.code, 2);
  assert.match(mixed.err, /--out does not apply with --ros2/);
  const notRos = await calibrate(["--port", "/dev/null", "--domain", "3"]);
  assert.match(notRos.err, /--domain needs --ros2/);
  const gone = await calibrate(["--port", join(dir, "no-such-port"), "--log", join(dir, "gone.mcap")]);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /cannot open serial port .*no-such-port/);
});
