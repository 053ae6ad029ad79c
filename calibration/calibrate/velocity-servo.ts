/**
 * A speed loop on the measured joint speed for slow calibration moves:
 * PI on the speed error, the voltage's rise slew-limited and capped, and an
 * over-speed cut. The integral finds whatever voltage the friction and dead
 * zone need without knowing them; it is kept consistent with the limited
 * output (back-calculation), so it never winds up against the cap or the
 * slew limit and a stall is pushed with a voltage that grows steadily.
 */
import type { CalibrateMotion } from "./motion-config.js";

export class VelocityServo {
  private integral = 0;
  private last = 0;
  /** True when the last step cut the voltage for over-speed. */
  cut = false;

  constructor(private readonly m: CalibrateMotion) {}

  reset(): void {
    this.integral = 0;
    this.last = 0;
    this.cut = false;
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
    const error = target - measured;
    this.integral += m.ki * error * dt;
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
    return v;
  }
}
