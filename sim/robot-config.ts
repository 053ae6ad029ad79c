import { arrayOf, ConfigError, num, obj, oneOf, optional, str, type Infer, type Schema } from "../common/schema.js";
import { quantity, quantityInput, toUnit } from "../common/units.js";
import { ACTUATOR_PARAM_UNITS as U, ACTUATOR_PARAMS, COMMAND_UNITS, type ActuatorKind } from "./actuators/actuator.js";
import { ENCODER_PARAM_UNITS } from "./sensors/encoder.js";
import { cameraConfigSchema, validateCameraConfig } from "./sensors/camera-config.js";

/**
 * What a robot is, beyond its URDF: which joints are driven by which actuator
 * model, what range a policy's action in [-1, 1] maps to, and which joints
 * have encoders. A second robot is a new URDF plus one of these.
 */
const actuatorFields = obj({
  name: str(undefined, "actuator name, used in randomization targets actuators.<name>.<param>"),
  joint: str(undefined, "URDF joint it drives"),
  kind: oneOf(["dc_motor", "servo", "torque"] as const, undefined),
  /** A policy action of +1 commands this much, in the kind's command unit (volts, rad, or N m): converted once the kind is known. */
  commandScale: quantityInput(),
  km: optional(quantity(U.km, undefined, { min: 0, exclusiveMin: true })),
  Rm: optional(quantity(U.Rm, undefined, { min: 0, exclusiveMin: true })),
  voltageLimit: optional(quantity(U.voltageLimit, undefined, { min: 0, exclusiveMin: true })),
  deadZone: optional(quantity(U.deadZone, 0, { min: 0 })),
  kp: optional(quantity(U.kp, undefined, { min: 0 })),
  kd: optional(quantity(U.kd, undefined, { min: 0 })),
  effortLimit: optional(quantity(U.effortLimit, undefined, { min: 0, exclusiveMin: true })),
  latency: quantity(U.latency, 0, { min: 0, max: 1 }),
  gain: quantity(U.gain, 1, { min: 0, exclusiveMin: true }),
});

type ActuatorFields = Infer<typeof actuatorFields>;
const commandScaleRange = num(undefined, { min: 0, exclusiveMin: true });

const actuatorSchema: Schema<Omit<ActuatorFields, "commandScale"> & { commandScale: number }> = {
  defaultValue: undefined,
  parse(v, path) {
    const a = actuatorFields.parse(v, path);
    const at = `${path}.commandScale`;
    const unit = COMMAND_UNITS[a.kind as ActuatorKind];
    return { ...a, commandScale: commandScaleRange.parse(toUnit(a.commandScale, unit, at), at) };
  },
};

const sensorSchema = obj({
  name: str(undefined, "sensor name, used in randomization targets sensors.<name>.<param>"),
  joint: str(undefined, "URDF joint it measures"),
  countsPerRev: num(4096, { min: 0 }),
  offset: quantity(ENCODER_PARAM_UNITS.offset, 0),
  noise: quantity(ENCODER_PARAM_UNITS.noise, 0, { min: 0 }),
});

export const robotConfigSchema = obj({
  name: str(undefined),
  /** Path to the URDF, relative to the s2r package folder or absolute. */
  urdf: str(undefined),
  actuators: arrayOf(actuatorSchema, undefined, { minLength: 1 }),
  sensors: arrayOf(sensorSchema, []),
  /** Cameras (sensors/camera-config.ts); none by default. */
  cameras: arrayOf(cameraConfigSchema, []),
});

export type ActuatorConfig = Infer<typeof actuatorSchema>;
export type SensorConfig = Infer<typeof sensorSchema>;
export type RobotConfig = Infer<typeof robotConfigSchema>;

/** Checks what the schema cannot: each kind's required parameters, unique names. */
export function validateRobotConfig(cfg: RobotConfig, path = "robot"): RobotConfig {
  const names = new Set<string>();
  cfg.actuators.forEach((a, i) => {
    if (names.has(a.name)) throw new ConfigError(`${path}.actuators[${i}].name`, `duplicate actuator name ${JSON.stringify(a.name)}`);
    names.add(a.name);
    for (const p of ACTUATOR_PARAMS[a.kind as ActuatorKind]) {
      if (p === "latency" || p === "deadZone" || p === "gain") continue;
      if ((a as Record<string, unknown>)[p] === undefined) throw new ConfigError(`${path}.actuators[${i}].${p}`, `required for a ${a.kind} actuator`);
    }
  });
  const sensorNames = new Set<string>();
  cfg.sensors.forEach((s, i) => {
    if (sensorNames.has(s.name)) throw new ConfigError(`${path}.sensors[${i}].name`, `duplicate sensor name ${JSON.stringify(s.name)}`);
    sensorNames.add(s.name);
  });
  const cameraNames = new Set<string>();
  cfg.cameras.forEach((c, i) => {
    if (cameraNames.has(c.name)) throw new ConfigError(`${path}.cameras[${i}].name`, `duplicate camera name ${JSON.stringify(c.name)}`);
    cameraNames.add(c.name);
    validateCameraConfig(c, `${path}.cameras[${i}]`);
  });
  return cfg;
}
