/**
 * What a simulated robot's actuators do outside the simulator's normal
 * "always driven" model, shared by SimHardware and the rig emulator:
 *  - torque off: the drive disconnects the motor (no voltage, no back-EMF
 *    braking), so the joint coasts; modelled by an open circuit (Rm -> huge)
 *    for a DC motor and a zero effort limit for servo/torque actuators;
 *  - the motor current the drive measures, I = (V_eff - km qd) / Rm, with the
 *    command that is in effect after the actuator's latency (the same delay
 *    line the simulator uses, fed with the same commands).
 */

import { ACTUATOR_PARAMS, effectiveVoltage, type ActuatorKind } from "../../sim/actuators/actuator.js";
import { DelayLine } from "../../sim/actuators/delay-line.js";
import type { ParamTable } from "../../sim/params.js";
import type { ActuatorConfig } from "../../sim/robot-config.js";

/** Resistance of a disconnected winding: large enough that no torque is left, finite so nothing turns NaN. */
const OPEN_CIRCUIT_OHM = 1e12;

interface Slot {
  kind: ActuatorKind;
  /** Index of the actuator's first parameter in the table. */
  offset: number;
  delay: DelayLine;
}

export class ActuatorState {
  private readonly slots: Slot[];

  constructor(
    table: ParamTable,
    actuators: readonly ActuatorConfig[],
  ) {
    this.slots = actuators.map((a) => {
      const kind = a.kind as ActuatorKind;
      return { kind, offset: table.indexOf(`actuators.${a.name}.${ACTUATOR_PARAMS[kind][0]}`), delay: new DelayLine(0) };
    });
  }

  /** Copies `values` into `out` with every actuator whose `enabled[k]` is false disconnected. */
  applyTorqueState(values: Float64Array, enabled: readonly boolean[], out: Float64Array): void {
    if (out !== values) out.set(values);
    this.slots.forEach((s, k) => {
      if (enabled[k]) return;
      if (s.kind === "dc_motor") out[s.offset + ACTUATOR_PARAMS.dc_motor.indexOf("Rm")] = OPEN_CIRCUIT_OHM;
      else out[s.offset + ACTUATOR_PARAMS[s.kind].indexOf("effortLimit")] = 0;
    });
  }

  /** Records commands issued at `time` (call alongside RobotPlant.command). */
  command(time: number, commands: ArrayLike<number>): void {
    this.slots.forEach((s, k) => s.delay.push(time, commands[k]!));
  }

  reset(command = 0): void {
    for (const s of this.slots) s.delay.reset(command);
  }

  /**
   * Motor current of actuator k at `time` with joint velocity `qd`, A; NaN
   * for actuators that are not DC motors. `values` are the parameters in
   * effect (a disconnected motor carries no current).
   */
  current(k: number, time: number, qd: number, values: Float64Array): number {
    const s = this.slots[k]!;
    if (s.kind !== "dc_motor") return NaN;
    const o = s.offset;
    // Positions in ACTUATOR_PARAMS.dc_motor: km, Rm, voltageLimit, deadZone, latency, gain.
    const km = values[o]!, Rm = values[o + 1]!, latency = values[o + 4]!;
    const v = effectiveVoltage(s.delay.valueAt(time, latency), { voltageLimit: values[o + 2]!, deadZone: values[o + 3]!, gain: values[o + 5]! });
    return (v - km * qd) / Rm;
  }

  get size(): number {
    return this.slots.length;
  }
}
