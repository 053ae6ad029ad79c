/**
 * A rig as data: which devices sit on which bus, what their registers mean in
 * physical units, the safety limits, the task it runs and its ROS 2 names.
 * Everything robot-specific the runtime needs comes from one of these files
 * (robot/rigs/<name>.json), so a second robot is a second file, not new code.
 */

import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { readJsonFile } from "../../common/json-file.js";
import { projectPath } from "../../common/paths.js";
import { deadlinePolicySchema } from "../control/deadline-policy.js";
import { arrayOf, ConfigError, int, num, obj, oneOf, optional, recordOf, str, type Infer, type Schema } from "../../common/schema.js";
import { quantity } from "../../common/units.js";

export const RIG_SCHEMA_VERSION = 1;

/** +1 or -1. */
function sign(): Schema<1 | -1> {
  return {
    defaultValue: 1,
    parse(v, path) {
      if (v === undefined) return 1;
      if (v !== 1 && v !== -1) throw new ConfigError(path, `expected 1 or -1, got ${JSON.stringify(v)}`);
      return v;
    },
  };
}

const deviceSchema = obj({
  id: int(undefined, { min: 0, max: 252 }),
  /** Control table of the device, e.g. "XM430-W350". */
  model: str(undefined),
  /** "motor": drives `actuator` in `operatingMode`; "encoder": a servo read for its position whose torque stays off. */
  role: oneOf(["motor", "encoder"] as const, undefined),
  /** The joint this device's position reading measures. */
  joint: str(undefined),
  /** Actuator name (as in the task's robot config) for a motor. */
  actuator: optional(str(undefined)),
  operatingMode: optional(int(undefined, { min: 0, max: 255 })),
});

const guardSchema = obj({
  joint: str(undefined),
  actuator: str(undefined),
  lower: quantity("rad", undefined),
  upper: quantity("rad", undefined),
  softZone: quantity("rad", undefined, { min: 0 }),
  margin: quantity("rad", undefined, { min: 0 }),
  brakingDecel: quantity("rad/s^2", undefined, { min: 0, exclusiveMin: true }),
  /** Sign of the joint's acceleration under a positive command. */
  direction: sign(),
});

/**
 * A lightly damped pendulum takes long to come to rest (the nominal Furuta
 * pendulum's swing decays with a time constant of about 27 s): the timeout
 * is generous, and a person at the rig can steady it by hand.
 */
const settleSchema = obj({
  /** The joints count as still once each stays within positionTolerance for this long, s. */
  stillSeconds: quantity("s", 1, { min: 0, exclusiveMin: true }),
  positionTolerance: quantity("rad", 0.015, { min: 0, exclusiveMin: true }),
  timeoutSeconds: quantity("s", 240, { min: 0, exclusiveMin: true }),
  pollHz: quantity("Hz", 50, { min: 1, max: 1000 }),
});

const homeSchema = obj({
  joint: str(undefined),
  actuator: str(undefined),
  target: quantity("rad", 0),
  /** Command per unit of position error, and per unit of velocity. */
  kp: quantity("V/rad", undefined, { min: 0 }),
  kd: quantity("V s/rad", undefined, { min: 0 }),
  maxCommand: quantity("V", undefined, { min: 0, exclusiveMin: true }),
  tolerance: quantity("rad", undefined, { min: 0, exclusiveMin: true }),
  timeoutSeconds: quantity("s", 10, { min: 0, exclusiveMin: true }),
});

/**
 * The rig's camera as ROS 2 delivers it: which of the task's robot cameras it
 * is, its topics, the encoding its driver publishes, and how old a frame may
 * be before the loop counts the camera as stale (and stops the robot).
 */
