/**
 * The calibration procedure on the simulator in lockstep (SimHardware): the
 * stop search, stall detection, travel check, hanging average, refusals and
 * interruption, each in a fraction of real time. The same session code runs
 * against the real-time emulator over a pty in calibrate-emulator.test.ts and
 * acceptance-emulator.test.ts.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../../common/paths.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { LockstepTicker } from "../../robot/control/control-loop.js";
import { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { rigConfigSchema, type RigConfig } from "../../robot/rigs/rig-config.js";
import { runCalibrateSession } from "../../calibration/calibrate/calibrate-session.js";
import { MoveBudget } from "../../calibration/calibrate/move-budget.js";
import { approachSpeed } from "../../calibration/calibrate/arm-moves.js";
import { HoldingVolts, VelocityServo } from "../../calibration/calibrate/velocity-servo.js";
import { calibrateMotion } from "../../calibration/calibrate/motion-config.js";
import { StallDetector } from "../../calibration/calibrate/stall-detector.js";
import { writeCalibrateReport } from "../../calibration/calibrate/calibrate-report.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-calibrate-sim-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const COUNT = (2 * Math.PI) / 4096;
const baseRig = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
const rigOf = (edit: (r: Record<string, any>) => void = () => {}): RigConfig => {
  const r = JSON.parse(JSON.stringify(baseRig));
  edit(r);
  return rigConfigSchema.parse(r, "");
};
const rig = rigOf();
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "task"));

/** Friction, dead zone and latency at the top of the task's ranges; encoder zeros off by known amounts; a pendulum that settles fast. */
const PARAMS = {
  "joints.arm_joint.friction": 0.003,
  "actuators.arm.deadZone": 0.3,
  "actuators.arm.latency": 0.01,
  "sensors.arm.offset": 0.7,
  "sensors.pendulum.offset": 0.004,
  "sensors.arm.noise": COUNT,
  "sensors.pendulum.noise": COUNT,
  "joints.pendulum_joint.damping": 2e-3,
};

async function session(name: string, o: { rig?: RigConfig; params?: Record<string, number>; initial?: Record<string, number>; signal?: AbortSignal } = {}) {
  const hw = await SimHardware.create({ setup, params: { ...PARAMS, ...o.params }, initial: o.initial, seed: 4 });
  const log = SessionLog.create(join(dir, `${name}.mcap`), { session: "calibrate" });
  const result = await runCalibrateSession({ hardware: hw, rig: o.rig ?? rig, log, ticker: (p) => new LockstepTicker(p), signal: o.signal });
  return { hw, log, result };
}

async function loggedArmSpeeds(file: string): Promise<{ peak: number; closedCleanly: boolean; events: string[] }> {
  let peak = 0;
  const events: string[] = [];
  const c = await readSessionLog(file, {
    onMessage: (m) => {
      if (m.topic === "/joint_states") peak = Math.max(peak, Math.abs((m.decode().velocity as number[])[0]!));
      if (m.topic === "/events") events.push(String(m.decode().msg));
    },
  });
  return { peak, closedCleanly: c.closedCleanly, events };
}

