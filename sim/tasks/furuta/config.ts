import { num, obj, withDefaults, type Infer } from "../../../common/schema.js";
import { quantity } from "../../../common/units.js";
import { observationConfigSchema } from "../../observation.js";
import { randomizationSpecSchema } from "../../randomization/spec.js";
import { robotConfigSchema } from "../../robot-config.js";
import { opticalRpyLookingAt } from "../../sensors/look-at.js";
import { heavyVisualRandomization } from "../../render/heavy-visual-spec.js";

/**
 * The Furuta pendulum task: swing up and balance (shared/rigs/furuta.md).
 * Every figure here is the rig page's nominal value or a range around it.
 */
const COUNT = (2 * Math.PI) / 4096; // one encoder count, rad

export const furutaRewardSchema = obj({
  /**
   * Weight of the height term (1 - cos alpha)/2 x exp(-uprightSpeed x alphaDot^2): height counts only
   * while the pendulum is slow, i.e. at the apexes of a swing. Pumping is rewarded apex by apex; a
   * pendulum whirling over the top (no apex) earns almost nothing, which removes the spinning optimum.
   */
  upright: num(1, { min: 0 }),
  uprightSpeed: num(0.05, { min: 0 }),
  /** Weight of the balance bonus exp(-(Δα/width)^2 - velocity terms) near the top. */
  balance: num(2, { min: 0 }),
  balanceWidth: quantity("rad", 0.25, { min: 0, exclusiveMin: true }),
  balanceAlphaDot: num(0.02, { min: 0 }),
  balanceThetaDot: num(0.01, { min: 0 }),
  /** Penalty weights: (V/Vmax)^2, theta^2 (arm travel), a barrier beyond `armSoftLimit`. */
  voltage: num(0.05, { min: 0 }),
  armTravel: num(0.05, { min: 0 }),
  armSoftLimit: quantity("rad", 1.4, { min: 0 }),
  armBarrier: num(5, { min: 0 }),
  /** One-time penalty when the arm touches a hard stop (the episode then ends). */
  stopContact: num(50, { min: 0 }),
});

export const furutaSuccessSchema = obj({
  /** Upright means |alpha - pi| (wrapped) below this, rad. */
  uprightTolerance: quantity("rad", 0.2, { min: 0, exclusiveMin: true }),
  /** Seconds upright without interruption for success. */
  holdSeconds: quantity("s", 5, { min: 0 }),
});

export const furutaInitSchema = obj({
  /** Start at rest with the pendulum hanging, angles drawn within these, rad. */
  theta: quantity("rad", 0.05, { min: 0 }),
  alpha: quantity("rad", 0.05, { min: 0 }),
});

const furutaSchema = obj({
  robot: robotConfigSchema,
  controlDt: quantity("s", undefined, { min: 1 / 500, max: 1 / 100 }),
  physicsDt: quantity("s", undefined, { min: 1e-5, exclusiveMin: true }),
  physicsSubstep: quantity("s", undefined, { min: 1e-6, exclusiveMin: true }),
  episodeSeconds: quantity("s", undefined, { min: 0, exclusiveMin: true }),
  observation: observationConfigSchema,
  randomization: randomizationSpecSchema,
  reward: furutaRewardSchema,
  success: furutaSuccessSchema,
  init: furutaInitSchema,
});

/**
 * A 320 x 240 camera on a tripod 0.36 m from the shaft, in front and above,
 * looking at the arm's plane: both arm stops and the pendulum up and down stay
 * inside the image (test/sim/render/furuta-camera.test.ts checks it).
 * Horizontal field of view 2 atan(160 / 230) = 70 degrees.
 */
const CAMERA_EYE: [number, number, number] = [0.29, 0.14, 0.15];
const CAMERA_TARGET: [number, number, number] = [0, 0, 0.0];
export const FURUTA_CAMERA = {
  name: "front",
  mount: { parent: "world", xyz: CAMERA_EYE, rpy: opticalRpyLookingAt(CAMERA_EYE, CAMERA_TARGET) },
  intrinsics: { width: 320, height: 240, fx: 230, fy: 230, cx: 159.5, cy: 119.5, distortionModel: "none", distortion: [] },
  frameRate: 30,
  exposure: 0.008,
  latency: 0.02,
  encoding: "rgb8",
};

