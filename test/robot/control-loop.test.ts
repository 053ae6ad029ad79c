import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest } from "../../policies/manifest.js";
import { OnnxPolicy } from "../../policies/runtime/onnx-policy.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { BusSilenceError } from "../../robot/hardware/interface.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { LockstepTicker, runControlLoop } from "../../robot/control/control-loop.js";
import { runDeploySession } from "../../robot/control/deploy-session.js";
import { bindPolicyToRig } from "../../robot/control/policy-binding.js";
import { writeRandomPolicy } from "../../robot/control/random-policy.js";
import { rigSafetyLayer } from "../../robot/control/rig-safety.js";
import { loadRigConfig } from "../../robot/rigs/rig-config.js";
import { UNLIMITED_DEADLINES, type DeadlineLimits } from "../../robot/control/deadline-policy.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-control-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const rig = loadRigConfig("furuta");
const files = writeRandomPolicy(dir, { task: "furuta", seed: 3 });
const binding = bindPolicyToRig(readManifest(files.manifestPath), rig);
const setup = setupTask(getTask("furuta"), binding.taskConfig);
/** Pendulum friction and damping well above nominal so the settle waits stay short. */
const QUICK_SETTLE = { "joints.pendulum_joint.damping": 2e-3, "joints.pendulum_joint.friction": 2e-4, "joints.arm_joint.friction": 3e-3 };

interface LogDigest {
  counts: Record<string, number>;
  events: string[];
  closedCleanly: boolean;
  firstArm: number | undefined;
}

async function digest(file: string): Promise<LogDigest> {
  const counts: Record<string, number> = {};
  const events: string[] = [];
  let firstArm: number | undefined;
  const c = await readSessionLog(file, {
    onMessage: (m) => {
      counts[m.topic] = (counts[m.topic] ?? 0) + 1;
      if (m.topic === "/events") events.push(String(m.decode().msg));
      if (m.topic === "/joint_states" && firstArm === undefined) firstArm = (m.decode().position as number[])[0];
    },
  });
  return { counts, events, closedCleanly: c.closedCleanly, firstArm };
}

async function parts(name: string, params: Record<string, number> = QUICK_SETTLE, initial?: Record<string, number>) {
  const hw = await SimHardware.create({ setup, params, initial });
  const policy = await OnnxPolicy.load(files.onnxPath, files.manifestPath);
  const file = join(dir, `${name}.mcap`);
  const log = SessionLog.create(file, { session: "deploy", metadata: { test: name } });
  return { hw, policy, file, log };
}

test("two lockstep episodes: homing and settle before each, every cycle logged, torque off at the end", async () => {
  const { hw, policy, file, log } = await parts("episodes", QUICK_SETTLE, { arm_joint: 0.8 });
  const reports: number[] = [];
  try {
    const r = await runDeploySession({
      hardware: hw,
      policy,
      binding,
      rig,
      log,
      episodes: 2,
      episodeSeconds: 1,
      ticker: (p) => new LockstepTicker(p),
      onEpisode: (e) => reports.push(e.cycles),
    });
    assert.equal(r.reason, "completed", r.message);
    assert.equal(r.fault, false);
    assert.equal(r.episodes.length, 2);
    for (const e of r.episodes) {
      assert.ok(e.reason === "completed" || e.reason === "task_ended", e.message);
      assert.ok(e.peakCommand[0]! > 0 && e.peakCommand[0]! <= 6 + 1e-9, `peak ${e.peakCommand[0]} V within the 6 V limit`);
      assert.equal(e.deadlineMisses, 0);
      assert.equal(typeof e.metrics.secondsUpright, "number");
    }
    assert.deepEqual(reports, r.episodes.map((e) => e.cycles));
    assert.equal(hw.torqueEnabled, false);
    const d = await digest(file);
    assert.ok(d.closedCleanly);
    const cycles = r.episodes.reduce((s, e) => s + e.cycles, 0);
    for (const topic of ["/joint_states", "/commands", "/policy", "/timing"]) assert.equal(d.counts[topic], cycles, topic);
    // Homing brought the arm from 0.8 rad back near its centre before the first episode.
    assert.ok(Math.abs(d.firstArm!) < 0.15, `first episode starts at arm ${d.firstArm}`);
    assert.ok(d.events.some((e) => /episode 1: homing reached arm_joint/.test(e)), d.events.join("\n"));
    assert.ok(d.events.some((e) => /episode 2 started/.test(e)));
    assert.match(d.events.at(-1)!, /deploy session ended \(completed\)/);
  } finally {
    policy.dispose();
    await hw.close();
  }
});

