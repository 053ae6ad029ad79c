/**
 * The time limit of a slow calibration move, from the distance it has to go
 * and the speed the arm actually achieves, instead of a fixed number of
 * seconds: a weak unit with strong friction whose speed loop tracks 20 %
 * slow gets 20 % more time, and a stuck arm still ends.
 *
 *   limit = allowance + timeMargin × planned / achievedRatio
 *
 * `planned` is the move's distances at its target speeds; `achievedRatio` the
 * distance actually travelled over the distance the (ramped) speed target
 * asked for so far, clamped to [minSpeedRatio, 1]; `allowance` covers the
 * breakaway (the voltage's slew up to the cap), the speed ramps, the stall
 * detection and parking.
 */
import type { CalibrateMotion } from "./motion-config.js";

/** Below this much asked-for travel the achieved ratio says nothing yet, rad. */
const MIN_JUDGED_DISTANCE = 0.05;

export interface MoveSegment {
  distance: number;
  speed: number;
}

export class MoveBudget {
  private asked = 0;
  private travelled = 0;
  readonly plannedSeconds: number;
  readonly allowanceSeconds: number;

  constructor(
    private readonly m: CalibrateMotion,
    segments: readonly MoveSegment[],
  ) {
    this.plannedSeconds = segments.reduce((t, s) => t + Math.max(0, s.distance) / s.speed, 0);
    const fastest = Math.max(...segments.map((s) => s.speed), m.creepSpeed);
    this.allowanceSeconds = m.maxVolts / m.slewVoltsPerSec + (2 * fastest) / m.acceleration + m.stallSeconds + m.timeAllowanceSeconds;
  }

  /** One period: the speed target (signed) and the measured speed, s and rad/s. */
  update(target: number, speed: number, dt: number): void {
    if (target === 0) return;
    this.asked += Math.abs(target) * dt;
    this.travelled += Math.max(0, speed * Math.sign(target)) * dt;
  }

  /** Travelled over asked-for distance, clamped to [minSpeedRatio, 1]; 1 until judged. */
  get achievedRatio(): number {
    if (this.asked < MIN_JUDGED_DISTANCE) return 1;
    return Math.min(1, Math.max(this.m.minSpeedRatio, this.travelled / this.asked));
  }

  get limitSeconds(): number {
    return this.allowanceSeconds + (this.m.timeMargin * this.plannedSeconds) / this.achievedRatio;
  }

  describe(): string {
    return `planned ${this.plannedSeconds.toFixed(1)} s at the target speeds; the arm achieved ${(100 * this.achievedRatio).toFixed(0)} % of them`;
  }
}
