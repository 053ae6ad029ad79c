/**
 * `s2r calibrate --ros2`: a robot behind ROS 2 (ros2_control) publishes
 * calibrated positions already; its zeros live in the robot's own
 * configuration, out of reach of topics, and ROS 2 offers no torque off, so
 * nothing is driven to the hard stops from here. What can be checked without
 * moving anything is the zero of each joint that hangs under gravity (the
 * pendulum): wait until it is still, average it, and compare with 0. Driven
 * joints are only checked to read within their stops. Nothing is written: a
 * zero found off by more than the tolerance is reported, to be fixed on the
 * robot's side.
 */
import type { Ticker } from "../../robot/control/control-loop.js";
import { implausiblePositions } from "../../robot/control/rig-safety.js";
import type { HardwareInterface } from "../../robot/hardware/interface.js";
import type { SessionLog } from "../../robot/log/session-log.js";
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { RigUnits } from "../../robot/rigs/units.js";
import { SafetyLayer } from "../../robot/safety.js";
import { guardSession, ProcedureFailedError, SessionRefusedError, type SessionEnd } from "../session/session-guard.js";
import { SessionLoop } from "../session/session-loop.js";
import { planCalibration } from "./calibrate-procedure.js";
import { averageHanging, waitStill } from "./hanging-zero.js";
import { calibrateMotion } from "./motion-config.js";

export interface ZeroCheck {
  joint: string;
  /** Mean reading hanging still, rad and counts (0 is a perfect zero). */
  offset: number;
  offsetCounts: number;
  spreadCounts: number;
  samples: number;
  pass: boolean;
}

export interface Ros2ZeroCheckResult {
  end: SessionEnd;
  checks: ZeroCheck[];
  toleranceCounts: number;
  loop: SessionLoop;
}

export async function runRos2ZeroCheck(o: {
  hardware: HardwareInterface;
  rig: RigConfig;
  log: SessionLog;
  /** Largest acceptable |offset|, counts; default 5 (what calibration must achieve). */
  toleranceCounts?: number;
  averageSeconds?: number;
  periodSec?: number;
  signal?: AbortSignal;
  ticker?: (periodSec: number) => Ticker;
  onStatus?: (line: string) => void;
}): Promise<Ros2ZeroCheckResult> {
  const { hardware: hw, rig, log } = o;
  const tolerance = o.toleranceCounts ?? 5;
  const perCount = RigUnits.of(rig).radPerCount;
  const periodSec = o.periodSec ?? rig.control.maxPeriodSec;
  const loop = new SessionLoop({
    hardware: hw,
    log,
    periodSec,
    // Nothing is driven: a zero limit makes sure of it.
    safety: new SafetyLayer({ commandLimits: hw.commandNames.map(() => 0), guards: [] }),
    deadlines: rig.safety.deadlines.calibrate,
    signal: o.signal,
    ticker: o.ticker,
  });
  const checks: ZeroCheck[] = [];
  const { end } = await guardSession(hw, log, async () => {
    log.event("info", `ROS 2 zero check of ${rig.name}: the robot publishes calibrated positions; the hanging joints' zeros are checked, nothing is moved or written`);
    const plan = planCalibration(rig, hw.jointNames, hw.commandNames);
    if (plan.hanging.length === 0) throw new SessionRefusedError(`rig ${rig.name} has no hanging joint to check over ROS 2 (its driven joints' zeros are the robot's own configuration)`);
    const first = await hw.read();
    const bad = implausiblePositions(rig, hw.jointNames, first.position);
    if (bad) throw new ProcedureFailedError(`the robot's calibration is wrong: ${bad}`);
    o.onStatus?.(`waiting for ${plan.hanging.map((h) => h.name).join(", ")} to hang still (steady it by hand to speed this up)`);
    await loop.run(waitStill({ settle: rig.episodes.settle, jointCount: hw.jointNames.length, onWait: (s) => o.onStatus?.(`still waiting after ${s.toFixed(0)} s`) }));
    const average = averageHanging({ joints: plan.hanging, seconds: o.averageSeconds ?? calibrateMotion().averageSeconds, tolerance: rig.episodes.settle.positionTolerance });
    await loop.run(average);
    for (const a of average.result) {
      const offsetCounts = a.mean / perCount;
      const check = { joint: a.joint, offset: a.mean, offsetCounts, spreadCounts: a.stddev / perCount, samples: a.samples, pass: Math.abs(offsetCounts) <= tolerance };
      checks.push(check);
      log.event(check.pass ? "info" : "error", `zero check ${a.joint}: reads ${a.mean.toFixed(5)} rad (${offsetCounts.toFixed(2)} counts) hanging still; tolerance ${tolerance} counts: ${check.pass ? "pass" : "FAIL"}`);
    }
    const failed = checks.filter((c) => !c.pass);
    if (failed.length) {
      throw new ProcedureFailedError(
        failed.map((c) => `${c.joint} reads ${c.offset.toFixed(4)} rad (${c.offsetCounts.toFixed(1)} counts) hanging still, beyond the ${tolerance}-count tolerance`).join("; ") +
          ": the robot's own zero for it (its ros2_control configuration) needs correcting by that much",
      );
    }
  });
  return { end, checks, toleranceCounts: tolerance, loop };
}