const scale20 = (target: string) => ({ target, distribution: "uniform", mode: "scale", low: 0.8, high: 1.2 });

export const FURUTA_DEFAULTS = {
  robot: {
    name: "furuta",
    urdf: "sim/robots/furuta/furuta.urdf",
    actuators: [{ name: "arm", joint: "arm_joint", kind: "dc_motor", commandScale: 6, km: 0.042, Rm: 8.4, voltageLimit: 12, deadZone: 0, latency: 0, gain: 1 }],
    sensors: [
      { name: "arm", joint: "arm_joint", countsPerRev: 4096, offset: 0, noise: 0 },
      { name: "pendulum", joint: "pendulum_joint", countsPerRev: 4096, offset: 0, noise: 0 },
    ],
    cameras: [FURUTA_CAMERA],
  },
  controlDt: 0.01,
  // 5 ms steps of 25 solver substeps of 0.2 ms: the cheapest setting that keeps the
  // Furuta within the fidelity tolerances against its analytic model
  // (test/sim/fidelity.test.ts, which reads these very values).
  physicsDt: 0.005,
  physicsSubstep: 0.0002,
  episodeSeconds: 20,
  observation: {
    terms: [
      { term: "sin", joint: "arm_joint" },
      { term: "cos", joint: "arm_joint" },
      { term: "sin", joint: "pendulum_joint" },
      { term: "cos", joint: "pendulum_joint" },
      { term: "velocity", joint: "arm_joint" },
      { term: "velocity", joint: "pendulum_joint" },
      { term: "previous_action", actuator: "arm" },
    ],
    velocityFilter: 1,
  },
  randomization: [
    // +-20 % on every nominal figure of the rig page (mr enters the dynamics only through Jr, which the arm's mass scale sets).
    scale20("joints.pendulum_joint.origin"), // Lr
    // Jr: the arm's mass scale scales its whole inertia about the shaft (links.arm.inertia would scale
    // only the part about its centre of mass, a quarter of Jr).
    scale20("links.arm.mass"), // Jr
    scale20("joints.arm_joint.damping"), // Dr
    scale20("links.pendulum.scale"), // Lp
    scale20("links.pendulum.mass"), // mp
    scale20("joints.pendulum_joint.damping"), // Dp
    scale20("actuators.arm.Rm"),
    scale20("actuators.arm.km"),
    scale20("actuators.arm.gain"), // supply voltage
    scale20("gravity"),
    // What the nominal model leaves out.
    { target: "joints.arm_joint.friction", distribution: "uniform", mode: "absolute", low: 0, high: 0.003 },
    { target: "joints.pendulum_joint.friction", distribution: "uniform", mode: "absolute", low: 0, high: 5e-5 },
    { target: "links.pendulum.com", distribution: "uniform", mode: "scale", low: 0.95, high: 1.05 },
    { target: "actuators.arm.deadZone", distribution: "uniform", mode: "absolute", low: 0, high: 0.3 },
    { target: "actuators.arm.latency", distribution: "uniform", mode: "absolute", low: 0, high: 0.01 },
    { target: "sensors.arm.noise", distribution: "uniform", mode: "absolute", low: 0, high: 2 * COUNT },
    { target: "sensors.pendulum.noise", distribution: "uniform", mode: "absolute", low: 0, high: 2 * COUNT },
    // Residual calibration error: calibration finds the zeros within +-5 counts.
    { target: "sensors.arm.offset", distribution: "uniform", mode: "absolute", low: -5 * COUNT, high: 5 * COUNT },
    { target: "sensors.pendulum.offset", distribution: "uniform", mode: "absolute", low: -5 * COUNT, high: 5 * COUNT },
    // What the camera sees (the dynamics ignore these entries; the renderer reads them).
    ...heavyVisualRandomization(["base", "arm", "pendulum"], FURUTA_CAMERA.name),
  ],
  reward: {},
  success: {},
  init: {},
};

export const furutaConfigSchema = withDefaults(furutaSchema, FURUTA_DEFAULTS);
export type FurutaConfig = Infer<typeof furutaSchema>;
