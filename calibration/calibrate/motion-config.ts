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
import { readJsonFile } from "../../common/json-file.js";
import { ConfigError, num, obj, type Infer } from "../../common/schema.js";
import { quantity, type QuantityInput } from "../../common/units.js";

export const calibrateMotionSchema = obj({
  /** No logged arm speed may exceed this, rad/s. */
  speedLimit: quantity("rad/s", 0.5, { min: 0, exclusiveMin: true }),
  /** Above this measured speed the voltage is cut to 0 at once (a margin under speedLimit for one period of latency), rad/s. */
  cutSpeed: quantity("rad/s", 0.42, { min: 0, exclusiveMin: true }),
  /**
   * Speed while looking for the first stop, rad/s. Its position is unknown (the
   * arm may start anywhere within its travel, right at a stop included), so the
   * search may meet it at any moment: at this speed, an order of magnitude
   * below the rig page's 4 rad/s, and pressed with at most maxVolts.
   */
  seekSpeed: quantity("rad/s", 0.34, { min: 0, exclusiveMin: true }),
  /**
   * Speed across the travel once one stop is known, rad/s: near the cut speed,
   * leaving room for the speed loop's overshoot (about 0.04 rad/s on the rig
   * page's weakest, stickiest unit in simulation).
   */
  cruiseSpeed: quantity("rad/s", 0.37, { min: 0, exclusiveMin: true }),
  /** Speed for the last `creepZone` before an expected stop, and for backing off: a gentle touch kicks the pendulum less, rad/s. */
  creepSpeed: quantity("rad/s", 0.1, { min: 0, exclusiveMin: true }),
  /** The stretch before an expected stop covered at creepSpeed: where the stop may be (travelTolerance) and a margin; the arm brakes to creepSpeed before it. */
  creepZone: quantity("rad", 0.2, { min: 0 }),
  /** Rate at which the speed target changes, rad/s² (abrupt starts and stops set the pendulum swinging). */
  acceleration: quantity("rad/s^2", 0.6, { min: 0, exclusiveMin: true }),
  /** Speed loop: volts per rad/s of speed error, and volts per rad of integrated error. */
  kp: quantity("V s/rad", 1, { min: 0 }),
  ki: quantity("V/rad", 8, { min: 0 }),
  /** Voltage cap, V: half the rig's 6 V limit; enough to break away any friction within the rig page's ranges. */
  maxVolts: quantity("V", 3, { min: 0, exclusiveMin: true }),
  /** Fastest rise of |voltage|, V/s; a decrease is never limited. */
  slewVoltsPerSec: quantity("V/s", 4, { min: 0, exclusiveMin: true }),
  /**
   * A stall: at least this voltage toward the stop while the arm moves slower
   * than `stallSpeed` and stays within `stallWindow` rad, for `stallSeconds`.
   * The voltage is above what a free arm needs (friction and dead zone at the
   * top of their ranges take about 1.2 V), so a slow free arm is never taken
   * for a stall.
   */
  stallVolts: quantity("V", 2, { min: 0, exclusiveMin: true }),
  stallSpeed: quantity("rad/s", 0.03, { min: 0, exclusiveMin: true }),
  stallWindow: quantity("rad", 0.01, { min: 0, exclusiveMin: true }),
  stallSeconds: quantity("s", 0.3, { min: 0, exclusiveMin: true }),
  /** Distance to back away from a stop after touching it, rad. */
  backOff: quantity("rad", 0.15, { min: 0, exclusiveMin: true }),
  /** The second stop must be within this of where the rig's travel puts it; beyond it the search gives up, rad. */
  travelTolerance: quantity("rad", 0.1, { min: 0, exclusiveMin: true }),
  overtravel: quantity("rad", 0.3, { min: 0, exclusiveMin: true }),
  /** Parking at the centre: within this of it and slower than stallSpeed, rad. */
  parkTolerance: quantity("rad", 0.05, { min: 0, exclusiveMin: true }),
  /**
   * Time limit of each move (move-budget.ts): its distance at the target
   * speeds, divided by the fraction of them the arm achieves (at least
   * minSpeedRatio), times timeMargin, plus the breakaway, ramps and
   * timeAllowanceSeconds.
   */
  timeMargin: num(1.5, { min: 1 }),
  minSpeedRatio: num(0.25, { min: 0, exclusiveMin: true, max: 1 }),
  timeAllowanceSeconds: quantity("s", 2, { min: 0 }),
  /**
   * Feed-forward: each move starts its speed loop at this fraction of the
   * voltage that held the arm at speed in the previous move (the dead zone
   * plus Coulomb friction, learned), so breakaway does not wait for the
   * integral and the slew limit; below 1 so it never pushes the arm faster
   * than the target by itself.
   */
  feedForwardFraction: num(0.8, { min: 0, max: 1 }),
  /** Averaging of each hanging joint once it is still, s. */
  averageSeconds: quantity("s", 3, { min: 0, exclusiveMin: true }),
});

export type CalibrateMotion = Infer<typeof calibrateMotionSchema>;

/** Overrides of the defaults, each figure a number in the field's unit or a string with a unit ("0.2 rad/s", "10 deg"). */
export type CalibrateMotionOverrides = Partial<Record<keyof CalibrateMotion, QuantityInput>>;

/** Defaults, checked for consistency; `overrides` for tests and unusual rigs; errors name the field. */
export function calibrateMotion(overrides: CalibrateMotionOverrides = {}, path = "motion"): CalibrateMotion {
  const m = calibrateMotionSchema.parse(overrides, path);
  const at = (k: string) => (path ? `${path}.${k}` : k);
  const faster = (["seekSpeed", "cruiseSpeed", "creepSpeed"] as const).find((k) => !(m[k] < m.cutSpeed));
  if (faster) throw new ConfigError(at(faster), `${m[faster]} rad/s must be below cutSpeed ${m.cutSpeed} rad/s`);
  if (!(m.cutSpeed < m.speedLimit)) throw new ConfigError(at("cutSpeed"), `${m.cutSpeed} rad/s must be below speedLimit ${m.speedLimit} rad/s`);
  if (m.creepZone < m.travelTolerance) throw new ConfigError(at("creepZone"), `${m.creepZone} rad must be at least travelTolerance ${m.travelTolerance} rad: the second stop may be that far before where the rig's travel puts it, and must be met creeping`);
  if (!(m.stallVolts < m.maxVolts)) throw new ConfigError(at("stallVolts"), `${m.stallVolts} V must be below maxVolts ${m.maxVolts} V, or a stall could never be seen`);
  return m;
}

/** A motion file (`s2r calibrate --motion FILE`): any subset of the fields, the rest default; errors name the file and the field. */
export function readCalibrateMotion(file: string): CalibrateMotion {
  return readJsonFile(file, { defaultValue: undefined, parse: (v, path) => calibrateMotion(v as CalibrateMotionOverrides, path) });
}
