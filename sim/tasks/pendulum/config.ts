import { num, obj, withDefaults, type Infer } from "../../../common/schema.js";
import { quantity } from "../../../common/units.js";
import { observationConfigSchema } from "../../observation.js";
import { randomizationSpecSchema } from "../../randomization/spec.js";
import { robotConfigSchema } from "../../robot-config.js";

/**
 * A single pendulum on a torque motor: swing up and hold upright. The simpler
 * second task; it shares every line of plumbing with the Furuta and differs
 * only by its URDF, this config and ~40 lines of task logic.
 */
const pendulumSchema = obj({
  robot: robotConfigSchema,
  controlDt: quantity("s", undefined, { min: 1 / 1000, max: 0.1 }),
  physicsDt: quantity("s", undefined, { min: 1e-5, exclusiveMin: true }),
  physicsSubstep: quantity("s", undefined, { min: 1e-6, exclusiveMin: true }),
  episodeSeconds: quantity("s", undefined, { min: 0, exclusiveMin: true }),
  observation: observationConfigSchema,
  randomization: randomizationSpecSchema,
  reward: obj({
    /** Weights of the quadratic costs: angle from upright^2, velocity^2, (torque/limit)^2. */
    angle: num(1, { min: 0 }),
    velocity: num(0.05, { min: 0 }),
    effort: num(0.01, { min: 0 }),
    /** Bonus exp(-(angle from upright / uprightWidth)^2): a sharp pull to the exact top, where quadratic costs are flat. */
    upright: num(1, { min: 0 }),
    uprightWidth: quantity("rad", 0.15, { min: 0, exclusiveMin: true }),
  }),
  success: obj({
    uprightTolerance: quantity("rad", 0.2, { min: 0, exclusiveMin: true }),
    holdSeconds: quantity("s", 1.5, { min: 0 }),
  }),
  init: obj({
    /** Initial angle drawn within +-this of hanging, rad; initial speed within +-initSpeed. */
    angle: quantity("rad", 0.3, { min: 0 }),
    speed: quantity("rad/s", 0.5, { min: 0 }),
  }),
});

export const PENDULUM_DEFAULTS = {
  robot: {
    name: "pendulum",
    urdf: "sim/robots/pendulum/pendulum.urdf",
    // 0.1 N m is twice the 0.049 N m gravity torque at horizontal: a direct lift is possible, which keeps
    // this task quick to learn. Set it below 0.049 to require pumping.
    actuators: [{ name: "motor", joint: "pendulum_joint", kind: "torque", commandScale: 0.1, effortLimit: 0.1, latency: 0 }],
    sensors: [{ name: "pendulum", joint: "pendulum_joint", countsPerRev: 4096, offset: 0, noise: 0 }],
  },
  controlDt: 0.02,
  physicsDt: 0.002,
  physicsSubstep: 0.0001,
  episodeSeconds: 4,
  observation: {
    terms: [
      { term: "sin", joint: "pendulum_joint" },
      { term: "cos", joint: "pendulum_joint" },
      { term: "velocity", joint: "pendulum_joint", scale: 0.1 },
    ],
    velocityFilter: 1,
  },
  randomization: [
    { target: "links.pendulum.mass", distribution: "uniform", mode: "scale", low: 0.9, high: 1.1 },
    { target: "joints.pendulum_joint.damping", distribution: "uniform", mode: "scale", low: 0.5, high: 1.5 },
  ],
  reward: {},
  success: {},
  init: {},
};

export const pendulumConfigSchema = withDefaults(pendulumSchema, PENDULUM_DEFAULTS);
export type PendulumConfig = Infer<typeof pendulumSchema>;
