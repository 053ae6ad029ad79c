import type { Rng } from "../common/rng.js";
import { Adam, clipGradNorm, type MlpContext } from "./nn/index.js";
import type { GruContext } from "./nn/gru.js";
import type { LstmContext } from "./nn/lstm.js";
import { concatRows, type ActorCritic } from "./actor-critic.js";
import { computeGae } from "./gae.js";
import type { RolloutStorage } from "./rollout-storage.js";
import type { PpoConfig } from "./train-config.js";

export interface UpdateStats {
  policyLoss: number;
  valueLoss: number;
  osiLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  gradNorm: number;
  learningRate: number;
  actionStd: number;
  /** Mean absolute OSI error per privileged parameter (normalized units), over the last epoch. */
  osiAbsError: Float64Array;
}

export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NonFiniteError";
  }
}

/**
 * Proximal policy optimization (Schulman et al. 2017) for recurrent,
 * asymmetric actor-critics with online system identification:
 *  - GAE(lambda) advantages; time-outs bootstrapped by the runner, terminations not;
 *  - clipped surrogate, entropy bonus, value loss on the critic (which sees the
 *    privileged parameters), supervised OSI loss against the true parameters;
 *  - minibatches of whole chunks of consecutive steps (truncated BPTT from the
 *    recurrent state stored at each chunk start, resets at episode starts);
 *  - global gradient-norm clipping and a KL-adaptive learning rate.
 * The OSI estimate enters the actor as an input without gradient: the OSI
 * network learns only from its supervised loss.
 */
export class Ppo {
  readonly adam: Adam;
  private readonly L: number;
  private readonly B: number;
  private readonly n: number;
  private readonly mb: {
    obs: Float32Array; priv: Float32Array; actions: Float32Array; logProbs: Float32Array; values: Float32Array;
    advantages: Float32Array; returns: Float32Array; episodeStart: Uint8Array; states: Float32Array;
  };
  private readonly obsN: Float32Array;
  private readonly actorIn: Float32Array;
  private readonly criticIn: Float32Array;
  private readonly actorState0: Float32Array;
  private readonly osiState0: Float32Array;
  private readonly logp: Float32Array;
  private readonly dLogp: Float32Array;
  private readonly dMean: Float32Array;
  private readonly dV: Float32Array;
  private readonly dEst: Float32Array;
  private readonly osiCtx?: { rnn: GruContext; head: MlpContext };
  private readonly rnnCtx?: GruContext | LstmContext;
  private readonly mlpCtx: MlpContext;
  private readonly criticCtx: MlpContext;
  private readonly chunkOrder: Int32Array;
  private readonly lastValues: Float32Array;

  constructor(
    readonly model: ActorCritic,
    readonly cfg: PpoConfig,
    readonly storage: RolloutStorage,
  ) {
    const { T, N } = storage.shape;
    const numChunks = storage.numChunks * N;
    if (numChunks % cfg.minibatches !== 0) {
      throw new RangeError(`ppo.minibatches (${cfg.minibatches}) must divide the number of chunks per rollout (${numChunks} = ${N} envs x ${T / storage.shape.chunkLength} chunks)`);
    }
    this.L = storage.shape.chunkLength;
    this.B = numChunks / cfg.minibatches;
    this.n = this.L * this.B;
    const a = model.arena;
    const { numObs, numActions, numPrivileged } = model.shape;
    const n = this.n;
    this.mb = {
      obs: a.alloc(n * numObs), priv: a.alloc(n * Math.max(1, numPrivileged)), actions: a.alloc(n * numActions), logProbs: a.alloc(n), values: a.alloc(n),
      advantages: a.alloc(n), returns: a.alloc(n), episodeStart: new Uint8Array(n), states: a.alloc(this.B * Math.max(1, model.stateSize)),
    };
    this.obsN = a.alloc(n * numObs);
    this.actorIn = a.alloc(n * model.actorInput);
    this.criticIn = a.alloc(n * (numObs + numPrivileged));
    this.actorState0 = a.alloc(this.B * Math.max(1, model.actorStateSize));
    this.osiState0 = a.alloc(this.B * Math.max(1, model.osiStateSize));
    this.logp = a.alloc(n);
    this.dLogp = a.alloc(n);
    this.dMean = a.alloc(n * numActions);
    this.dV = a.alloc(n);
    this.dEst = a.alloc(n * Math.max(1, numPrivileged));
    if (model.osi) {
      this.osiCtx = {
        rnn: model.osi.rnn.newContext({ maxSteps: this.L, maxBatch: this.B, backward: true, inputGrad: false }),
        head: model.osi.head.newContext({ maxRows: n, backward: true, inputGrad: true }),
      };
    }
    if (model.actorRnn) this.rnnCtx = model.actorRnn.newContext({ maxSteps: this.L, maxBatch: this.B, backward: true, inputGrad: false }) as GruContext | LstmContext;
    this.mlpCtx = model.actorMlp.newContext({ maxRows: n, backward: true, inputGrad: Boolean(model.actorRnn) });
    this.criticCtx = model.critic.newContext({ maxRows: n, backward: true, inputGrad: false });
    this.adam = new Adam(model.params(), { lr: cfg.learningRate });
    this.chunkOrder = Int32Array.from({ length: numChunks }, (_, i) => i);
    this.lastValues = new Float32Array(N);
  }

