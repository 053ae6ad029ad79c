import type { Rng } from "../common/rng.js";
import type { EpisodeResult, VecEnv } from "../sim/env/contract.js";
import { PolicyStepper, type ActorCritic } from "./actor-critic.js";
import type { RolloutStorage } from "./rollout-storage.js";

/** The environments [first, first + count) of a run's `total`: a whole run is { first: 0, count: total, total }. */
export interface EnvSlice {
  first: number;
  count: number;
  total: number;
}

/** A finished episode and the rollout step (0..T) it finished at, so slices' episodes merge back in the run's order. */
export interface RolloutEpisode extends EpisodeResult {
  step: number;
}

export interface CollectResult {
  episodes: RolloutEpisode[];
  /** The signal stopped the rollout before the storage was full. */
  interrupted: boolean;
}

/**
 * Steps a vector env with the policy for one rollout, filling a storage of
 * `slice.count` envs and carrying observations, recurrent states and episode
 * starts from one rollout to the next. The same loop serves the learner (the
 * whole run as one slice) and remote rollout workers (one slice each): action
 * noise for the slice is drawn from the run's one action stream exactly as a
 * whole-run rollout draws it (every env's draws in env order, the other
 * slices' discarded), so a run split over any number of workers takes the
 * same actions, bit for bit.
 */
export class RolloutCollector {
  private readonly stepper: PolicyStepper;
  private readonly actions: Float32Array;
  private readonly fullMean: Float32Array;
  private readonly fullActions: Float32Array;
  private readonly logp: Float32Array;
  private readonly values: Float32Array;
  private readonly rewards: Float32Array;
  private readonly dones: Uint8Array;
  private readonly finalValues: Float32Array;
  private episodeStart: Uint8Array;
  private obs?: Float32Array;
  private priv?: Float32Array;

  constructor(
    private readonly model: ActorCritic,
    private readonly env: VecEnv,
    readonly slice: EnvSlice,
    private readonly gamma: number,
  ) {
    const n = slice.count;
    if (env.numEnvs !== n) throw new RangeError(`rollout collector: the env has ${env.numEnvs} environments, the slice ${n}`);
    if (!(slice.first >= 0 && slice.first + n <= slice.total)) throw new RangeError(`rollout collector: slice ${slice.first}+${n} is outside the run's ${slice.total} envs`);
    const A = model.shape.numActions;
    this.stepper = new PolicyStepper(model, n);
    this.actions = new Float32Array(n * A);
    this.fullMean = new Float32Array(slice.total * A);
    this.fullActions = new Float32Array(slice.total * A);
    this.logp = new Float32Array(n);
    this.values = new Float32Array(n);
    this.rewards = new Float32Array(n);
    this.dones = new Uint8Array(n);
    this.finalValues = new Float32Array(n);
    this.episodeStart = new Uint8Array(n).fill(1);
  }

  /** Fills `storage` (cleared first) with one rollout, and `lastValues` with the values of the observations the next one starts from. */
  async collect(storage: RolloutStorage, rng: Rng, lastValues: Float32Array, signal?: AbortSignal): Promise<CollectResult> {
    const n = this.slice.count;
    const { T } = storage.shape;
    if (storage.shape.N !== n) throw new RangeError(`rollout collector: storage holds ${storage.shape.N} envs, the slice ${n}`);
    if (!this.obs || !this.priv) ({ obs: this.obs, privileged: this.priv } = await this.env.reset());
    const model = this.model, stepper = this.stepper;
    const episodes: RolloutEpisode[] = [];
    storage.clear();
    for (let t = 0; t < T; t++) {
      if (signal?.aborted) return { episodes, interrupted: true };
      if (storage.atChunkStart) storage.saveChunkState(stepper.packStates());
      const mean = stepper.act(this.obs, this.episodeStart);
      this.sample(mean, rng);
      model.head.logProb(mean, this.actions, n, this.logp);
      stepper.values(this.priv, this.values);
      storage.add(this.obs, this.priv, this.episodeStart, this.actions, this.logp, this.values);
      const b = await this.env.step(this.actions);
      this.rewards.set(b.reward);
      let anyTruncated = false;
      for (let i = 0; i < n; i++) {
        this.dones[i] = b.terminated[i]! | b.truncated[i]!;
        if (b.truncated[i]) anyTruncated = true;
      }
      if (anyTruncated) {
        // Time-outs are not failures: bootstrap from the value of the observation the episode was cut at.
        stepper.valuesOf(b.finalObs, b.finalPrivileged, this.finalValues);
        for (let i = 0; i < n; i++) if (b.truncated[i]) this.rewards[i]! += this.gamma * this.finalValues[i]!;
      }
      storage.complete(this.rewards, this.dones);
      for (const e of b.episodes) episodes.push({ ...e, step: t });
      this.episodeStart = this.dones.slice();
      this.obs = b.obs;
      this.priv = b.privileged;
    }
    // Values of the observations the next rollout starts from (the critic is feed-forward: no state to disturb).
    stepper.valuesOf(this.obs, this.priv, lastValues);
    return { episodes, interrupted: false };
  }

  private sample(mean: Float32Array, rng: Rng): void {
    const { first, count, total } = this.slice;
    const head = this.model.head;
    if (count === total) {
      head.sample(mean, count, rng, this.actions);
      return;
    }
    const A = this.model.shape.numActions;
    this.fullMean.set(mean.subarray(0, count * A), first * A);
    head.sample(this.fullMean, total, rng, this.fullActions);
    this.actions.set(this.fullActions.subarray(first * A, (first + count) * A));
  }
}
