/**
 * A speed loop on the measured joint speed for slow calibration moves:
 * PI on the speed error, the voltage's rise slew-limited and capped, and an
 * over-speed cut. The integral finds whatever voltage the friction and dead
 * zone need without knowing them; it is kept consistent with the limited
 * output (back-calculation), so it never winds up against the cap or the
 * slew limit and a stall is pushed with a voltage that grows steadily.
 *
 * With a HoldingVolts memory shared by the moves of one calibration, a move
 * starts from a fraction of the voltage that held the arm at speed in the
 * previous move (what the dead zone and Coulomb friction take, learned on
 * this unit): a weak, sticky unit breaks away at once instead of after the
 * integral has slewed up to its friction.
 */
import type { CalibrateMotion } from "./motion-config.js";

/** The |voltage| that held the arm at its target speed, smoothed; 0 until seen. */
export class HoldingVolts {
  volts = 0;
  /** Folds in a period at speed; `alpha` is the weight of the new value. */
  observe(volts: number, alpha = 0.05): void {
    this.volts = this.volts === 0 ? Math.abs(volts) : this.volts + alpha * (Math.abs(volts) - this.volts);
  }
}

/** Within this fraction of the target speed the arm counts as held at speed. */
const AT_SPEED = 0.2;

export class VelocityServo {
  private integral = 0;
  private last = 0;
  private fresh = true;
  /** True when the last step cut the voltage for over-speed. */
  cut = false;

  constructor(
    private readonly m: CalibrateMotion,
    private readonly holding?: HoldingVolts,
  ) {}

  reset(): void {
    this.integral = 0;
    this.last = 0;
    this.cut = false;
    this.fresh = true;
  }

  /** Volts for this period, given the target and measured speeds (rad/s) and the period `dt` (s). */
  step(target: number, measured: number, dt: number): number {
    const m = this.m;
    if (Math.abs(measured) > m.cutSpeed) {
      // Faster than allowed: no drive at all this period; start the integral again from nothing.
      this.integral = 0;
      this.last = 0;
      this.cut = true;
      return 0;
    }
    this.cut = false;
    if (this.fresh && target !== 0) {
      this.fresh = false;
      if (this.holding && this.holding.volts > 0) {
        // Start where friction and dead zone are about to give way; the slew limit applies from there.
        this.last = Math.sign(target) * Math.min(m.maxVolts, m.feedForwardFraction * this.holding.volts);
        this.integral = this.last;
      }
    }
    const error = target - measured;
    // A stuck arm (pressed on a stop, or held by friction) gets its push raised at the slew
    // limit: at creep speed, ki × error alone takes seconds to reach the stall voltage.
    const stuck = target !== 0 && Math.abs(measured) <= m.stallSpeed;
    this.integral += stuck ? Math.sign(target) * Math.max(Math.abs(m.ki * error), m.slewVoltsPerSec) * dt : m.ki * error * dt;
    let v = m.kp * error + this.integral;
    v = Math.max(-m.maxVolts, Math.min(m.maxVolts, v));
    // Only a growing |voltage| is slew-limited: easing off is always immediate.
    const rise = m.slewVoltsPerSec * dt;
    if (Math.abs(v) > Math.abs(this.last)) {
      if (Math.sign(v) === Math.sign(this.last) || this.last === 0) v = Math.sign(v) * Math.min(Math.abs(v), Math.abs(this.last) + rise);
      else v = Math.sign(v) * Math.min(Math.abs(v), rise);
    }
    // Back-calculation: the integral holds what the output actually is.
    this.integral = v - m.kp * error;
    this.last = v;
    if (this.holding && target !== 0 && Math.abs(error) <= AT_SPEED * Math.abs(target) && Math.sign(v) === Math.sign(target)) this.holding.observe(v);
    return v;
  }
}
