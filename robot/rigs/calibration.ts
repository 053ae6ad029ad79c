/**
 * The calibration file of a rig: what turns raw encoder counts into the joint
 * angles the simulator and the policy use. Per joint, the count read at the
 * joint's zero (arm centred, pendulum hanging still) and the counting
 * direction. `s2r calibrate` writes it; `s2r deploy` reads it.
 *
 *   {"schema": 1, "rig": "furuta", "createdAt": "...",
 *    "joints": {"arm_joint": {"zeroCounts": 1873}, "pendulum_joint": {"zeroCounts": 3, "stddevCounts": 0.4}}}
 */

import { writeJsonFileValidated } from "../../common/atomic-file.js";
import { readJsonFile } from "../../common/json-file.js";
import { ConfigError, int, num, obj, optional, recordOf, str, type Infer, type Schema } from "../../common/schema.js";
import { rigJointOrder, type RigConfig } from "./rig-config.js";

export const CALIBRATION_SCHEMA_VERSION = 1;

/** +1 or -1: whether the joint angle grows with the counts or against them. */
const direction: Schema<1 | -1> = {
  defaultValue: 1,
  parse(v, path) {
    if (v === undefined) return 1;
    if (v !== 1 && v !== -1) throw new ConfigError(path, `expected 1 or -1, got ${JSON.stringify(v)}`);
    return v;
  },
};

const jointCalibrationSchema = obj({
  /** Raw Present Position at the joint's zero (may be fractional: an average of readings). */
  zeroCounts: num(undefined),
  direction,
  /** Uncertainty of zeroCounts, counts (informative). */
  stddevCounts: optional(num(undefined, { min: 0 })),
});

const baseSchema = obj({
  schema: int(undefined, { min: 1 }),
  rig: str(undefined),
  /** ISO time the calibration was made. */
  createdAt: optional(str(undefined)),
  /** How it was made, e.g. "s2r calibrate" or "manual". */
  method: optional(str(undefined)),
  joints: recordOf(jointCalibrationSchema, undefined),
});

export type JointCalibration = Infer<typeof jointCalibrationSchema>;
export type Calibration = Infer<typeof baseSchema>;

export const calibrationSchema: Schema<Calibration> = {
  defaultValue: undefined,
  description: "calibration file",
  parse(value, path) {
    const c = baseSchema.parse(value, path);
    if (c.schema !== CALIBRATION_SCHEMA_VERSION) {
      throw new ConfigError(path ? `${path}.schema` : "schema", `version ${c.schema} is not readable by this s2r (it reads ${CALIBRATION_SCHEMA_VERSION})`);
    }
    if (Object.keys(c.joints).length === 0) throw new ConfigError(path ? `${path}.joints` : "joints", "no joints calibrated");
    return c;
  },
};

/** Checks that a calibration belongs to `rig` and covers each of its joints; errors name the field. */
export function checkCalibrationForRig(c: Calibration, rig: RigConfig, source?: string): void {
  if (c.rig !== rig.name) throw new ConfigError("rig", `the calibration is for rig ${JSON.stringify(c.rig)}, not ${JSON.stringify(rig.name)}`, source);
  for (const joint of rigJointOrder(rig)) {
    if (!c.joints[joint]) throw new ConfigError(`joints.${joint}`, `missing: rig ${rig.name} reads this joint (calibrated: ${Object.keys(c.joints).join(", ")})`, source);
  }
  for (const joint of Object.keys(c.joints)) {
    if (!rigJointOrder(rig).includes(joint)) throw new ConfigError(`joints.${joint}`, `rig ${rig.name} has no such joint (it has ${rigJointOrder(rig).join(", ")})`, source);
  }
}

/** Reads a calibration file; with `rig`, also checks it belongs to that rig. */
export function readCalibration(file: string, rig?: RigConfig): Calibration {
  const c = readJsonFile(file, calibrationSchema);
  if (rig) checkCalibrationForRig(c, rig, file);
  return c;
}

/** Validates and writes a calibration file (through a temporary file, so a crash never leaves half of one). */
export function writeCalibration(file: string, c: Calibration): void {
  writeJsonFileValidated(file, c, calibrationSchema);
}

/** Zero counts and directions in the rig's joint order. */
export function calibrationArrays(c: Calibration, rig: RigConfig): { zeroCounts: Float64Array; direction: Float64Array } {
  checkCalibrationForRig(c, rig);
  const joints = rigJointOrder(rig);
  return {
    zeroCounts: Float64Array.from(joints, (j) => c.joints[j]!.zeroCounts),
    direction: Float64Array.from(joints, (j) => c.joints[j]!.direction),
  };
}
