/**
 * How gently `s2r calibrate` moves an arm whose zero is not known yet. Until
 * the calibration exists, the safety layer's hard-stop guards cannot work
 * (they need calibrated positions), so safety comes from going slowly: the
 * arm is driven by a speed loop on the measured speed that never aims above
 * a fraction of `speedLimit`, cuts the voltage at once if the arm is faster
 * than `cutSpeed`, ramps its voltage and caps it at `maxVolts`. A hard stop
 * is then met at a few tenths of a rad/s, an order of magnitude below the
 * rig page's 4 rad/s damage threshold, and pushed with a small torque.
 */
import { num, obj, type Infer } from "../../common/schema.js";

export const calibrateMotionSchema = obj({
  /** No logged arm speed may exceed this, rad/s. */
  speedLimit: num(0.5, { min: 0, exclusiveMin: true }),
  /** Above this measured speed the voltage is cut to 0 at once (a margin under speedLimit for one period of latency), rad/s. */
  cutSpeed: num(0.42, { min: 0, exclusiveMin: true }),
  /** Speed while looking for the first stop, whose position is unknown, rad/s. */
  seekSpeed: num(0.3, { min: 0, exclusiveMin: true }),
  /** Speed across the travel once one stop is known, rad/s. */
  cruiseSpeed: num(0.35, { min: 0, exclusiveMin: true }),
  /** Speed for the last `creepZone` before an expected stop, and for backing off: a gentle touch kicks the pendulum less, rad/s. */
  creepSpeed: num(0.1, { min: 0, exclusiveMin: true }),
  creepZone: num(0.3, { min: 0 }),
  /** Rate at which the speed target changes, rad/s² (abrupt starts and stops set the pendulum swinging). */
  acceleration: num(0.6, { min: 0, exclusiveMin: true }),
  /** Speed loop: volts per rad/s of speed error, and volts per rad of integrated error. */
  kp: num(1, { min: 0 }),
  ki: num(8, { min: 0 }),
  /** Voltage cap, V: half the rig's 6 V limit; enough to break away any friction within the rig page's ranges. */
  maxVolts: num(3, { min: 0, exclusiveMin: true }),
  /** Fastest rise of |voltage|, V/s; a decrease is never limited. */
  slewVoltsPerSec: num(4, { min: 0, exclusiveMin: true }),
  /**
   * A stall: at least this voltage toward the stop while the arm moves slower
   * than `stallSpeed` and stays within `stallWindow` rad, for `stallSeconds`.
   * The voltage is above what a free arm needs (friction and dead zone at the
   * top of their ranges take about 1.2 V), so a slow free arm is never taken
   * for a stall.
   */
  stallVolts: num(2, { min: 0, exclusiveMin: true }),
  stallSpeed: num(0.03, { min: 0, exclusiveMin: true }),
  stallWindow: num(0.01, { min: 0, exclusiveMin: true }),
  stallSeconds: num(0.3, { min: 0, exclusiveMin: true }),
  /** Distance to back away from a stop after touching it, rad. */
  backOff: num(0.15, { min: 0, exclusiveMin: true }),
  /** The second stop must be within this of where the rig's travel puts it; beyond it the search gives up, rad. */
  travelTolerance: num(0.1, { min: 0, exclusiveMin: true }),
  overtravel: num(0.3, { min: 0, exclusiveMin: true }),
  /** Parking at the centre: within this of it and slower than stallSpeed, rad. */
  parkTolerance: num(0.05, { min: 0, exclusiveMin: true }),
  /**
   * Time limit of each move (move-budget.ts): its distance at the target
   * speeds, divided by the fraction of them the arm achieves (at least
   * minSpeedRatio), times timeMargin, plus the breakaway, ramps and
   * timeAllowanceSeconds.
   */
  timeMargin: num(1.5, { min: 1 }),
  minSpeedRatio: num(0.25, { min: 0, exclusiveMin: true, max: 1 }),
  timeAllowanceSeconds: num(2, { min: 0 }),
  /**
   * Feed-forward: each move starts its speed loop at this fraction of the
   * voltage that held the arm at speed in the previous move (the dead zone
   * plus Coulomb friction, learned), so breakaway does not wait for the
   * integral and the slew limit; below 1 so it never pushes the arm faster
   * than the target by itself.
   */
  feedForwardFraction: num(0.8, { min: 0, max: 1 }),
  /** Averaging of each hanging joint once it is still, s. */
  averageSeconds: num(3, { min: 0, exclusiveMin: true }),
});

export type CalibrateMotion = Infer<typeof calibrateMotionSchema>;

/** Defaults, checked for consistency; `overrides` for tests and unusual rigs. */
export function calibrateMotion(overrides: Partial<CalibrateMotion> = {}): CalibrateMotion {
  const m = calibrateMotionSchema.parse(overrides, "motion");
  const faster = (["seekSpeed", "cruiseSpeed", "creepSpeed"] as const).find((k) => !(m[k] < m.cutSpeed));
  if (faster) throw new RangeError(`calibrate motion: ${faster} ${m[faster]} rad/s must be below cutSpeed ${m.cutSpeed} rad/s`);
  if (!(m.cutSpeed < m.speedLimit)) throw new RangeError(`calibrate motion: cutSpeed ${m.cutSpeed} must be below speedLimit ${m.speedLimit} rad/s`);
  if (!(m.stallVolts < m.maxVolts)) throw new RangeError(`calibrate motion: stallVolts ${m.stallVolts} must be below maxVolts ${m.maxVolts} V, or a stall could never be seen`);
  return m;
}
