import type { RobotModel } from "./urdf/model.js";
import type { RobotConfig } from "./robot-config.js";
import { ACTUATOR_PARAM_UNITS, ACTUATOR_PARAMS, type ActuatorKind } from "./actuators/actuator.js";
import { ENCODER_PARAM_UNITS, ENCODER_PARAMS } from "./sensors/encoder.js";

/**
 * The flat, named parameter table of one simulated robot. Everything that
 * randomization, system identification or an OSI network can talk about is
 * one entry here, addressed by a dotted name:
 *
 *   links.<link>.mass      kg; scales the inertia tensor with it (same shape, denser)
 *   links.<link>.inertia   dimensionless scale of the inertia tensor alone
 *   links.<link>.com       dimensionless scale of the centre-of-mass offset
 *   links.<link>.scale     dimensionless geometric scale: com x s, inertia x s^2,
 *                          origins of the joints it carries x s (a longer rod)
 *   joints.<joint>.damping    N m s/rad (N s/m)
 *   joints.<joint>.friction   Coulomb friction, N m (N)
 *   joints.<joint>.origin     m, distance of the joint from its parent link's frame
 *   joints.<joint>.disturbance  external effort, N m; nominal 0
 *   actuators.<name>.<param>  see ACTUATOR_PARAMS
 *   sensors.<name>.<param>    countsPerRev, offset (rad), noise (rad)
 *   gravity                   m/s^2, along -z
 *
 * "model" entries change the rigid-body model and can only change between
 * episodes (the physics is rebuilt); "runtime" entries can change every step.
 */
export type ParamStage = "model" | "runtime";

export interface ParamEntry {
  name: string;
  nominal: number;
  /** mathjs unit (or "scale", "counts": no dimension); randomization figures written with units are converted to it. */
  unit: string;
  stage: ParamStage;
  /** Categorical parameters: the option names; the value is an index into them. */
  choices?: readonly string[];
}

export class ParamTable {
  readonly entries: readonly ParamEntry[];
  private readonly byName = new Map<string, number>();

  constructor(entries: ParamEntry[]) {
    this.entries = entries;
    entries.forEach((e, i) => {
      if (this.byName.has(e.name)) throw new Error(`parameter table: duplicate entry ${e.name}`);
      this.byName.set(e.name, i);
    });
  }

  get size(): number {
    return this.entries.length;
  }

  nominal(): Float64Array {
    return Float64Array.from(this.entries, (e) => e.nominal);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Index of a named parameter; an unknown name is an error listing the closest known ones. */
  indexOf(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) {
      const near = [...this.byName.keys()]
        .map((k) => ({ k, d: editDistance(k, name) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 4)
        .map((x) => x.k);
      throw new Error(`unknown parameter ${JSON.stringify(name)}; did you mean ${near.join(", ")}? (${this.size} known; see \`s2r sim params <task>\`)`);
    }
    return i;
  }
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function buildParamTable(model: RobotModel, robot: RobotConfig): ParamTable {
  const e: ParamEntry[] = [];
  for (const link of model.links) {
    if (!link.inertial) continue;
    e.push({ name: `links.${link.name}.mass`, nominal: link.inertial.mass, unit: "kg", stage: "model" });
    e.push({ name: `links.${link.name}.inertia`, nominal: 1, unit: "scale", stage: "model" });
    e.push({ name: `links.${link.name}.com`, nominal: 1, unit: "scale", stage: "model" });
    e.push({ name: `links.${link.name}.scale`, nominal: 1, unit: "scale", stage: "model" });
  }
  for (const j of model.joints) {
    const dist = Math.hypot(...j.origin.xyz);
    if (dist > 0) e.push({ name: `joints.${j.name}.origin`, nominal: dist, unit: "m", stage: "model" });
    if (j.type === "fixed") continue;
    const lin = j.type === "prismatic";
    e.push({ name: `joints.${j.name}.damping`, nominal: j.dynamics.damping, unit: lin ? "N s/m" : "N m s/rad", stage: "model" });
    e.push({ name: `joints.${j.name}.friction`, nominal: j.dynamics.friction, unit: lin ? "N" : "N m", stage: "model" });
    e.push({ name: `joints.${j.name}.disturbance`, nominal: 0, unit: lin ? "N" : "N m", stage: "runtime" });
  }
  e.push({ name: "gravity", nominal: 9.81, unit: "m/s^2", stage: "model" });
  for (const a of robot.actuators) {
    for (const p of ACTUATOR_PARAMS[a.kind as ActuatorKind]) {
      const v = (a as Record<string, unknown>)[p];
      const unit = (ACTUATOR_PARAM_UNITS as Readonly<Record<string, string | undefined>>)[p];
      if (unit === undefined) throw new Error(`parameter table: actuator parameter ${p} has no unit in ACTUATOR_PARAM_UNITS`);
      e.push({ name: `actuators.${a.name}.${p}`, nominal: typeof v === "number" ? v : 0, unit, stage: "runtime" });
    }
  }
  for (const s of robot.sensors) {
    for (const p of ENCODER_PARAMS) e.push({ name: `sensors.${s.name}.${p}`, nominal: s[p], unit: ENCODER_PARAM_UNITS[p], stage: "runtime" });
  }
  return new ParamTable(e);
}
