/**
 * From what the procedure measured (in raw encoder radians: the hardware was
 * read with the provisional calibration below) to the rig's calibration file
 * (robot/rigs/calibration.ts), in encoder counts.
 */
import { CALIBRATION_SCHEMA_VERSION, type Calibration } from "../../robot/rigs/calibration.js";
import { rigJointOrder, type RigConfig } from "../../robot/rigs/rig-config.js";
import { RigUnits } from "../../robot/rigs/units.js";
import type { CalibrateMeasurement } from "./calibrate-procedure.js";

export const CALIBRATE_METHOD = "s2r calibrate: driven joints from their hard stops, hanging joints from their still average";

/** Zero 0 and direction +1 for every joint: positions read as raw counts times radians per count. */
export function provisionalCalibration(rig: RigConfig): Calibration {
  return {
    schema: CALIBRATION_SCHEMA_VERSION,
    rig: rig.name,
    method: "provisional (raw encoder angles), used only while calibrating",
    joints: Object.fromEntries(rigJointOrder(rig).map((j) => [j, { zeroCounts: 0, direction: 1 as const }])),
  };
}

/** What was measured, in counts, per joint: for the report, the log and the command's output. */
export interface JointFindings {
  joint: string;
  method: "stops" | "hanging";
  zeroCounts: number;
  /** Uncertainty of zeroCounts (standard error), counts. */
  stddevCounts: number;
  /** Stops: the two stall readings, counts; travel and the rig's, rad. */
  lowerStopCounts?: number;
  upperStopCounts?: number;
  travel?: number;
  expectedTravel?: number;
  peakSpeed?: number;
  /** Hanging: spread (standard deviation) of the readings averaged, counts, and their number. */
  spreadCounts?: number;
  samples?: number;
}

export function findingsOf(rig: RigConfig, m: CalibrateMeasurement): JointFindings[] {
  const perCount = RigUnits.of(rig).radPerCount;
  const out: JointFindings[] = [];
  for (const s of m.stops) {
    const se = 0.5 * Math.sqrt(s.lower.stddev ** 2 / s.lower.samples + s.upper.stddev ** 2 / s.upper.samples);
    out.push({
      joint: s.joint,
      method: "stops",
      zeroCounts: s.zero / perCount,
      stddevCounts: se / perCount,
      lowerStopCounts: s.lower.position / perCount,
      upperStopCounts: s.upper.position / perCount,
      travel: s.travel,
      expectedTravel: s.expectedTravel,
      peakSpeed: s.peakSpeed,
    });
  }
  for (const h of m.hanging) {
    out.push({ joint: h.joint, method: "hanging", zeroCounts: h.mean / perCount, stddevCounts: h.stddev / Math.sqrt(h.samples) / perCount, spreadCounts: h.stddev / perCount, samples: h.samples });
  }
  return out;
}

/** The calibration file's content; every joint of the rig must have been measured. */
export function calibrationFromFindings(rig: RigConfig, findings: readonly JointFindings[], createdAt = new Date()): Calibration {
  const joints: Calibration["joints"] = {};
  for (const j of rigJointOrder(rig)) {
    const f = findings.find((x) => x.joint === j);
    if (!f) throw new Error(`calibrate: joint ${j} of rig ${rig.name} was not measured`);
    joints[j] = { zeroCounts: round(f.zeroCounts, 3), direction: 1, stddevCounts: round(f.stddevCounts, 3) };
  }
  return { schema: CALIBRATION_SCHEMA_VERSION, rig: rig.name, createdAt: createdAt.toISOString(), method: CALIBRATE_METHOD, joints };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
