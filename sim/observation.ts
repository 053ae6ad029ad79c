import { arrayOf, ConfigError, num, obj, oneOf, optional, str, type Infer } from "../common/schema.js";

/**
 * The one observation builder, shared by simulation and robot (the robot
 * runtime imports this file). It sees only what the real robot gives: joint
 * positions as calibrated encoder readings, once per control period, and the
 * previous action. Velocities are finite differences of those readings, with
 * an optional first-order low-pass, exactly the same way in both places, so a
 * policy never trains on a signal the robot cannot produce.
 */
export const obsTermSchema = obj({
  term: oneOf(["sin", "cos", "position", "velocity", "previous_action"] as const, undefined),
  /** Joint name, for sin/cos/position/velocity. */
  joint: optional(str(undefined)),
  /** Actuator name, for previous_action. */
  actuator: optional(str(undefined)),
  /** The element is multiplied by this (keeps raw magnitudes near 1 before the learned normalization). */
  scale: num(1),
});
export type ObsTerm = Infer<typeof obsTermSchema>;

export const observationConfigSchema = obj({
  terms: arrayOf(obsTermSchema, undefined, { minLength: 1 }),
  /** Weight of the newest difference in the velocity low-pass: 1 = no filtering. */
  velocityFilter: num(1, { min: 0, max: 1, exclusiveMin: true }),
});
export type ObservationConfig = Infer<typeof observationConfigSchema>;

export interface ObsElement {
  name: string;
  unit: string;
  source: string;
}

export class ObservationBuilder {
  readonly size: number;
  private readonly jointIndex: Int32Array;
  private readonly actuatorIndex: Int32Array;
  private readonly prevQ: Float64Array;
  private readonly velocity: Float64Array;
  private primed = false;

  constructor(
    readonly config: ObservationConfig,
    readonly jointOrder: readonly string[],
    readonly actuatorOrder: readonly string[],
    readonly controlDt: number,
  ) {
    this.size = config.terms.length;
    this.jointIndex = new Int32Array(this.size).fill(-1);
    this.actuatorIndex = new Int32Array(this.size).fill(-1);
    config.terms.forEach((t, i) => {
      const path = `observation.terms[${i}]`;
      if (t.term === "previous_action") {
        const a = actuatorOrder.indexOf(t.actuator ?? "");
        if (a < 0) throw new ConfigError(`${path}.actuator`, `expected one of ${actuatorOrder.join(", ")}, got ${JSON.stringify(t.actuator)}`);
        this.actuatorIndex[i] = a;
      } else {
        const j = jointOrder.indexOf(t.joint ?? "");
        if (j < 0) throw new ConfigError(`${path}.joint`, `expected one of the sensed joints ${jointOrder.join(", ")}, got ${JSON.stringify(t.joint)}`);
        this.jointIndex[i] = j;
      }
    });
    this.prevQ = new Float64Array(jointOrder.length);
    this.velocity = new Float64Array(jointOrder.length);
  }

  /** Starts a new episode: velocities read zero until the next reading. */
  reset(): void {
    this.primed = false;
    this.velocity.fill(0);
  }

  /** Writes one observation; `q` holds calibrated positions in jointOrder, `prevAction` the last action in actuatorOrder. */
  build(q: ArrayLike<number>, prevAction: ArrayLike<number>, out: Float32Array | Float64Array, offset = 0): void {
    const a = this.config.velocityFilter;
    for (let j = 0; j < this.jointOrder.length; j++) {
      const qj = q[j]!;
      if (!Number.isFinite(qj)) throw new RangeError(`observation: joint ${this.jointOrder[j]} position is ${qj}`);
      if (this.primed) {
        const raw = (qj - this.prevQ[j]!) / this.controlDt;
        this.velocity[j] = a * raw + (1 - a) * this.velocity[j]!;
      }
      this.prevQ[j] = qj;
    }
    this.primed = true;
    const terms = this.config.terms;
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      const j = this.jointIndex[i]!;
      let v: number;
      switch (t.term) {
        case "sin": v = Math.sin(q[j]!); break;
        case "cos": v = Math.cos(q[j]!); break;
        case "position": v = q[j]!; break;
        case "velocity": v = this.velocity[j]!; break;
        case "previous_action": v = prevAction[this.actuatorIndex[i]!]!; break;
      }
      out[offset + i] = v * t.scale;
    }
  }

  /** Name, unit and source of each element, for the policy manifest. */
  layout(): ObsElement[] {
    return this.config.terms.map((t) => {
      const scaled = t.scale === 1 ? "" : ` x ${t.scale}`;
      if (t.term === "previous_action") return { name: `previous_action_${t.actuator}`, unit: `action${scaled}`, source: `action:${t.actuator}` };
      const unit = t.term === "velocity" ? "rad/s" : t.term === "position" ? "rad" : "1";
      return { name: `${t.term}_${t.joint}`, unit: unit + scaled, source: `joint:${t.joint}:${t.term}` };
    });
  }
}