  /** Computes advantages (given the critic's values after the last step) and runs the epochs of minibatch updates. */
  update(lastValues: Float32Array, rng: Rng): UpdateStats {
    const s = this.storage;
    const { T, N } = s.shape;
    this.lastValues.set(lastValues);
    computeGae(s.rewards, s.values, s.dones, this.lastValues, T, N, this.cfg.gamma, this.cfg.lambda, s.advantages, s.returns);
    const P = this.model.shape.numPrivileged;
    const stats: UpdateStats = { policyLoss: 0, valueLoss: 0, osiLoss: 0, entropy: 0, approxKl: 0, clipFraction: 0, gradNorm: 0, learningRate: this.adam.lr, actionStd: 0, osiAbsError: new Float64Array(P) };
    let batches = 0;
    for (let epoch = 0; epoch < this.cfg.epochs; epoch++) {
      rng.shuffle(this.chunkOrder);
      const lastEpoch = epoch === this.cfg.epochs - 1;
      for (let m = 0; m < this.cfg.minibatches; m++) {
        s.gather(this.chunkOrder.subarray(m * this.B, (m + 1) * this.B), this.mb);
        const r = this.minibatch(lastEpoch ? stats.osiAbsError : null);
        stats.policyLoss += r.policyLoss;
        stats.valueLoss += r.valueLoss;
        stats.osiLoss += r.osiLoss;
        stats.approxKl += r.kl;
        stats.clipFraction += r.clipFraction;
        stats.gradNorm += r.gradNorm;
        batches++;
        if (this.cfg.desiredKl > 0) {
          // KL-adaptive step size (as in rsl_rl): shrink fast when the policy moved too far, grow when it barely moved.
          if (r.kl > 2 * this.cfg.desiredKl) this.adam.lr = Math.max(1e-5, this.adam.lr / 1.5);
          else if (r.kl < this.cfg.desiredKl / 2 && r.kl > 0) this.adam.lr = Math.min(1e-2, this.adam.lr * 1.5);
        }
      }
    }
    for (const k of ["policyLoss", "valueLoss", "osiLoss", "approxKl", "clipFraction", "gradNorm"] as const) stats[k] /= batches;
    for (let k = 0; k < P; k++) stats.osiAbsError[k]! /= this.cfg.minibatches * this.n;
    stats.entropy = this.model.head.entropy();
    const ls = this.model.head.logStd.value;
    let std = 0;
    for (let k = 0; k < ls.length; k++) std += Math.exp(ls[k]!);
    stats.actionStd = std / ls.length;
    stats.learningRate = this.adam.lr;
    for (const [k, v] of Object.entries(stats)) {
      if (typeof v === "number" && !Number.isFinite(v)) throw new NonFiniteError(`PPO update produced a non-finite ${k} (${v}); lower ppo.learningRate or check the reward and observations for NaN/Inf`);
    }
    return stats;
  }