test("finds the arm's zero from its stops and the pendulum's hanging, moving slower than 0.5 rad/s", async () => {
  const { hw, log, result } = await session("ok", { initial: { arm_joint: 0.6 } });
  try {
    assert.equal(result.end.outcome, "completed", result.end.message);
    const arm = result.findings!.find((f) => f.joint === "arm_joint")!;
    const pend = result.findings!.find((f) => f.joint === "pendulum_joint")!;
    assert.ok(Math.abs(arm.zeroCounts - 0.7 / COUNT) < 2, `arm zero ${arm.zeroCounts} counts, true ${0.7 / COUNT}`);
    assert.ok(Math.abs(pend.zeroCounts - 0.004 / COUNT) < 2, `pendulum zero ${pend.zeroCounts} counts, true ${0.004 / COUNT}`);
    assert.ok(Math.abs(arm.travel! - 4) < 0.02, `travel ${arm.travel}`);
    assert.equal(result.calibration!.joints.arm_joint!.zeroCounts, Math.round(arm.zeroCounts * 1000) / 1000);
    assert.ok(arm.peakSpeed! < 0.5);
    // Torque is off at the end, the arm parked near its centre.
    assert.equal(hw.torqueEnabled, false);
    const f = await hw.read();
    assert.ok(Math.abs(f.position[0]! - 0.7) < 0.1, `parked at ${f.position[0]! - 0.7} rad from the centre`);

    const logged = await loggedArmSpeeds(log.file);
    assert.ok(logged.closedCleanly);
    assert.ok(logged.peak > 0.2 && logged.peak <= 0.5, `logged arm speeds up to ${logged.peak} rad/s`);
    assert.ok(logged.events.some((e) => /seek the lower stop of arm_joint: done/.test(e)) && logged.events.some((e) => /seek the upper stop of arm_joint: done/.test(e)));
    assert.ok(logged.events.includes("torque off"));

    const report = join(dir, "ok.html");
    writeCalibrateReport(report, { rig, result, logFile: log.file });
    const html = readFileSync(report, "utf8");
    assert.ok(html.includes("<svg") && html.includes("measured speed and the speed limit") && html.includes("zero (counts)"));
  } finally {
    await hw.close();
  }
});

test("a stall ends each search at the stop: the arm presses it and never exceeds the speed limit", async () => {
  // Starting right against the lower stop: the very first move is a stall.
  const { hw, result } = await session("at-stop", { initial: { arm_joint: -2.0 }, params: { "sensors.arm.offset": 0 } });
  try {
    assert.equal(result.end.outcome, "completed", result.end.message);
    const arm = result.findings!.find((f) => f.joint === "arm_joint")!;
    assert.ok(Math.abs(arm.lowerStopCounts! * COUNT + 2) < 0.01, `lower stop at ${arm.lowerStopCounts! * COUNT} rad`);
    assert.ok(Math.abs(arm.upperStopCounts! * COUNT - 2) < 0.01, `upper stop at ${arm.upperStopCounts! * COUNT} rad`);
    const rec = result.loop.recorder;
    const v = rec.velocity("arm_joint");
    for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]!) <= 0.5, `speed ${v[i]} rad/s at ${rec.t[i]} s`);
    const seek = result.loop.phases.find((p) => p.name === "seek the lower stop of arm_joint")!;
    assert.ok(seek.seconds < 3, `the search at the stop took ${seek.seconds} s`);
  } finally {
    await hw.close();
  }
});

test("the speed loop cuts the voltage above cutSpeed and ramps it; the stall detector needs voltage, stillness and time", () => {
  const m = calibrateMotion();
  const servo = new VelocityServo(m);
  assert.equal(servo.step(0.3, 0.45, 0.01), 0);
  assert.ok(servo.cut);
  servo.reset();
  let v = 0;
  for (let i = 0; i < 10; i++) v = servo.step(0.3, 0, 0.01);
  assert.ok(v > 0 && v <= 10 * m.slewVoltsPerSec * 0.01 + 1e-12, `voltage after 0.1 s: ${v}`);
  for (let i = 0; i < 1000; i++) v = servo.step(0.3, 0, 0.01);
  assert.equal(v, m.maxVolts);

  const s = new StallDetector(m, 1);
  // Still, but not pushing hard enough: no stall.
  for (let i = 0; i < 100; i++) assert.equal(s.update(i * 0.01, 1.5, 0, 1.0), undefined);
  // Pushing but moving: no stall.
  for (let i = 100; i < 200; i++) assert.equal(s.update(i * 0.01, 2.5, 0.2, 1 + i * 0.002), undefined);
  // Pushing the wrong way: no stall.
  for (let i = 200; i < 300; i++) assert.equal(s.update(i * 0.01, -2.5, 0, 1.5), undefined);
  let stall;
  for (let i = 300; i < 400 && !stall; i++) stall = s.update(i * 0.01, 2.5, 0, 1.5 + (i % 2) * 0.001);
  assert.ok(stall && Math.abs(stall.position - 1.5005) < 1e-3 && stall.samples >= 30, JSON.stringify(stall));
});

