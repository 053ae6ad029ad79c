import { arrayOf, int, num, obj, oneOf, bool, type Infer } from "../common/schema.js";

/**
 * Training configuration: composed from the policy's architecture, PPO's
 * hyperparameters and the runner's budget. Every field has a default; a
 * config file gives only what differs. The task's own config (robot,
 * randomization, reward) lives under `task` and is validated by the task.
 */
export const policyConfigSchema = obj({
  /** Actor body: a feed-forward MLP, or a GRU/LSTM followed by the MLP layers. */
  arch: oneOf(["mlp", "gru", "lstm"] as const, "gru"),
  /** Recurrent state size of the actor (gru/lstm). */
  hidden: int(64, { min: 1 }),
  /** Hidden widths of the actor's MLP (after the recurrent layer, if any). */
  actorLayers: arrayOf(int(undefined, { min: 1 }), [64, 64]),
  /** Hidden widths of the critic's MLP (the critic sees observations and privileged parameters). */
  criticLayers: arrayOf(int(undefined, { min: 1 }), [128, 128]),
  activation: oneOf(["tanh", "elu"] as const, "elu"),
  /**
   * Online system identification. "up": a recurrent OSI network estimates
   * the randomized parameters from the history of observations and actions,
   * and the actor is conditioned on its estimate (UP-OSI, Yu et al. 2017).
   * "none": no OSI (a recurrent actor then identifies implicitly, Peng et al. 2018).
   */
  osi: oneOf(["none", "up"] as const, "up"),
  osiHidden: int(64, { min: 1 }),
  /** Initial log standard deviation of the Gaussian actions. */
  initLogStd: num(-0.5),
});

export const ppoConfigSchema = obj({
  /** Steps per environment per rollout. */
  rolloutSteps: int(128, { min: 1 }),
  /** Truncated-BPTT chunk length for recurrent policies (divides rolloutSteps). */
  chunkLength: int(32, { min: 1 }),
  epochs: int(5, { min: 1 }),
  minibatches: int(4, { min: 1 }),
  gamma: num(0.99, { min: 0, max: 1 }),
  lambda: num(0.95, { min: 0, max: 1 }),
  clipRatio: num(0.2, { min: 0, max: 1, exclusiveMin: true }),
  entropyCoef: num(0.0, { min: 0 }),
  valueCoef: num(1.0, { min: 0 }),
  osiCoef: num(1.0, { min: 0 }),
  /**
   * The OSI network has its own optimizer and step size: the KL-adaptive rate
   * follows the policy's KL and would otherwise starve the supervised OSI
   * whenever the policy moves fast.
   */
  osiLearningRate: num(1e-3, { min: 0, exclusiveMin: true }),
  /**
   * Passes of the OSI's supervised phase per update, on whole rollouts
   * (rolloutSteps long, from the state stored at the rollout's start):
   * identification needs a longer history than the BPTT chunks of the policy.
   */
  osiEpochs: int(2, { min: 1 }),
  /** Minibatches (of environments) per OSI pass; divides run.numEnvs. */
  osiMinibatches: int(4, { min: 1 }),
  learningRate: num(1e-3, { min: 0, exclusiveMin: true }),
  /** Adapt the learning rate to keep the approximate KL near this (0 disables). */
  desiredKl: num(0.01, { min: 0 }),
  maxGradNorm: num(1.0, { min: 0, exclusiveMin: true }),
  normalizeAdvantages: bool(true),
});

export const runConfigSchema = obj({
  numEnvs: int(64, { min: 1 }),
  /** Worker threads stepping the environments (0 = in the main thread). */
  workers: int(2, { min: 0, max: 64 }),
  totalSteps: int(6_000_000, { min: 1 }),
  seed: int(1, { min: 0 }),
  /** Save a checkpoint (and redraw the report) every this many updates. */
  checkpointEvery: int(20, { min: 1 }),
  /** Stop early once the success rate over the recent episodes reaches this (1.01 never). */
  stopAtSuccess: num(1.01, { min: 0 }),
  /** Episodes in the success-rate / return window. */
  statsWindow: int(200, { min: 1 }),
  /**
   * Every this many updates, evaluate the deterministic policy (the mean
   * action, as deployed) on a fixed set of randomized episodes and keep the
   * best as DIR/best-checkpoint.json, which eval, export and deploy use
   * (0 disables).
   */
  evalEvery: int(50, { min: 0 }),
  /** Episodes of each periodic evaluation (one per environment, the same set every time). */
  evalEpisodes: int(64, { min: 1 }),
  /** Seed of the periodic evaluation's episodes (fixed, so evaluations compare like with like). */
  evalSeed: int(4242, { min: 0 }),
});

export type PolicyConfig = Infer<typeof policyConfigSchema>;
export type PpoConfig = Infer<typeof ppoConfigSchema>;
export type RunConfig = Infer<typeof runConfigSchema>;
