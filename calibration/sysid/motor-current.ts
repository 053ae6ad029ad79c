/**
 * The arm motor's current as the rig's Present Current register reports it:
 * I = (V_eff - km thetadot) / Rm (rig page; no inductance), V_eff the drive's
 * voltage after gain, limit and dead zone (sim/actuators/actuator.ts). Used
 * both to synthesize logs and to predict the logged current in the fit, so
 * the two cannot disagree.
 */
import { ACTUATOR_PARAMS, effectiveVoltage } from "../../sim/actuators/actuator.js";
import type { ParamTable } from "../../sim/params.js";

const KM = ACTUATOR_PARAMS.dc_motor.indexOf("km");
const RM = ACTUATOR_PARAMS.dc_motor.indexOf("Rm");
const VLIM = ACTUATOR_PARAMS.dc_motor.indexOf("voltageLimit");
const DEAD = ACTUATOR_PARAMS.dc_motor.indexOf("deadZone");
const GAIN = ACTUATOR_PARAMS.dc_motor.indexOf("gain");
const LATENCY = ACTUATOR_PARAMS.dc_motor.indexOf("latency");

/** Offset of a dc_motor actuator's first parameter in the table. */
export function motorParamOffset(table: ParamTable, actuator: string): number {
  return table.indexOf(`actuators.${actuator}.${ACTUATOR_PARAMS.dc_motor[0]}`);
}

/** Current (A) at command `volts` in effect and joint speed `qd`, from the parameter vector `p`. */
export function motorCurrent(p: Float64Array, offset: number, volts: number, qd: number): number {
  const v = effectiveVoltage(volts, { voltageLimit: p[offset + VLIM]!, deadZone: p[offset + DEAD]!, gain: p[offset + GAIN]! });
  return (v - p[offset + KM]! * qd) / p[offset + RM]!;
}

/**
 * The command in effect at t[k] when the sensors are read (before command k
 * is issued): the newest command j < k with t[j] + latency <= t[k], searching
 * no further back than `first`; `before` when none qualifies (the command in
 * effect when the simulation started).
 */
export function commandInEffect(t: ArrayLike<number>, volts: ArrayLike<number>, k: number, latency: number, first: number, before: number): number {
  for (let j = k - 1; j >= first; j--) if (t[j]! + latency <= t[k]! + 1e-9) return volts[j]!;
  return before;
}

/** Command latency (s) from the parameter vector. */
export function motorLatency(p: Float64Array, offset: number): number {
  return p[offset + LATENCY]!;
}
