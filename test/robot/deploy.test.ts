import test from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../launch/cli.js";
import { projectPath } from "../../common/paths.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { writeRandomPolicy } from "../../robot/control/random-policy.js";
import { spawnEmulator, type SpawnedEmulator } from "../../robot/emulator/spawn-emulator.js";
import { writeCalibration } from "../../robot/rigs/calibration.js";
import { sameDeadlinesForAll, TIMING_TOLERANT } from "../../robot/control/deadline-policy.js";

// `s2r deploy` in this process against `s2r emulate` in a child process,
// over a real pseudo-terminal: the path a real rig's USB adapter takes.

const dir = mkdtempSync(join(tmpdir(), "s2r-deploy-"));
const spawned: SpawnedEmulator[] = [];
test.after(async () => {
  for (const e of spawned) await e.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const policy = writeRandomPolicy(dir, { task: "furuta", seed: 5 });
/**
 * The Furuta rig file with more patience for answers: the emulator shares a
 * loaded 2-core test machine with other jobs, where a pty round trip now and
 * then takes longer than the real bus's 10 ms timeout. Same code paths.
 */
const rigFile = join(dir, "furuta.json");
{
  const rig = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
  rig.bus.timeoutMs = 100;
  rig.bus.retries = 2;
  rig.safety.deadlines = sameDeadlinesForAll(TIMING_TOLERANT);
  writeFileSync(rigFile, JSON.stringify(rig));
}
/** Much more pendulum friction and damping than the rig page's: the settle waits between episodes take ~1 s. */
const quickSettle = join(dir, "quick-settle.json");
writeFileSync(quickSettle, JSON.stringify({ values: { "joints.pendulum_joint.damping": 2e-3, "joints.pendulum_joint.friction": 2e-4 } }));

async function emulator(name: string, extra: string[] = []): Promise<{ emu: SpawnedEmulator; calibration: string }> {
  const emu = await spawnEmulator(["furuta", "--link", join(dir, `${name}.tty`), "--params", quickSettle, "--reveal", ...extra]);
  spawned.push(emu);
  const zero = emu.ready.zeroCounts as Record<string, number>;
  const calibration = join(dir, `${name}-calibration.json`);
  writeCalibration(calibration, { schema: 1, rig: "furuta", method: "revealed by s2r emulate", joints: Object.fromEntries(Object.entries(zero).map(([j, z]) => [j, { zeroCounts: z, direction: 1 as const }])) });
  return { emu, calibration };
}

async function deploy(argv: string[], signal = new AbortController().signal, onErr?: (text: string) => void) {
  let out = "";
  let err = "";
  const code = await main(["deploy", ...argv], {
    out: (t) => (out += t),
    err: (t) => {
      err += t;
      onErr?.(t);
    },
    interactive: false,
    signal,
  });
  return { code, out, err };
}

async function logEvents(file: string): Promise<{ events: string[]; closedCleanly: boolean; metadata: Record<string, string>; jointStates: number }> {
  const events: string[] = [];
  let jointStates = 0;
  const c = await readSessionLog(file, {
    onMessage: (m) => {
      if (m.topic === "/events") events.push(String(m.decode().msg));
      if (m.topic === "/joint_states") jointStates++;
    },
  });
  return { events, closedCleanly: c.closedCleanly, metadata: c.metadata, jointStates };
}

test("deploy refuses a policy whose manifest does not match the rig or the ONNX file, naming every difference", async () => {
  const wrong = join(dir, "wrong");
  rmSync(wrong, { recursive: true, force: true });
  const { mkdirSync } = await import("node:fs");
  mkdirSync(wrong);
  writeRandomPolicy(wrong, {
    task: "furuta",
    seed: 6,
    tamper: (m) => {
      m.jointOrder = ["pendulum_joint", "arm_joint"];
      m.controlPeriodSec = 0.02;
      m.action[0]!.scale = 12;
    },
  });
  const r = await deploy(["--policy", join(wrong, "policy.onnx"), "--rig", "furuta", "--port", join(dir, "no-such-port"), "--calibration", join(dir, "none.json")]);
  assert.equal(r.code, 1);
  assert.match(r.err, /refusing to run this policy on rig furuta/);
  assert.match(r.err, /jointOrder: the manifest has \[pendulum_joint, arm_joint\] but the robot has \[arm_joint, pendulum_joint\]/);
  assert.match(r.err, /controlPeriodSec: the policy runs at 0\.02 s \(50\.0 Hz\) but rig furuta runs between 0\.002 and 0\.01 s/);
  assert.match(r.err, /action\[0\] \(arm\): the policy can command \[-12, 12\] V but the robot allows \[-6, 6\]/);

  // The ONNX file of another export next to this manifest: the SHA-256 check catches it.
  copyFileSync(policy.onnxPath, join(wrong, "policy.onnx"));
  const sha = await deploy(["--policy", join(wrong, "policy.onnx"), "--rig", "furuta", "--port", join(dir, "no-such-port")]);
  assert.equal(sha.code, 1);
  assert.match(sha.err, /SHA-256 of the file is [0-9a-f]{64} but the manifest's onnx\.sha256 is [0-9a-f]{64}/);
});

test("s2r deploy runs episodes against s2r emulate: one JSON line per episode, a complete log", async () => {
  const { emu, calibration } = await emulator("e2e", ["--seed", "2"]);
  const log = join(dir, "e2e.mcap");
  const r = await deploy(["--policy", policy.onnxPath, "--rig", rigFile, "--port", emu.link, "--calibration", calibration, "--episodes", "2", "--duration", "1", "--log", log, "--json"]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  lines.forEach((e, i) => {
    assert.equal(e.episode, i + 1);
    assert.equal(typeof e.success, "boolean");
    assert.ok(e.reason === "completed" || e.reason === "task_ended", e.message);
    assert.ok(e.peakCommand.arm > 0 && e.peakCommand.arm <= 6, `peak ${e.peakCommand.arm} V`);
    assert.equal(e.commandUnit, "V");
    assert.equal(typeof e.deadlineMisses, "number");
    assert.equal(typeof e.metrics.secondsUpright, "number");
    assert.ok(e.timingMicros.read.p50 > 0);
  });
  const l = await logEvents(log);
  assert.ok(l.closedCleanly);
  assert.equal(l.metadata.rig, "furuta");
  assert.equal(l.metadata.policy_sha256, policy.manifest.onnx.sha256);
  assert.equal(l.jointStates, lines[0].cycles + lines[1].cycles, "every cycle is in the log");
  for (const e of lines) assert.ok(e.cycles === 100 || e.reason === "task_ended", `${e.cycles} cycles (${e.reason})`);
  assert.ok(l.events.some((e) => /episode 2: torque off/.test(e)));
  assert.match(r.err, /done: 2 episodes run; [0-2]\/2 episode\(s\) successful/);
});

test("an overload in the motor stops deploy with the decoded error name, torque off and the log closed", async () => {
  const { emu, calibration } = await emulator("overload", ["--continuous-current", "0", "--overload", "0.01"]);
  const log = join(dir, "overload.mcap");
  const r = await deploy(["--policy", policy.onnxPath, "--rig", rigFile, "--port", emu.link, "--calibration", calibration, "--duration", "20", "--log", log]);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /Overload Error/);
  const l = await logEvents(log);
  assert.ok(l.closedCleanly);
  assert.ok(l.events.some((e) => /Overload Error/.test(e)), l.events.join("\n"));
  assert.ok(l.events.some((e) => /torque off/.test(e)));
  // The device keeps its error: the next deploy refuses at activation, naming it.
  const again = await deploy(["--policy", policy.onnxPath, "--rig", rigFile, "--port", emu.link, "--calibration", calibration, "--duration", "1", "--log", join(dir, "overload-again.mcap")]);
  assert.equal(again.code, 1);
  assert.match(again.err, /ID 1 \(arm_joint\).* Overload Error/);
  assert.equal(again.out.includes("episode 1/"), false, "no episode ran");
});

test("the port vanishing mid-episode (emulator killed) ends deploy with a clear error, torque off attempted, log intact", async () => {
  const { emu, calibration } = await emulator("killed");
  const log = join(dir, "killed.mcap");
  let killTimer: NodeJS.Timeout | undefined;
  const r = await deploy(["--policy", policy.onnxPath, "--rig", rigFile, "--port", emu.link, "--calibration", calibration, "--duration", "30", "--log", log], undefined, (t) => {
    // Once the settle wait has begun, the episode starts within ~1-2 s; kill the emulator inside it.
    if (/waiting for the joints/.test(t) && !killTimer) killTimer = setTimeout(() => emu.child.kill("SIGKILL"), 3000);
  });
  assert.equal(r.code, 1);
  assert.match(r.err, /serial port \S*killed\.tty is gone/);
  const exit = await emu.exited;
  assert.equal(exit.signal, "SIGKILL");
  const l = await logEvents(log);
  assert.ok(l.closedCleanly);
  assert.ok(l.jointStates > 50, `the episode ran (${l.jointStates} cycles logged)`);
  assert.ok(l.events.some((e) => /torque off attempted; not confirmed/.test(e)), l.events.join("\n"));
  assert.ok(l.events.some((e) => /control loop stopped \(hardware_error\)/.test(e)));
  for (let i = 0; i < 100 && (existsSync(emu.link) || existsSync(`${emu.link}.device`)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(existsSync(emu.link), false, "socat followed the emulator and removed the port");
  assert.equal(existsSync(`${emu.link}.device`), false, "and the emulator's end");
});