test("a travel that does not match the rig's is a failure: nothing calibrated, torque off, log complete", async () => {
  // The rig file claims stops at +-1.5 rad; the robot's are at +-2.0.
  const short = rigOf((r) => {
    r.safety.guards[0].lower = -1.5;
    r.safety.guards[0].upper = 1.5;
  });
  const { hw, log, result } = await session("short", { rig: short });
  try {
    assert.equal(result.end.outcome, "failed");
    assert.equal(result.calibration, undefined);
    assert.match(result.end.message, /no upper stop of arm_joint where the rig's travel puts it|measured travel between the stops is/);
    assert.equal(hw.torqueEnabled, false);
    assert.ok((await loggedArmSpeeds(log.file)).closedCleanly);
  } finally {
    await hw.close();
  }
});

test("a driven joint without hard stops is refused before anything moves", async () => {
  const noGuard = rigOf((r) => {
    r.safety.guards = [];
    delete r.episodes.home;
  });
  const { hw, result } = await session("no-guard", { rig: noGuard });
  try {
    assert.equal(result.end.outcome, "refused");
    assert.match(result.end.message, /arm_joint is driven by a motor but has no hard stops/);
    assert.equal(hw.writes, 0);
  } finally {
    await hw.close();
  }
});

test("an interrupted session stops at once with torque off and a readable log", async () => {
  const controller = new AbortController();
  const hw = await SimHardware.create({ setup, params: PARAMS, seed: 4 });
  const log = SessionLog.create(join(dir, "interrupted.mcap"), { session: "calibrate" });
  let cycles = 0;
  const ticker = (p: number) => {
    const inner = new LockstepTicker(p);
    return {
      lockstep: true,
      async waitNext() {
        if (++cycles === 300) controller.abort(new Error("SIGINT"));
        return inner.waitNext();
      },
    };
  };
  try {
    const result = await runCalibrateSession({ hardware: hw, rig, log, ticker, signal: controller.signal });
    assert.equal(result.end.outcome, "interrupted");
    assert.match(result.end.message, /interrupted during seek the lower stop of arm_joint \(SIGINT\)/);
    assert.equal(hw.torqueEnabled, false);
    const logged = await loggedArmSpeeds(log.file);
    assert.ok(logged.closedCleanly);
    assert.ok(logged.events.includes("torque off"));
    assert.ok(logged.events.some((e) => /calibrate session ended \(interrupted\)/.test(e)));
  } finally {
    await hw.close();
  }
});

/** The corners of the rig page's ranges (robot/emulator/units/furuta-*.json, as table values). */
const CORNERS: Record<string, Record<string, number>> = {
  weak: { "actuators.arm.Rm": 8.4 * 1.2, "actuators.arm.km": 0.042 * 0.8, "joints.arm_joint.friction": 0.003, "actuators.arm.deadZone": 0.3, "actuators.arm.latency": 0.01 },
  strong: { "actuators.arm.Rm": 8.4 * 0.8, "actuators.arm.km": 0.042 * 1.2, "joints.arm_joint.friction": 0, "actuators.arm.deadZone": 0, "actuators.arm.latency": 0 },
};

for (const [corner, params] of Object.entries(CORNERS)) {
  test(`the ${corner} corner of the rig page's ranges calibrates within each move's derived time limit, never above 0.5 rad/s`, async () => {
    const { hw, result } = await session(`corner-${corner}`, { initial: { arm_joint: 0.3 }, params });
    try {
      assert.equal(result.end.outcome, "completed", result.end.message);
      const arm = result.findings!.find((f) => f.joint === "arm_joint")!;
      assert.ok(Math.abs(arm.zeroCounts - 0.7 / COUNT) < 2, `arm zero ${arm.zeroCounts} counts, true ${0.7 / COUNT}`);
      assert.ok(arm.peakSpeed! < 0.5, `peak ${arm.peakSpeed} rad/s`);
      const v = result.loop.recorder.velocity("arm_joint");
      for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]!) <= 0.5, `speed ${v[i]} rad/s`);
      // The far approach cruises: the upper seek covers ~4 rad in well under the old 40 s.
      const upper = result.loop.phases.find((p) => p.name === "seek the upper stop of arm_joint")!;
      assert.ok(upper.seconds < 15, `upper seek took ${upper.seconds} s`);
    } finally {
      await hw.close();
    }
  });
}

