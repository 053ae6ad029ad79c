import type { ObsElement } from "../observation.js";
import type { ParamSourceSpec } from "./param-source.js";

/**
 * The env contract: the one interface every learner, evaluator and benchmark
 * talks to. It is batched (N environments), auto-resetting, and a step is a
 * pure function of (state, action, params, rng): env i's episode k depends
 * only on the seed, i, k and the actions it was given, never on which thread
 * or batch it ran in.
 *
 * Step semantics (per environment i):
 *  1. The action (one float per actuator, nominally in [-1, 1]) is clipped to
 *     [-1, 1] and scaled to a command (volts, rad or N m), which takes effect
 *     after the actuator's latency.
 *  2. Physics advances one control period in fixed physics steps (each of
 *     several Rapier solver substeps); actuator efforts are re-evaluated every
 *     physics step, as the time-weighted mean over the step of the commands
 *     in effect during it (see RobotPlant).
 *  3. Sensors are read, the observation is built (observation.ts), and the
 *     task gives the reward and whether the episode ended:
 *     `terminated` (the task ended it, e.g. a hard-stop strike: do not
 *     bootstrap) or `truncated` (time limit: bootstrap from `finalObs`).
 *  4. A finished episode is reported in `episodes` and the environment resets
 *     itself: `obs` then holds the first observation of the next episode,
 *     `finalObs` the last one of the finished episode.
 *
 * A non-finite action or state is an error naming the environment, never a
 * silent NaN.
 */
export interface ActionElement {
  name: string;
  unit: string;
  /** Command limits after scaling. */
  low: number;
  high: number;
  /** Command = clip(action, -1, 1) * scale. */
  scale: number;
}

export interface EnvSpec {
  task: string;
  robot: string;
  numObs: number;
  numActions: number;
  numPrivileged: number;
  observationLayout: ObsElement[];
  actionLayout: ActionElement[];
  /** Names of the privileged (randomized, normalized) parameters, in order. */
  privilegedNames: string[];
  /** Joints whose encoders feed the observation, in order. */
  jointOrder: string[];
  controlDt: number;
  maxEpisodeSteps: number;
}

export interface EpisodeResult {
  env: number;
  /** Index of the episode within its environment, from 0. */
  episode: number;
  return: number;
  length: number;
  success: boolean;
  terminated: boolean;
  /** Task-specific figures (e.g. seconds upright, peak volts). */
  metrics: Record<string, number>;
}

export interface StepBatch {
  obs: Float32Array;
  privileged: Float32Array;
  reward: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  finalObs: Float32Array;
  finalPrivileged: Float32Array;
  episodes: EpisodeResult[];
}

export interface VecEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  /** Resets every environment (new episodes drawn from each env's stream). */
  reset(): Promise<{ obs: Float32Array; privileged: Float32Array }>;
  step(actions: Float32Array): Promise<StepBatch>;
  /** Changes where every env draws its next episodes' parameters (the running episodes keep theirs). */
  setParamSource(src: ParamSourceSpec): Promise<void>;
  close(): Promise<void>;
}

export class EnvError extends Error {
  constructor(
    readonly env: number,
    message: string,
  ) {
    super(`env ${env}: ${message}`);
    this.name = "EnvError";
  }
}