test("a policy whose output overflows to NaN stops the loop before any write of it: torque off, log readable", async () => {
  const nanFiles = writeRandomPolicy(dir, {
    task: "furuta",
    name: "overflow",
    gru: 0,
    osi: false,
    editParts: (p) => {
      // Zero at the all-zero warm-up input; once cos(theta) = 1 two units overflow to +inf and inf - inf = NaN.
      p.obsNormalizer = undefined;
      const w1 = new Float32Array(2 * p.obsSize);
      w1[1] = 1e38;
      w1[p.obsSize + 1] = 1e38;
      p.actor = {
        layers: [
          { kind: "linear", inFeatures: p.obsSize, outFeatures: 2, weight: w1, bias: new Float32Array(2) },
          { kind: "elu" },
          { kind: "linear", inFeatures: 2, outFeatures: 2, weight: Float32Array.from([1e38, 0, 0, 1e38]), bias: new Float32Array(2) },
          { kind: "elu" },
          { kind: "linear", inFeatures: 2, outFeatures: 1, weight: Float32Array.from([1, -1]), bias: new Float32Array(1) },
        ],
      };
    },
  });
  const nanBinding = bindPolicyToRig(readManifest(nanFiles.manifestPath), rig);
  const hw = await SimHardware.create({ setup });
  const policy = await OnnxPolicy.load(nanFiles.onnxPath, nanFiles.manifestPath);
  const file = join(dir, "nan.mcap");
  const log = SessionLog.create(file, { session: "deploy" });
  try {
    const r = await runDeploySession({ hardware: hw, policy, binding: nanBinding, rig, log, episodes: 1, episodeSeconds: 1, ticker: (p) => new LockstepTicker(p), skipSettle: true });
    assert.equal(r.reason, "nan_action");
    assert.equal(r.fault, true);
    assert.match(r.message, /non-finite action \(arm = NaN\) at cycle 0/);
    assert.equal(hw.writes, 0, "the NaN never reached the hardware");
    assert.equal(hw.torqueEnabled, false);
    const d = await digest(file);
    assert.ok(d.closedCleanly);
    const torqueOff = d.events.findIndex((e) => /episode 1: torque off/.test(e));
    const stopped = d.events.findIndex((e) => /control loop stopped \(nan_action\)/.test(e));
    assert.ok(torqueOff >= 0 && stopped > torqueOff, d.events.join("\n"));
  } finally {
    policy.dispose();
    await hw.close();
  }
});

test("aborting the signal mid-episode (SIGINT) turns torque off and leaves a complete log", async () => {
  const { hw, policy, file, log } = await parts("abort");
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("SIGINT")), 150);
  try {
    const r = await runDeploySession({ hardware: hw, policy, binding, rig, log, episodes: 1, episodeSeconds: 600, signal: controller.signal, ticker: (p) => new LockstepTicker(p), skipSettle: true });
    assert.equal(r.reason, "interrupted");
    assert.equal(r.fault, false);
    assert.match(r.message, /interrupted \(SIGINT\)/);
    const ran = r.episodes[0]!.cycles;
    assert.ok(ran > 10 && ran < 60_000, `stopped mid-episode after ${ran} cycles`);
    assert.equal(hw.torqueEnabled, false);
    const d = await digest(file);
    assert.ok(d.closedCleanly);
    assert.equal(d.counts["/joint_states"], ran, "every cycle is in the log");
    assert.ok(d.events.some((e) => /torque off/.test(e)));
  } finally {
    clearTimeout(timer);
    policy.dispose();
    await hw.close();
  }
});

/** Something else hogs the process for `busyMs` every `everyMs` (a long GC pause, a blocking call, a starved thread). */
function hogEventLoop(busyMs: number, everyMs: number): NodeJS.Timeout {
  return setInterval(() => {
    const t = performance.now();
    while (performance.now() - t < busyMs) {
      /* stalled */
    }
  }, everyMs);
}

async function loopUnderHog(name: string, busyMs: number, everyMs: number, deadlines: DeadlineLimits, maxCycles: number) {
  const { hw, policy, file, log } = await parts(name);
  let hog: NodeJS.Timeout | undefined;
  try {
    await hw.activate();
    const common = { hardware: hw, policy, observation: binding.observation, actions: binding.actions, safety: rigSafetyLayer(rig, hw.jointNames, hw.commandNames), periodSec: binding.periodSec };
    // First use of onnxruntime, the log and the loop's code is slow (lazy setup, JIT): a short run first, into its own log, so only the hog is late.
    const warmLog = SessionLog.create(join(dir, `${name}-warm.mcap`), { session: "deploy" });
    await runControlLoop({ ...common, log: warmLog, maxCycles: 20, deadlines: UNLIMITED_DEADLINES });
    await warmLog.close();
    await hw.activate();
    hog = hogEventLoop(busyMs, everyMs);
    const r = await runControlLoop({
      hardware: hw,
      policy,
      observation: binding.observation,
      actions: binding.actions,
      safety: rigSafetyLayer(rig, hw.jointNames, hw.commandNames),
      log,
      periodSec: binding.periodSec,
      maxCycles,
      deadlines,
    });
    return { r, file, torqueEnabled: hw.torqueEnabled };
  } finally {
    if (hog) clearInterval(hog);
    await log.close();
    policy.dispose();
    await hw.close();
  }
}

