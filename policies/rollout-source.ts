import type { ActorCritic } from "./actor-critic.js";
import { RolloutCollector, type CollectResult } from "./rollout-collector.js";
import type { RolloutStorage } from "./rollout-storage.js";
import type { TrainConfig } from "./runner.js";
import type { Rng } from "../common/rng.js";
import { LocalVecEnv } from "../sim/env/local-vec-env.js";
import { WorkerVecEnv } from "../sim/env/worker-vec-env.js";
import type { VecEnv } from "../sim/env/contract.js";
import type { ParamSourceSpec } from "../sim/env/param-source.js";

/**
 * Where the learner's rollouts come from: the local envs (worker threads or
 * the main thread), or remote rollout workers (launch/ray). Either way a
 * rollout fills the run's whole storage [T, numEnvs] with the current model's
 * actions, and episodes come back in the order a local rollout finishes them.
 */
export interface RolloutSource {
  collect(storage: RolloutStorage, rng: Rng, lastValues: Float32Array, signal?: AbortSignal): Promise<CollectResult>;
  /** Where the next episodes draw their parameters (automatic domain randomization moves its ranges between rollouts). */
  setParamSource?(params: ParamSourceSpec): Promise<void>;
  close(): Promise<void>;
}

export interface RolloutSourceContext {
  taskName: string;
  config: TrainConfig;
  /** The learner's model: a source reads its current weights before every rollout. */
  model: ActorCritic;
  /** Seed of the run's env streams (env i's streams derive from it and i). */
  envSeed: number;
  log: (line: string) => void;
  /** Parameter source of the envs' episodes; default the task's randomization. */
  params?: ParamSourceSpec;
}

export type RolloutSourceFactory = (ctx: RolloutSourceContext) => Promise<RolloutSource>;

/** The run's envs on this machine: `run.workers` worker threads, or the main thread. */
export async function createLocalRolloutEnv(taskName: string, config: TrainConfig, envSeed: number, slice?: { first: number; count: number }, workers = config.run.workers, params?: ParamSourceSpec): Promise<VecEnv> {
  const o = { task: taskName, config: config.task, seed: envSeed, numEnvs: slice?.count ?? config.run.numEnvs, firstEnv: slice?.first ?? 0, ...(params ? { params } : {}) };
  return workers > 0 ? WorkerVecEnv.create({ ...o, workers }) : LocalVecEnv.create(o);
}

export const localRollouts: RolloutSourceFactory = async (ctx) => {
  const N = ctx.config.run.numEnvs;
  const env = await createLocalRolloutEnv(ctx.taskName, ctx.config, ctx.envSeed, undefined, ctx.config.run.workers, ctx.params);
  const collector = new RolloutCollector(ctx.model, env, { first: 0, count: N, total: N }, ctx.config.ppo.gamma);
  return {
    collect: (storage, rng, lastValues, signal) => collector.collect(storage, rng, lastValues, signal),
    setParamSource: (params) => env.setParamSource(params),
    close: () => env.close(),
  };
};