const rigCameraSchema = obj({
  /** Camera of the task's robot config (robot.cameras[].name); default: its first. */
  name: optional(str(undefined)),
  imageTopic: str("/camera/image_raw"),
  infoTopic: str("/camera/camera_info"),
  /** The encoding the camera driver publishes (the emulator publishes rgb8, bgr8 or mono8). */
  encoding: oneOf(["rgb8", "bgr8", "mono8", "yuv422_yuy2"] as const, "rgb8"),
  /** A frame received longer ago than this is stale: zero command, torque off, ms. */
  latencyBudgetMs: quantity("ms", 100, { min: 0, exclusiveMin: true }),
  frameId: str("camera"),
});

const rigSchema = obj({
  schema: int(undefined, { min: 1 }),
  name: str(undefined, "the robot's name, as policy manifests name it"),
  description: str(""),
  task: str(undefined, "the task the rig runs (sim/tasks registry)"),
  bus: obj({
    protocol: int(undefined, { min: 1, max: 2 }),
    baudRate: quantity("baud", undefined, { integer: true, min: 1 }),
    /** Wait per answer in the control loop, ms. */
    timeoutMs: quantity("ms", 10, { min: 0, exclusiveMin: true }),
    retries: int(1, { min: 0 }),
    /** Return Delay Time set at activation (EEPROM), µs; absent leaves the device's setting. */
    returnDelayMicros: optional(quantity("us", undefined, { integer: true, min: 0, max: 508 })),
  }),
  supplyVolts: quantity("V", undefined, { min: 0, exclusiveMin: true }),
  units: obj({
    countsPerRev: num(undefined, { min: 1 }),
    /** Goal PWM value that is 100 % of the supply. */
    pwmFullScale: num(undefined, { min: 1 }),
    currentAmpsPerCount: quantity("A", undefined, { min: 0, exclusiveMin: true }),
    velocityRpmPerCount: quantity("rpm", undefined, { min: 0, exclusiveMin: true }),
  }),
  devices: arrayOf(deviceSchema, undefined, { minLength: 1 }),
  control: obj({
    minPeriodSec: quantity("s", undefined, { min: 0, exclusiveMin: true }),
    maxPeriodSec: quantity("s", undefined, { min: 0, exclusiveMin: true }),
  }),
  safety: obj({
    /** |command| limit per actuator, in its command unit (volts). */
    commandLimits: recordOf(quantity("V", undefined, { min: 0, exclusiveMin: true }), undefined),
    /** |Goal PWM| is never written above this, whatever the volts say. */
    maxGoalPwm: int(undefined, { min: 0 }),
    guards: arrayOf(guardSchema, []),
    /** Bus Watchdog period armed at activation: silence this long stops the motor, ms (multiple of 20). */
    watchdogMs: quantity("ms", undefined, { min: 20, max: 2540 }),
    /** Late-cycle limits per session kind (robot/control/deadline-policy.ts); breaking one stops the loop with torque off. */
    deadlines: deadlinePolicySchema,
    /** A guarded joint reading farther than this beyond its stops means a bad calibration: refuse to start, rad. */
    positionSanityMargin: quantity("rad", 0.15, { min: 0 }),
  }),
  episodes: obj({
    /** A guarded joint within this of its stop counts as touching it (task success rules), rad. */
    stopContactTolerance: quantity("rad", 0.02, { min: 0 }),
    settle: settleSchema,
    /** Brings a joint back to its target before the settle wait; absent: no homing. */
    home: optional(homeSchema),
  }),
  ros2: obj({
    jointStatesTopic: str("/joint_states"),
    commandTopic: str(undefined),
    jointNames: arrayOf(str(undefined), undefined, { minLength: 1 }),
  }),
  /** Absent: the rig has no camera. */
  camera: optional(rigCameraSchema),
});

export type RigDevice = Infer<typeof deviceSchema>;
export type RigGuard = Infer<typeof guardSchema>;
export type RigHome = Infer<typeof homeSchema>;
export type RigSettle = Infer<typeof settleSchema>;
export type RigConfig = Infer<typeof rigSchema>;
export type RigCamera = Infer<typeof rigCameraSchema>;