test("a state older than the stale-state limit stops the loop with torque off (real-time ticker, stalled event loop)", async () => {
  const { r, file, torqueEnabled } = await loopUnderHog("stale", 35, 40, { recoveries: 0, staleStateSec: 0.03, maxConsecutiveLate: 1000, missRate: { windowSec: 10, maxFraction: 1 } }, 500);
  assert.equal(r.reason, "deadline_limit");
  assert.equal(r.fault, true);
  assert.match(r.message, /no fresh state for \d+\.\d ms, more than the stale-state limit of 30 ms/);
  assert.ok(r.deadlineStats.longestStaleSec > 0.03);
  assert.ok(r.cycles < 100, `stopped early (${r.cycles} cycles)`);
  assert.equal(torqueEnabled, false);
  const d = await digest(file);
  assert.ok(d.closedCleanly);
  assert.ok(d.events.some((e) => /stale-state limit/.test(e)));
});

test("scattered late cycles within the deploy limits do not stop the loop; each is logged with its cause (the old budget of 3 stopped it)", async () => {
  // Limits wider than the rig's deploy limits: this shared machine is late on its own too (each limit has its own test).
  const deploy = { ...rig.safety.deadlines.deploy, staleStateSec: 0.3, maxConsecutiveLate: 10, missRate: { windowSec: 2, maxFraction: 0.4 } };
  const { r, file } = await loopUnderHog("scattered", 25, 400, deploy, 300);
  assert.equal(r.reason, "completed", r.message);
  assert.ok(r.deadlineMisses > 3, `${r.deadlineMisses} late cycles (more than the old budget of 3)`);
  assert.equal(r.deadlineStats.causes.scheduling + r.deadlineStats.causes.read + r.deadlineStats.causes.inference + r.deadlineStats.causes.write, r.deadlineMisses);
  assert.ok(r.deadlineStats.longestStaleSec < deploy.staleStateSec);
  const events: string[] = [];
  let lateTimings = 0;
  let causes = 0;
  await readSessionLog(file, {
    onMessage: (m) => {
      if (m.topic === "/events") events.push(String(m.decode().msg));
      if (m.topic === "/timing") {
        const v = m.decode() as { deadline_missed: boolean; late_cause: string; stale_ms: number };
        if (v.deadline_missed) lateTimings++;
        if (v.late_cause !== "") causes++;
      }
    },
  });
  assert.equal(events.filter((e) => /late cycle \d+ \((scheduling|read|inference|write)\)/.test(e)).length, r.deadlineMisses);
  assert.equal(lateTimings, r.deadlineMisses);
  assert.equal(causes, r.deadlineMisses);
});

test("a miss rate above the limit over its window stops the loop", async () => {
  const { r, torqueEnabled } = await loopUnderHog("rate", 12, 25, { recoveries: 0, staleStateSec: 1, maxConsecutiveLate: 1000, missRate: { windowSec: 0.5, maxFraction: 0.05 } }, 500);
  assert.equal(r.reason, "deadline_limit");
  assert.match(r.message, /late cycles in the last 50 \(.*\), more than the limit of 5\.0 % over 0\.5 s/);
  assert.equal(torqueEnabled, false);
});

/** The hardware, with its bus silent at the given reads (numbered from 0). */
function silentAtReads(hw: SimHardware, reads: number[]) {
  let n = 0;
  return {
    name: hw.name,
    jointNames: hw.jointNames,
    commandNames: hw.commandNames,
    commandUnit: hw.commandUnit,
    effortUnit: hw.effortUnit,
    activate: () => hw.activate(),
    async read() {
      if (reads.includes(n++)) throw new BusSilenceError("furuta: read: Sync Read to ID 1: no status packet after 10.1 ms (attempt 2 of 2)");
      return hw.read();
    },
    write: (c: ArrayLike<number>) => hw.write(c),
    deactivate: () => hw.deactivate(),
    close: () => hw.close(),
  };
}

test("deploy: the bus falling silent while preparing or during an episode costs a recovery, not the session; beyond the rig's recoveries it ends", async () => {
  for (const [recoveries, expect] of [
    [2, "completed"],
    [1, "hardware_error"],
  ] as const) {
    const { hw, policy, log } = await parts(`silent-${recoveries}`, QUICK_SETTLE);
    const r2 = { ...rig, safety: { ...rig.safety, deadlines: { ...rig.safety.deadlines, deploy: { ...rig.safety.deadlines.deploy, recoveries } } } };
    try {
      // Read 0 is the first episode's first reading (preparing); read 400 falls in an episode's loop.
      const r = await runDeploySession({ hardware: silentAtReads(hw, [0, 400]), policy, binding, rig: r2, log, episodes: 2, episodeSeconds: 3, ticker: (p) => new LockstepTicker(p) });
      assert.equal(r.reason, expect, r.message);
      if (expect === "completed") {
        assert.equal(r.episodes.length, 2);
        assert.equal(r.episodes.filter((e) => e.reason === "hardware_error").length, 1, "the episode the bus fell silent in counts as failed");
        assert.equal(r.episodes.reduce((n, e) => n + e.deadlineStats.recoveries, 0), 1);
      }
      assert.equal(hw.torqueEnabled, false);
    } finally {
      await log.close().catch(() => undefined);
      policy.dispose();
      await hw.close();
    }
  }
});