  private minibatch(osiAbsError: Float64Array | null): { policyLoss: number; valueLoss: number; osiLoss: number; kl: number; clipFraction: number; gradNorm: number } {
    const model = this.model;
    const { numObs, numActions, numPrivileged: P } = model.shape;
    const { L, B, n, mb, cfg } = this;
    model.obsNorm.normalize(mb.obs, n, this.obsN);
    for (const p of model.params()) p.grad.fill(0);

    // Split the stored chunk-start states [B, actor | osi].
    const sa = model.actorStateSize, so = model.osiStateSize, S = sa + so;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < sa; k++) this.actorState0[b * sa + k] = mb.states[b * S + k]!;
      for (let k = 0; k < so; k++) this.osiState0[b * so + k] = mb.states[b * S + sa + k]!;
    }

    // Online system identification: supervised on the true (normalized) parameters.
    let osiLoss = 0;
    let actorIn = this.obsN;
    if (model.osi && this.osiCtx) {
      const h = model.osi.rnn.forward(this.osiCtx.rnn, this.obsN, this.osiState0, mb.episodeStart, L, B);
      const est = model.osi.head.forward(this.osiCtx.head, h, n);
      const scale = (2 * cfg.osiCoef) / (n * P);
      for (let i = 0; i < n * P; i++) {
        const e = est[i]! - mb.priv[i]!;
        osiLoss += e * e;
        this.dEst[i] = scale * e;
        if (osiAbsError) osiAbsError[i % P]! += Math.abs(e);
      }
      osiLoss /= n * P;
      const dh = model.osi.head.backward(this.osiCtx.head, this.dEst, n);
      model.osi.rnn.backward(this.osiCtx.rnn, dh, null);
      concatRows(this.obsN, numObs, est, P, n, this.actorIn);
      actorIn = this.actorIn;
    }

    // Actor: log-probabilities of the stored actions.
    let body = actorIn;
    if (model.actorRnn && this.rnnCtx) body = model.actorRnn.forward(this.rnnCtx as never, actorIn, this.actorState0, mb.episodeStart, L, B);
    const mean = model.actorMlp.forward(this.mlpCtx, body, n);
    model.head.logProb(mean, mb.actions, n, this.logp);

    let advMean = 0, advVar = 0;
    if (cfg.normalizeAdvantages) {
      for (let i = 0; i < n; i++) advMean += mb.advantages[i]!;
      advMean /= n;
      for (let i = 0; i < n; i++) advVar += (mb.advantages[i]! - advMean) ** 2;
      advVar /= n;
    }
    const advScale = cfg.normalizeAdvantages ? 1 / (Math.sqrt(advVar) + 1e-8) : 1;
    let policyLoss = 0, kl = 0, clipped = 0;
    const c = cfg.clipRatio;
    for (let i = 0; i < n; i++) {
      const A = (mb.advantages[i]! - (cfg.normalizeAdvantages ? advMean : 0)) * advScale;
      const logRatio = this.logp[i]! - mb.logProbs[i]!;
      const ratio = Math.exp(logRatio);
      const s1 = ratio * A;
      const s2 = Math.min(Math.max(ratio, 1 - c), 1 + c) * A;
      policyLoss -= Math.min(s1, s2);
      // The gradient flows through the unclipped branch only when it is the smaller one.
      this.dLogp[i] = s1 <= s2 ? (-A * ratio) / n : 0;
      kl += ratio - 1 - logRatio;
      if (Math.abs(ratio - 1) > c) clipped++;
    }
    policyLoss /= n;
    kl /= n;
    model.head.logProbBackward(mean, mb.actions, this.dLogp, n, this.dMean);
    model.head.entropyBackward(-cfg.entropyCoef);
    const dBody = model.actorMlp.backward(this.mlpCtx, this.dMean, n);
    if (model.actorRnn && this.rnnCtx && dBody) model.actorRnn.backward(this.rnnCtx as never, dBody, null);

    // Critic: regression on the GAE returns, from observations and privileged parameters.
    concatRows(this.obsN, numObs, mb.priv, P, n, this.criticIn);
    const v = model.critic.forward(this.criticCtx, this.criticIn, n);
    let valueLoss = 0;
    const vScale = (2 * cfg.valueCoef) / n;
    for (let i = 0; i < n; i++) {
      const e = v[i]! - mb.returns[i]!;
      valueLoss += e * e;
      this.dV[i] = vScale * e;
    }
    valueLoss /= n;
    model.critic.backward(this.criticCtx, this.dV, n);

    const gradNorm = clipGradNorm(model.params(), cfg.maxGradNorm);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(`non-finite gradient norm (${gradNorm}) in a PPO minibatch; lower ppo.learningRate or check the reward and observations for NaN/Inf`);
    this.adam.step();
    void numActions;
    return { policyLoss, valueLoss, osiLoss, kl, clipFraction: clipped / n, gradNorm };
  }
}
