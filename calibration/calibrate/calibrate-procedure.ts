/**
 * The calibration procedure, on hardware read with a provisional calibration
 * (raw encoder angles: zero 0, direction +1):
 *
 * 1. every joint with hard stops (the rig file's safety.guards): torque on,
 *    seek the lower stop, back off, seek the upper stop (creeping as it comes
 *    near where the rig's travel puts it), back off; the measured travel must
 *    match the rig's (stops at lower/upper) within travelTolerance; the zero
 *    is placed so the two stop readings sit at the rig's stop angles (for
 *    symmetric stops: their midpoint); then park the joint at its centre;
 * 2. torque off; wait until every joint hangs still; average each joint
 *    without a motor (the pendulum): its mean reading is its zero.
 *
 * A motor joint without hard stops cannot be calibrated this way: refused
 * before anything moves.
 */
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { ProcedureFailedError, SessionRefusedError } from "../session/session-guard.js";
import type { SessionLoop } from "../session/session-loop.js";
import { backOff, moveTo, seekStop, type ArmChannel } from "./arm-moves.js";
import { averageHanging, waitStill, type HangingAverage } from "./hanging-zero.js";
import type { CalibrateMotion } from "./motion-config.js";
import { HoldingVolts } from "./velocity-servo.js";
import type { Stall } from "./stall-detector.js";

export interface StopMeasurement {
  joint: string;
  /** Stall readings at the stops, hardware units (raw encoder rad). */
  lower: Stall;
  upper: Stall;
  /** upper - lower, and what the rig file says it is, rad. */
  travel: number;
  expectedTravel: number;
  /** Reading at the joint's zero, hardware units. */
  zero: number;
  /** Largest |speed| measured during the moves, rad/s, and periods the over-speed cut acted. */
  peakSpeed: number;
  speedCuts: number;
}

export interface CalibrateMeasurement {
  stops: StopMeasurement[];
  hanging: HangingAverage[];
}

export interface CalibrateProcedureOptions {
  loop: SessionLoop;
  rig: RigConfig;
  motion: CalibrateMotion;
  onStatus?: (line: string) => void;
}

/** Which joints are calibrated at their stops and which hanging; refuses joints it cannot calibrate. */
export function planCalibration(rig: RigConfig, jointNames: readonly string[], commandNames: readonly string[]): { stops: (ArmChannel & { lower: number; upper: number })[]; hanging: { name: string; index: number }[] } {
  const stops = rig.safety.guards.map((g) => {
    const jointIndex = jointNames.indexOf(g.joint);
    const actuatorIndex = commandNames.indexOf(g.actuator);
    if (jointIndex < 0 || actuatorIndex < 0) throw new SessionRefusedError(`the hardware has no joint ${g.joint} or actuator ${g.actuator} (rig file safety.guards)`);
    return { joint: g.joint, jointIndex, actuatorIndex, sense: g.direction, lower: g.lower, upper: g.upper, holding: new HoldingVolts() };
  });
  const hanging: { name: string; index: number }[] = [];
  for (const d of rig.devices) {
    if (stops.some((s) => s.joint === d.joint)) continue;
    if (d.role === "motor") {
      throw new SessionRefusedError(`joint ${d.joint} is driven by a motor but has no hard stops in the rig file (safety.guards): s2r calibrate finds a driven joint's zero from its stops`);
    }
    const index = jointNames.indexOf(d.joint);
    if (index < 0) throw new SessionRefusedError(`the hardware does not read joint ${d.joint}`);
    hanging.push({ name: d.joint, index });
  }
  return { stops, hanging };
}

export async function runCalibrateProcedure(o: CalibrateProcedureOptions): Promise<CalibrateMeasurement> {
  const { loop, rig, motion: m } = o;
  const hw = loop.hardware;
  const status = o.onStatus ?? (() => {});
  const plan = planCalibration(rig, hw.jointNames, hw.commandNames);
  const period = loop.periodSec;
  const stops: StopMeasurement[] = [];

  await loop.warmUp();
  if (plan.stops.length) {
    await hw.activate();
    for (const arm of plan.stops) {
      const expectedTravel = arm.upper - arm.lower;
      const seek = (direction: 1 | -1, speed: number, expected?: number) => seekStop({ arm, motion: m, periodSec: period, direction, speed, expected, maxTravel: expectedTravel + m.overtravel });
      status(`${arm.joint}: looking for the lower stop at ${m.seekSpeed} rad/s`);
      const lowerSeek = seek(-1, m.seekSpeed);
      await loop.run(lowerSeek);
      const lower = lowerSeek.result.stall!;
      await loop.run(backOff({ arm, motion: m, periodSec: period, from: -1 }));
      status(`${arm.joint}: lower stop at ${lower.position.toFixed(4)} rad (raw); looking for the upper stop about ${expectedTravel} rad away`);
      const upperSeek = seek(1, m.cruiseSpeed, lower.position + expectedTravel);
      await loop.run(upperSeek);
      const upper = upperSeek.result.stall!;
      await loop.run(backOff({ arm, motion: m, periodSec: period, from: 1 }));
      const travel = upper.position - lower.position;
      const measurement: StopMeasurement = {
        joint: arm.joint,
        lower,
        upper,
        travel,
        expectedTravel,
        zero: (lower.position - arm.lower + (upper.position - arm.upper)) / 2,
        peakSpeed: Math.max(lowerSeek.result.peakSpeed, upperSeek.result.peakSpeed),
        speedCuts: lowerSeek.result.cuts + upperSeek.result.cuts,
      };
      loop.event("info", `${arm.joint}: stops at ${lower.position.toFixed(5)} and ${upper.position.toFixed(5)} rad (raw), travel ${travel.toFixed(4)} rad (rig: ${expectedTravel}), zero at ${measurement.zero.toFixed(5)} rad (raw)`);
      if (Math.abs(travel - expectedTravel) > m.travelTolerance) {
        throw new ProcedureFailedError(
          `${arm.joint}: the measured travel between the stops is ${travel.toFixed(3)} rad, but the rig file puts them ${expectedTravel} rad apart (tolerance ${m.travelTolerance} rad): something blocks the arm, a stop moved, or the arm slips on its shaft; no calibration written`,
        );
      }
      stops.push(measurement);
      status(`${arm.joint}: travel ${travel.toFixed(3)} rad (rig: ${expectedTravel}); parking at the centre`);
      await loop.run(moveTo({ arm, motion: m, periodSec: period, target: measurement.zero + (arm.lower + arm.upper) / 2, label: "the centre of its travel" }));
    }
    await hw.deactivate();
  }

  let hanging: HangingAverage[] = [];
  if (plan.hanging.length) {
    status(`torque off; waiting for ${plan.hanging.map((h) => h.name).join(", ")} to hang still (steady it by hand to speed this up)`);
    await loop.run(
      waitStill({
        settle: rig.episodes.settle,
        jointCount: hw.jointNames.length,
        onWait: (s, moved) => status(`still waiting after ${s.toFixed(0)} s (movement ${moved.toFixed(4)} rad; the joints count as still below ${rig.episodes.settle.positionTolerance} rad for ${rig.episodes.settle.stillSeconds} s)`),
      }),
    );
    const average = averageHanging({ joints: plan.hanging, seconds: m.averageSeconds, tolerance: rig.episodes.settle.positionTolerance });
    await loop.run(average);
    hanging = average.result;
  }
  return { stops, hanging };
}
