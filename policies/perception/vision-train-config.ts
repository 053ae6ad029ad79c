import { bool, ConfigError, int, num, obj, optional, str, withDefaults, type Infer } from "../../common/schema.js";
import { perceptionNetConfigSchema } from "./perception-config.js";

/**
 * `s2r vision train` config, composed: the task's config (robot, camera,
 * visual randomization; validated by the task), the network's architecture,
 * the images drawn, and the optimizer's budget. Every field has a default; a
 * config file gives only what differs.
 */
export const visionFramesConfigSchema = obj({
  /** Draw the task's visual randomization (the point of the exercise); false renders the nominal look. */
  randomized: bool(true),
  /** Largest joint speed drawn, rad/s (sets the motion blur and the frame-to-frame motion of stacked frames). */
  maxSpeed: num(8, { min: 0 }),
  /** Camera name (default: the robot's first). */
  camera: optional(str(undefined)),
});

export const visionTrainingConfigSchema = obj({
  /** Images trained on in all (each one freshly rendered). */
  totalFrames: int(400_000, { min: 1 }),
  batchSize: int(32, { min: 1 }),
  learningRate: num(1e-3, { min: 0, exclusiveMin: true }),
  /** The learning rate falls to this along a cosine over totalFrames. */
  finalLearningRate: num(5e-5, { min: 0 }),
  maxGradNorm: num(1, { min: 0, exclusiveMin: true }),
  /** Held-out randomized frames (own random stream) measured every validateEvery frames. */
  validationFrames: int(256, { min: 1 }),
  validateEvery: int(8192, { min: 1 }),
  /** Save a checkpoint and redraw the report every this many frames. */
  checkpointEvery: int(32768, { min: 1 }),
  /** Render worker threads (0: render in the training thread). */
  workers: int(1, { min: 0, max: 64 }),
  seed: int(1, { min: 0 }),
});

/** The perception network, stacking two frames by default so that velocity is observable. */
export const visionNetworkConfigSchema = withDefaults(perceptionNetConfigSchema, { framesStacked: 2 });

export interface VisionTrainConfig {
  /** Overrides of the task's config, as a task config file gives them (validated by the task). */
  task: Record<string, unknown>;
  network: Infer<typeof visionNetworkConfigSchema>;
  frames: Infer<typeof visionFramesConfigSchema>;
  training: Infer<typeof visionTrainingConfigSchema>;
}

/** Validates a (partial) config; the task section is kept as given and checked by the task. */
export function parseVisionTrainConfig(v: unknown, path = "config"): VisionTrainConfig {
  if (v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v))) throw new ConfigError(path, "expected an object");
  const raw = (v ?? {}) as Record<string, unknown>;
  const task = raw["task"] ?? {};
  if (typeof task !== "object" || task === null || Array.isArray(task)) throw new ConfigError(`${path}.task`, "expected an object");
  const known = ["task", "network", "frames", "training"];
  const extra = Object.keys(raw).find((k) => !known.includes(k));
  if (extra !== undefined) throw new ConfigError(`${path}.${extra}`, `unknown field (fields: ${known.join(", ")})`);
  return {
    task: task as Record<string, unknown>,
    network: visionNetworkConfigSchema.parse(raw["network"], `${path}.network`),
    frames: visionFramesConfigSchema.parse(raw["frames"], `${path}.frames`),
    training: visionTrainingConfigSchema.parse(raw["training"], `${path}.training`),
  };
}
