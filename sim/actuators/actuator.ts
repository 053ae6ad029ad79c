/**
 * Actuator models turn a command (volts, a position target, a torque) into a
 * joint effort. They are data plus pure functions: the parameters live in the
 * env's parameter table (so randomization can reach them by name, e.g.
 * `actuators.arm.km`), and `effort()` is evaluated at every physics substep
 * with the current joint state, because back-EMF and PD terms depend on it.
 */

export interface DcMotorParams {
  /** Torque constant = back-EMF constant, N m/A. */
  km: number;
  /** Terminal resistance, ohm. */
  Rm: number;
  /** |V| is clamped to this, volts. */
  voltageLimit: number;
  /** Applied voltages inside +-deadZone produce no current; outside, the band is subtracted. Volts. */
  deadZone: number;
  /** Command latency, s. */
  latency: number;
  /** Volts delivered per volt commanded (a supply voltage off its nominal value scales every PWM command). */
  gain: number;
}

export interface ServoParams {
  kp: number;
  kd: number;
  effortLimit: number;
  latency: number;
}

export interface TorqueParams {
  effortLimit: number;
  latency: number;
}

export type ActuatorKind = "dc_motor" | "servo" | "torque";

/** Names of each kind's parameters, in table order. Randomization targets are `actuators.<name>.<param>`. */
export const ACTUATOR_PARAMS: Record<ActuatorKind, readonly string[]> = {
  dc_motor: ["km", "Rm", "voltageLimit", "deadZone", "latency", "gain"],
  servo: ["kp", "kd", "effortLimit", "latency"],
  torque: ["effortLimit", "latency"],
};

export const COMMAND_UNITS: Record<ActuatorKind, string> = { dc_motor: "V", servo: "rad", torque: "N m" };

/** Unit of each parameter, as the parameter table shows it and as robot configs and randomization entries convert to it. */
export const ACTUATOR_PARAM_UNITS = {
  km: "N m/A",
  Rm: "ohm",
  voltageLimit: "V",
  deadZone: "V",
  latency: "s",
  gain: "V/V",
  kp: "N m/rad",
  kd: "N m s/rad",
  effortLimit: "N m",
} as const;

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Voltage after the drive's limit and dead zone. */
export function effectiveVoltage(command: number, p: Pick<DcMotorParams, "voltageLimit" | "deadZone" | "gain">): number {
  const v = clamp(command * p.gain, -p.voltageLimit, p.voltageLimit);
  const mag = Math.abs(v) - p.deadZone;
  return mag <= 0 ? 0 : Math.sign(v) * mag;
}

/** tau = km (V - km qdot) / Rm: the motor law on the rig page. */
export function dcMotorTorque(command: number, qd: number, p: DcMotorParams): number {
  const v = effectiveVoltage(command, p);
  return (p.km * (v - p.km * qd)) / p.Rm;
}

export function servoTorque(target: number, q: number, qd: number, p: ServoParams): number {
  return clamp(p.kp * (target - q) - p.kd * qd, -p.effortLimit, p.effortLimit);
}

export function directTorque(command: number, p: TorqueParams): number {
  return clamp(command, -p.effortLimit, p.effortLimit);
}

/** Effort from a kind and its parameters, read from a flat array in ACTUATOR_PARAMS order. */
export function actuatorEffort(kind: ActuatorKind, p: Float64Array, offset: number, command: number, q: number, qd: number): number {
  switch (kind) {
    case "dc_motor":
      return dcMotorTorque(command, qd, { km: p[offset]!, Rm: p[offset + 1]!, voltageLimit: p[offset + 2]!, deadZone: p[offset + 3]!, latency: 0, gain: p[offset + 5]! });
    case "servo":
      return servoTorque(command, q, qd, { kp: p[offset]!, kd: p[offset + 1]!, effortLimit: p[offset + 2]!, latency: 0 });
    case "torque":
      return directTorque(command, { effortLimit: p[offset]!, latency: 0 });
  }
}

/** Where `latency` sits in each kind's parameter list. */
export function latencyIndex(kind: ActuatorKind): number {
  return ACTUATOR_PARAMS[kind].indexOf("latency");
}