/** Control tables the runtime knows, by the model name a rig file uses. */
export const SUPPORTED_MODELS = ["XM430-W350"] as const;

function checkRig(r: RigConfig): RigConfig {
  if (r.schema !== RIG_SCHEMA_VERSION) throw new ConfigError("schema", `version ${r.schema} is not readable by this s2r (it reads ${RIG_SCHEMA_VERSION})`);
  if (r.bus.protocol !== 2) throw new ConfigError("bus.protocol", `only Dynamixel Protocol 2.0 is supported, got ${r.bus.protocol}`);
  const ids = new Set<number>();
  const joints = new Set<string>();
  const actuators = new Set<string>();
  r.devices.forEach((d, i) => {
    const p = `devices[${i}]`;
    if (ids.has(d.id)) throw new ConfigError(`${p}.id`, `ID ${d.id} appears twice`);
    ids.add(d.id);
    if (joints.has(d.joint)) throw new ConfigError(`${p}.joint`, `joint ${JSON.stringify(d.joint)} is measured by two devices`);
    joints.add(d.joint);
    if (!(SUPPORTED_MODELS as readonly string[]).includes(d.model)) throw new ConfigError(`${p}.model`, `unknown model ${JSON.stringify(d.model)}; supported: ${SUPPORTED_MODELS.join(", ")}`);
    if (d.role === "motor") {
      if (d.actuator === undefined) throw new ConfigError(`${p}.actuator`, "required for a motor (the actuator name of the task's robot config)");
      if (d.operatingMode === undefined) throw new ConfigError(`${p}.operatingMode`, "required for a motor (16 = PWM, i.e. voltage control)");
      if (d.operatingMode !== 16) throw new ConfigError(`${p}.operatingMode`, `only PWM control (16) is supported: the runtime commands volts; got ${d.operatingMode}`);
      if (actuators.has(d.actuator)) throw new ConfigError(`${p}.actuator`, `actuator ${JSON.stringify(d.actuator)} appears twice`);
      actuators.add(d.actuator);
    } else if (d.actuator !== undefined || d.operatingMode !== undefined) {
      throw new ConfigError(`${p}.role`, "an encoder has no actuator or operatingMode (its torque stays off)");
    }
  });
  if (actuators.size === 0) throw new ConfigError("devices", "no device has role \"motor\": nothing to command");
  if (!(r.control.minPeriodSec <= r.control.maxPeriodSec)) throw new ConfigError("control.maxPeriodSec", `must be >= control.minPeriodSec (${r.control.minPeriodSec})`);
  for (const a of actuators) if (r.safety.commandLimits[a] === undefined) throw new ConfigError(`safety.commandLimits.${a}`, "required: every motor's actuator needs a command limit");
  for (const a of Object.keys(r.safety.commandLimits)) if (!actuators.has(a)) throw new ConfigError(`safety.commandLimits.${a}`, `no motor drives actuator ${JSON.stringify(a)}`);
  r.safety.guards.forEach((g, i) => {
    const p = `safety.guards[${i}]`;
    if (!joints.has(g.joint)) throw new ConfigError(`${p}.joint`, `no device measures joint ${JSON.stringify(g.joint)}`);
    if (!actuators.has(g.actuator)) throw new ConfigError(`${p}.actuator`, `no motor drives actuator ${JSON.stringify(g.actuator)}`);
    if (!(g.upper > g.lower)) throw new ConfigError(`${p}.upper`, `must be above lower (${g.lower})`);
  });
  const w = r.safety.watchdogMs;
  if (!Number.isInteger(w / 20)) throw new ConfigError("safety.watchdogMs", `the Bus Watchdog counts in 20 ms units; ${w} is not a multiple of 20`);
  const maxPwmForLimit = (a: string) => (r.safety.commandLimits[a]! / r.supplyVolts) * r.units.pwmFullScale;
  for (const a of actuators) {
    if (r.safety.commandLimits[a]! > r.supplyVolts) throw new ConfigError(`safety.commandLimits.${a}`, `${r.safety.commandLimits[a]} V is more than the ${r.supplyVolts} V supply`);
    if (Math.round(maxPwmForLimit(a)) > r.safety.maxGoalPwm) {
      throw new ConfigError("safety.maxGoalPwm", `${r.safety.maxGoalPwm} is below the ${r.safety.commandLimits[a]} V limit of ${a} (${maxPwmForLimit(a).toFixed(1)} counts): commands would be cut short`);
    }
  }
  const home = r.episodes.home;
  if (home) {
    if (!joints.has(home.joint)) throw new ConfigError("episodes.home.joint", `no device measures joint ${JSON.stringify(home.joint)}`);
    if (!actuators.has(home.actuator)) throw new ConfigError("episodes.home.actuator", `no motor drives actuator ${JSON.stringify(home.actuator)}`);
    if (home.maxCommand > r.safety.commandLimits[home.actuator]!) throw new ConfigError("episodes.home.maxCommand", `above the actuator's command limit ${r.safety.commandLimits[home.actuator]}`);
  }
  r.ros2.jointNames.forEach((j, i) => {
    if (!joints.has(j)) throw new ConfigError(`ros2.jointNames[${i}]`, `no device measures joint ${JSON.stringify(j)}`);
  });
  return r;
}