test("a move's time limit follows the speed the arm achieves; the servo starts the next move from the voltage that held the arm", () => {
  const m = calibrateMotion();
  const budget = new MoveBudget(m, [{ distance: 3.7, speed: 0.35 }, { distance: 0.3, speed: 0.1 }]);
  assert.ok(Math.abs(budget.plannedSeconds - (3.7 / 0.35 + 3)) < 1e-9);
  const onTime = budget.limitSeconds;
  // The arm makes 60 % of the asked-for speed: the limit stretches by 1/0.6.
  for (let i = 0; i < 500; i++) budget.update(0.35, 0.21, 0.01);
  assert.ok(Math.abs(budget.achievedRatio - 0.6) < 1e-9);
  assert.ok(Math.abs(budget.limitSeconds - budget.allowanceSeconds - (onTime - budget.allowanceSeconds) / 0.6) < 1e-9);
  // A stuck arm does not get forever.
  const stuck = new MoveBudget(m, [{ distance: 1, speed: 0.35 }]);
  for (let i = 0; i < 500; i++) stuck.update(0.35, 0, 0.01);
  assert.equal(stuck.achievedRatio, m.minSpeedRatio);
  assert.match(stuck.describe(), /achieved 25 % of them/);

  const holding = new HoldingVolts();
  const first = new VelocityServo(m, holding);
  assert.ok(Math.abs(first.step(0.01, 0, 0.01)) < 0.1, "no memory yet: the first move starts from nothing");
  for (let i = 0; i < 200; i++) first.step(0.3, 0.29, 0.01);
  assert.ok(holding.volts > 0);
  const next = new VelocityServo(m, holding);
  const v = next.step(-0.01, 0, 0.01);
  // From the feed-forward, a still arm's push rises at the slew limit.
  assert.ok(v < 0 && Math.abs(v) >= m.feedForwardFraction * holding.volts - 0.05 && Math.abs(v) <= holding.volts + m.slewVoltsPerSec * 0.01, `starts at ${v} V, held at ${holding.volts} V`);
});

test("the approach to an expected stop cruises while far and brakes to creep speed before the creep zone; a pressed arm's push rises at the slew limit", () => {
  const m = calibrateMotion();
  assert.equal(approachSpeed(m, m.cruiseSpeed, 3), m.cruiseSpeed);
  assert.equal(approachSpeed(m, m.cruiseSpeed, m.creepZone), m.creepSpeed);
  assert.equal(approachSpeed(m, m.cruiseSpeed, -0.05), m.creepSpeed);
  let last = Infinity;
  for (let d = 1; d >= m.creepZone; d -= 0.01) {
    const v = approachSpeed(m, m.cruiseSpeed, d);
    assert.ok(v <= last + 1e-12 && v >= m.creepSpeed, `speed ${v} at ${d} rad`);
    // Never faster than the move's acceleration can bring down to creep speed by the creep zone.
    assert.ok(v * v - m.creepSpeed * m.creepSpeed <= 2 * m.acceleration * (d - m.creepZone) + 1e-9);
    last = v;
  }
  // Pressed on a stop at creep speed: the stall voltage within its slew time and a few periods, not ki x 0.1 rad/s (seconds).
  const servo = new VelocityServo(m);
  let t = 0;
  while (servo.step(m.creepSpeed, 0, 0.01) < m.stallVolts) t += 0.01;
  assert.ok(t <= m.stallVolts / m.slewVoltsPerSec + 0.05, `${t} s to the stall voltage`);
});
