import { arrayOf, ConfigError, num, obj, oneOf, optional, str, type Infer } from "../common/schema.js";
import { ACTUATOR_PARAMS, type ActuatorKind } from "./actuators/actuator.js";
import { cameraConfigSchema, validateCameraConfig } from "./sensors/camera-config.js";

/**
 * What a robot is, beyond its URDF: which joints are driven by which actuator
 * model, what range a policy's action in [-1, 1] maps to, and which joints
 * have encoders. A second robot is a new URDF plus one of these.
 */
const actuatorSchema = obj({
  name: str(undefined, "actuator name, used in randomization targets actuators.<name>.<param>"),
  joint: str(undefined, "URDF joint it drives"),
  kind: oneOf(["dc_motor", "servo", "torque"] as const, undefined),
  /** A policy action of +1 commands this much (volts, rad, or N m). */
  commandScale: num(undefined, { min: 0, exclusiveMin: true }),
  km: optional(num(undefined, { min: 0, exclusiveMin: true })),
  Rm: optional(num(undefined, { min: 0, exclusiveMin: true })),
  voltageLimit: optional(num(undefined, { min: 0, exclusiveMin: true })),
  deadZone: optional(num(0, { min: 0 })),
  kp: optional(num(undefined, { min: 0 })),
  kd: optional(num(undefined, { min: 0 })),
  effortLimit: optional(num(undefined, { min: 0, exclusiveMin: true })),
  latency: num(0, { min: 0, max: 1 }),
  gain: num(1, { min: 0, exclusiveMin: true }),
});

const sensorSchema = obj({
  name: str(undefined, "sensor name, used in randomization targets sensors.<name>.<param>"),
  joint: str(undefined, "URDF joint it measures"),
  countsPerRev: num(4096, { min: 0 }),
  offset: num(0),
  noise: num(0, { min: 0 }),
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