/**
 * Rig files before the deadline policy had one count of misses for every
 * session. It cannot be translated (a count per phase says nothing about how
 * long the robot went without a state), so it is refused with the migration.
 */
function rejectMissBudget(value: unknown, path: string): void {
  const safety = (value as { safety?: Record<string, unknown> } | undefined)?.safety;
  if (safety && typeof safety === "object" && "deadlineMissBudget" in safety) {
    throw new ConfigError(
      path ? `${path}.safety.deadlineMissBudget` : "safety.deadlineMissBudget",
      "replaced by safety.deadlines: delete this field; the defaults then apply (per session kind deploy, calibrate, sysid, finetune: staleStateSec, maxConsecutiveLate, missRate {windowSec, maxFraction}), or set them there (README, \"Deadline policy\")",
    );
  }
}

export const rigConfigSchema: Schema<RigConfig> = {
  defaultValue: undefined,
  description: "rig configuration (robot/rigs/<name>.json)",
  parse(value, path) {
    rejectMissBudget(value, path);
    return checkRig(rigSchema.parse(value, path));
  },
};

/** Names of the rigs shipped in robot/rigs/. */
export function listRigs(): string[] {
  const dir = projectPath("robot", "rigs");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** The file of a rig given by name ("furuta") or path ("./my-rig.json"). */
export function rigConfigFile(nameOrFile: string): string {
  if (nameOrFile.endsWith(".json") || nameOrFile.includes("/") || isAbsolute(nameOrFile)) return resolve(nameOrFile);
  const file = projectPath("robot", "rigs", `${nameOrFile}.json`);
  if (!existsSync(file)) throw new ConfigError("", `unknown rig ${JSON.stringify(nameOrFile)}; known rigs: ${listRigs().join(", ")} (or give the path of a rig .json file)`);
  return file;
}

/** Reads and validates a rig; errors name the file and the field. */
export function loadRigConfig(nameOrFile: string): RigConfig {
  return readJsonFile(rigConfigFile(nameOrFile), rigConfigSchema);
}

// Views the runtime needs ---------------------------------------------------

/** Joint names in the order the rig reports them (device order). */
export function rigJointOrder(rig: RigConfig): string[] {
  return rig.devices.map((d) => d.joint);
}

/** The motor devices, in command order. */
export function rigMotors(rig: RigConfig): (RigDevice & { actuator: string })[] {
  return rig.devices.filter((d): d is RigDevice & { actuator: string } => d.role === "motor");
}

/** Actuator names in command order. */
export function rigActuators(rig: RigConfig): string[] {
  return rigMotors(rig).map((d) => d.actuator);
}
