/**
 * One PPO rollout, time-major: element (t, n) of a [T, N, k] array is at
 * (t * N + n) * k. Recurrent policies are trained on chunks of `chunkLength`
 * consecutive steps of one env: the recurrent state at every chunk start is
 * stored during the rollout (truncated BPTT starts from it), and
 * `episodeStart` marks steps where the state was reset, so training resets at
 * the same places (resetting an already-reset state is harmless, so chunk
 * starts need no special case).
 */
export interface StorageShape {
  T: number;
  N: number;
  obs: number;
  priv: number;
  act: number;
  /** Size of the recurrent state saved at chunk starts (0 for feed-forward policies). */
  state: number;
  chunkLength: number;
}

export class RolloutStorage {
  readonly obs: Float32Array;
  readonly priv: Float32Array;
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly values: Float32Array;
  readonly rewards: Float32Array;
  readonly dones: Uint8Array;
  readonly episodeStart: Uint8Array;
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
  /** [numChunks, N, state]: the recurrent state before the chunk's first step. */
  readonly chunkStates: Float32Array;
  readonly numChunks: number;
  step = 0;

  constructor(readonly shape: StorageShape) {
    const { T, N } = shape;
    if (T % shape.chunkLength !== 0) throw new RangeError(`rollout length ${T} must be a multiple of the chunk length ${shape.chunkLength}`);
    this.numChunks = T / shape.chunkLength;
    this.obs = new Float32Array(T * N * shape.obs);
    this.priv = new Float32Array(T * N * shape.priv);
    this.actions = new Float32Array(T * N * shape.act);
    this.logProbs = new Float32Array(T * N);
    this.values = new Float32Array(T * N);
    this.rewards = new Float32Array(T * N);
    this.dones = new Uint8Array(T * N);
    this.episodeStart = new Uint8Array(T * N);
    this.advantages = new Float32Array(T * N);
    this.returns = new Float32Array(T * N);
    this.chunkStates = new Float32Array(this.numChunks * N * shape.state);
  }

  /** Whether the next step starts a chunk (its recurrent state must be saved first). */
  get atChunkStart(): boolean {
    return this.step % this.shape.chunkLength === 0;
  }

  saveChunkState(state: Float32Array): void {
    const { N, state: S } = this.shape;
    if (state.length !== N * S) throw new RangeError(`chunk state: expected ${N * S} values, got ${state.length}`);
    this.chunkStates.set(state, (this.step / this.shape.chunkLength) * N * S);
  }

  add(obs: Float32Array, priv: Float32Array, episodeStart: Uint8Array, actions: Float32Array, logProbs: Float32Array, values: Float32Array): void {
    const { T, N } = this.shape;
    if (this.step >= T) throw new RangeError("rollout storage is full");
    const t = this.step;
    this.obs.set(obs, t * N * this.shape.obs);
    this.priv.set(priv, t * N * this.shape.priv);
    this.episodeStart.set(episodeStart, t * N);
    this.actions.set(actions, t * N * this.shape.act);
    this.logProbs.set(logProbs, t * N);
    this.values.set(values, t * N);
  }

  /** Rewards and dones of the step just added; then advances. */
  complete(rewards: Float32Array, dones: Uint8Array): void {
    const { N } = this.shape;
    this.rewards.set(rewards, this.step * N);
    this.dones.set(dones, this.step * N);
    this.step++;
  }

  clear(): void {
    this.step = 0;
  }

  /**
   * Gathers chunks (each an (env, chunk) pair) into sequence-major minibatch
   * arrays [L, B, k] with B = chunks.length, for truncated BPTT.
   */
  gather(chunks: ArrayLike<number>, out: MinibatchArrays): void {
    const { N, chunkLength: L } = this.shape;
    const B = chunks.length;
    const copy = (src: Float32Array | Uint8Array, dst: Float32Array | Uint8Array, k: number) => {
      for (let b = 0; b < B; b++) {
        const c = chunks[b]!;
        const n = c % N;
        const t0 = Math.floor(c / N) * L;
        for (let l = 0; l < L; l++) {
          const s = ((t0 + l) * N + n) * k;
          const d = (l * B + b) * k;
          for (let j = 0; j < k; j++) dst[d + j] = src[s + j]!;
        }
      }
    };
    copy(this.obs, out.obs, this.shape.obs);
    copy(this.priv, out.priv, this.shape.priv);
    copy(this.actions, out.actions, this.shape.act);
    copy(this.logProbs, out.logProbs, 1);
    copy(this.values, out.values, 1);
    copy(this.advantages, out.advantages, 1);
    copy(this.returns, out.returns, 1);
    copy(this.episodeStart, out.episodeStart, 1);
    const S = this.shape.state;
    for (let b = 0; b < B; b++) {
      const c = chunks[b]!;
      out.states.set(this.chunkStates.subarray(c * S, (c + 1) * S), b * S);
    }
  }
}

export interface MinibatchArrays {
  obs: Float32Array;
  priv: Float32Array;
  actions: Float32Array;
  logProbs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  episodeStart: Uint8Array;
  /** [B, state] */
  states: Float32Array;
}

export function allocMinibatch(shape: StorageShape, chunksPerBatch: number): MinibatchArrays {
  const n = shape.chunkLength * chunksPerBatch;
  return {
    obs: new Float32Array(n * shape.obs),
    priv: new Float32Array(n * shape.priv),
    actions: new Float32Array(n * shape.act),
    logProbs: new Float32Array(n),
    values: new Float32Array(n),
    advantages: new Float32Array(n),
    returns: new Float32Array(n),
    episodeStart: new Uint8Array(n),
    states: new Float32Array(chunksPerBatch * shape.state),
  };
}
