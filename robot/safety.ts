/**
 * The safety layer between a policy and the hardware. Every command passes
 * through `filter` before every write:
 *  - a non-finite command is a fault (the loop then stops and disables torque);
 *  - each command is clamped to its limit (the rig page: never more than 6 V);
 *  - joints with hard stops are guarded before a strike, not after: if the
 *    joint cannot stop before the stop (margin included) at the braking
 *    deceleration the actuator can surely deliver, the command becomes full
 *    braking; inside a soft zone near a stop, commands pushing further out are
 *    zeroed. A whirling pendulum can push the arm harder than the motor holds
 *    it, so the braking model is deliberately pessimistic.
 *
 * The guard judges where the joint is when the command takes effect, not
 * where the (possibly late) reading saw it: with `stateAgeSec`, the time since
 * the state was sampled, the joint has moved on by velocity × age. On time
 * that is a fraction of a millisecond; a cycle whose read came back 15 ms
 * late at 4 rad/s has moved 0.06 rad closer to the stop, and brakes sooner.
 */
export interface TravelGuard {
  /** Index of the guarded joint in the frame, and of the actuator that moves it. */
  joint: number;
  actuator: number;
  lower: number;
  upper: number;
  /** Inside this distance of a stop, commands toward it are zeroed, rad. */
  softZone: number;
  /** Distance kept between a predicted stop and the hard stop, rad. */
  margin: number;
  /** Deceleration the actuator surely achieves at full braking, rad/s^2. */
  brakingDecel: number;
  /** Sign of joint acceleration produced by a positive command (+1 or -1). */
  direction: 1 | -1;
}

export interface SafetyConfig {
  commandLimits: number[];
  guards: TravelGuard[];
}

export class SafetyFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetyFault";
  }
}

export type Intervention = "none" | "clamped" | "soft_zone" | "braking";

export class SafetyLayer {
  /** Counts of each kind of intervention since construction. */
  readonly counts: Record<Intervention, number> = { none: 0, clamped: 0, soft_zone: 0, braking: 0 };

  constructor(readonly config: SafetyConfig) {
    for (const g of config.guards) {
      if (!(g.upper > g.lower)) throw new RangeError(`safety: guard on joint ${g.joint} has upper ${g.upper} <= lower ${g.lower}`);
      if (!(g.brakingDecel > 0)) throw new RangeError(`safety: guard on joint ${g.joint} needs brakingDecel > 0`);
    }
  }

  /** Writes the safe command into `out` and returns the strongest intervention applied. `stateAgeSec`: time since the state was sampled. */
  filter(command: ArrayLike<number>, position: ArrayLike<number>, velocity: ArrayLike<number>, out: Float64Array, stateAgeSec = 0): Intervention {
    if (!(stateAgeSec >= 0)) throw new RangeError(`safety: stateAgeSec must be >= 0, got ${stateAgeSec}`);
    const limits = this.config.commandLimits;
    let worst: Intervention = "none";
    for (let i = 0; i < limits.length; i++) {
      const c = command[i]!;
      if (!Number.isFinite(c)) throw new SafetyFault(`command ${i} is ${c} (the policy produced a non-finite action)`);
      const lim = limits[i]!;
      out[i] = c > lim ? lim : c < -lim ? -lim : c;
      if (out[i] !== c) worst = "clamped";
    }
    for (const g of this.config.guards) {
      const qRead = position[g.joint]!;
      const qd = velocity[g.joint]!;
      if (!Number.isFinite(qRead) || !Number.isFinite(qd)) throw new SafetyFault(`joint ${g.joint} state is not finite (q=${qRead}, qd=${qd})`);
      const q = qRead + qd * stateAgeSec;
      const lim = limits[g.actuator]!;
      const stopDist = (qd * qd) / (2 * g.brakingDecel);
      // Signed command that accelerates the joint toward +q.
      const towardUpper = out[g.actuator]! * g.direction;
      if (qd > 0 && g.upper - q - g.margin <= stopDist) {
        out[g.actuator] = -lim * g.direction;
        worst = "braking";
      } else if (qd < 0 && q - g.lower - g.margin <= stopDist) {
        out[g.actuator] = lim * g.direction;
        worst = "braking";
      } else if ((g.upper - q < g.softZone && towardUpper > 0) || (q - g.lower < g.softZone && towardUpper < 0)) {
        out[g.actuator] = 0;
        if (worst !== "braking") worst = "soft_zone";
      }
    }
    this.counts[worst]++;
    return worst;
  }
}
