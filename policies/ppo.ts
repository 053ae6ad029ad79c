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
  /** 1 - Var(returns - values) / Var(returns) over the rollout: how much of the return the critic explains. */
  explainedVariance: number;
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
 * network learns only from its supervised loss, in a phase of its own after
 * the PPO epochs, on whole rollouts (rolloutSteps long, from the state stored
 * at the rollout's start; identification needs more history than a BPTT
 * chunk), with its own optimizer at a fixed step size (the KL-adaptive step
 * of the policy would starve it when the policy moves fast) and its own
 * gradient clipping (the critic's gradient would otherwise scale it down).
 */
export class Ppo {
  /** Optimizer of the actor and critic (KL-adaptive step size). */
  readonly adam: Adam;
  /** Optimizer of the OSI network (fixed step size), when there is one. */
  readonly osiAdam?: Adam;
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
  private readonly osiCtx?: { rnn: GruContext; head: MlpContext };
  private readonly rnnCtx?: GruContext | LstmContext;
  private readonly mlpCtx: MlpContext;
  private readonly criticCtx: MlpContext;
  private readonly chunkOrder: Int32Array;
  private readonly lastValues: Float32Array;
  private readonly osiSeq?: {
    rnn: GruContext; head: MlpContext; batch: number; envOrder: Int32Array;
    obs: Float32Array; obsN: Float32Array; priv: Float32Array; start: Uint8Array; state0: Float32Array; dEst: Float32Array;
  };

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
    if (model.osi) {
      // In the PPO minibatches the OSI only supplies the actor's input: forward only.
      this.osiCtx = {
        rnn: model.osi.rnn.newContext({ maxSteps: this.L, maxBatch: this.B, backward: false, inputGrad: false }),
        head: model.osi.head.newContext({ maxRows: n, backward: false, inputGrad: false }),
      };
      if (N % cfg.osiMinibatches !== 0) throw new RangeError(`ppo.osiMinibatches (${cfg.osiMinibatches}) must divide the number of environments (${N})`);
      const Bo = N / cfg.osiMinibatches, rows = T * Bo;
      this.osiSeq = {
        rnn: model.osi.rnn.newContext({ maxSteps: T, maxBatch: Bo, backward: true, inputGrad: false }),
        head: model.osi.head.newContext({ maxRows: rows, backward: true, inputGrad: true }),
        batch: Bo,
        envOrder: Int32Array.from({ length: N }, (_, i) => i),
        obs: a.alloc(rows * numObs), obsN: a.alloc(rows * numObs), priv: a.alloc(rows * numPrivileged), start: new Uint8Array(rows),
        state0: a.alloc(Bo * model.osiStateSize), dEst: a.alloc(rows * numPrivileged),
      };
    }
    if (model.actorRnn) this.rnnCtx = model.actorRnn.newContext({ maxSteps: this.L, maxBatch: this.B, backward: true, inputGrad: false }) as GruContext | LstmContext;
    this.mlpCtx = model.actorMlp.newContext({ maxRows: n, backward: true, inputGrad: Boolean(model.actorRnn) });
    this.criticCtx = model.critic.newContext({ maxRows: n, backward: true, inputGrad: false });
    const osiParams = new Set(model.osiParams());
    this.adam = new Adam(model.params().filter((p) => !osiParams.has(p)), { lr: cfg.learningRate });
    if (model.osi) this.osiAdam = new Adam([...osiParams], { lr: cfg.osiLearningRate });
    this.chunkOrder = Int32Array.from({ length: numChunks }, (_, i) => i);
    this.lastValues = new Float32Array(N);
  }

  /** The optimizers' states, for a checkpoint. */
  optimizerState(): { optimizer: object; osiOptimizer?: object } {
    return { optimizer: this.adam.getState(), ...(this.osiAdam ? { osiOptimizer: this.osiAdam.getState() } : {}) };
  }

  /**
   * Restores the optimizers from a checkpoint. One written before the OSI had
   * an optimizer of its own holds a single state for every parameter: it is
   * split by parameter name (the OSI then keeps its moments, and takes the
   * configured step size).
   */
  restoreOptimizers(optimizer: unknown, osiOptimizer: unknown, where = "checkpoint"): void {
    if (!this.osiAdam) {
      this.adam.setState(optimizer, `${where}.optimizer`);
      return;
    }
    if (osiOptimizer !== undefined) {
      this.adam.setState(optimizer, `${where}.optimizer`);
      this.osiAdam.setState(osiOptimizer, `${where}.osiOptimizer`);
      return;
    }
    const names = new Set(this.osiAdam.params.map((p) => p.name));
    const part = (keep: (name: string) => boolean) => {
      const st = optimizer as { m?: Record<string, unknown>; v?: Record<string, unknown> };
      const pick = (rec: Record<string, unknown> | undefined) => (rec && typeof rec === "object" ? Object.fromEntries(Object.entries(rec).filter(([k]) => keep(k))) : rec);
      return { ...(optimizer as object), m: pick(st?.m), v: pick(st?.v) };
    };
    this.adam.setState(part((k) => !names.has(k)), `${where}.optimizer`);
    this.osiAdam.setState(part((k) => names.has(k)), `${where}.optimizer`);
    this.osiAdam.lr = this.cfg.osiLearningRate;
  }

  /** Computes advantages (given the critic's values after the last step) and runs the epochs of minibatch updates. */
  update(lastValues: Float32Array, rng: Rng): UpdateStats {
    const s = this.storage;
    const { T, N } = s.shape;
    this.lastValues.set(lastValues);
    computeGae(s.rewards, s.values, s.dones, this.lastValues, T, N, this.cfg.gamma, this.cfg.lambda, s.advantages, s.returns);
    const P = this.model.shape.numPrivileged;
    const stats: UpdateStats = { policyLoss: 0, valueLoss: 0, osiLoss: 0, entropy: 0, approxKl: 0, clipFraction: 0, gradNorm: 0, learningRate: this.adam.lr, actionStd: 0, explainedVariance: explainedVariance(s.values, s.returns, T * N), osiAbsError: new Float64Array(P) };
    let batches = 0;
    for (let epoch = 0; epoch < this.cfg.epochs; epoch++) {
      rng.shuffle(this.chunkOrder);
      for (let m = 0; m < this.cfg.minibatches; m++) {
        s.gather(this.chunkOrder.subarray(m * this.B, (m + 1) * this.B), this.mb);
        const r = this.minibatch();
        stats.policyLoss += r.policyLoss;
        stats.valueLoss += r.valueLoss;
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
    for (const k of ["policyLoss", "valueLoss", "approxKl", "clipFraction", "gradNorm"] as const) stats[k] /= batches;
    if (this.osiSeq) stats.osiLoss = this.osiPhase(rng, stats.osiAbsError);
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

  /**
   * The OSI's supervised phase: whole rollouts of osiMinibatches groups of
   * environments, truncated BPTT over rolloutSteps from the OSI state stored
   * at the rollout's start. Returns the mean squared error; `absError` gets
   * the mean |estimate - truth| per parameter over the last pass.
   */
  private osiPhase(rng: Rng, absError: Float64Array): number {
    const q = this.osiSeq!, osi = this.model.osi!, s = this.storage, cfg = this.cfg;
    const { T, N } = s.shape;
    const { numObs: O, numPrivileged: P } = this.model.shape;
    const Bo = q.batch, rows = T * Bo;
    const S = this.model.stateSize, sa = this.model.actorStateSize, so = this.model.osiStateSize;
    const params = this.osiAdam!.params;
    let loss = 0;
    for (let epoch = 0; epoch < cfg.osiEpochs; epoch++) {
      rng.shuffle(q.envOrder);
      const lastEpoch = epoch === cfg.osiEpochs - 1;
      if (lastEpoch) absError.fill(0);
      for (let m = 0; m < cfg.osiMinibatches; m++) {
        for (let b = 0; b < Bo; b++) {
          const env = q.envOrder[m * Bo + b]!;
          for (let t = 0; t < T; t++) {
            const src = t * N + env, dst = t * Bo + b;
            for (let k = 0; k < O; k++) q.obs[dst * O + k] = s.obs[src * O + k]!;
            for (let k = 0; k < P; k++) q.priv[dst * P + k] = s.priv[src * P + k]!;
            q.start[dst] = s.episodeStart[src]!;
          }
          // Chunk 0's stored state is the state before the rollout's first step.
          for (let k = 0; k < so; k++) q.state0[b * so + k] = s.chunkStates[env * S + sa + k]!;
        }
        this.model.obsNorm.normalize(q.obs, rows, q.obsN);
        for (const p of params) p.grad.fill(0);
        const h = osi.rnn.forward(q.rnn, q.obsN, q.state0, q.start, T, Bo);
        const est = osi.head.forward(q.head, h, rows);
        const scale = (2 * cfg.osiCoef) / (rows * P);
        let sq = 0;
        for (let i = 0; i < rows * P; i++) {
          const e = est[i]! - q.priv[i]!;
          sq += e * e;
          q.dEst[i] = scale * e;
          if (lastEpoch) absError[i % P]! += Math.abs(e);
        }
        loss += sq / (rows * P);
        const dh = osi.head.backward(q.head, q.dEst, rows);
        osi.rnn.backward(q.rnn, dh, null);
        const norm = clipGradNorm(params, cfg.maxGradNorm);
        if (!Number.isFinite(norm)) throw new NonFiniteError(`non-finite OSI gradient norm (${norm}); lower ppo.osiLearningRate or check the observations for NaN/Inf`);
        this.osiAdam!.step();
      }
    }
    for (let k = 0; k < P; k++) absError[k]! /= cfg.osiMinibatches * rows;
    return loss / (cfg.osiEpochs * cfg.osiMinibatches);
  }

  private minibatch(): { policyLoss: number; valueLoss: number; kl: number; clipFraction: number; gradNorm: number } {
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

    // The OSI's current estimate is the actor's input (the OSI trains in its own phase).
    let actorIn = this.obsN;
    if (model.osi && this.osiCtx) {
      const h = model.osi.rnn.forward(this.osiCtx.rnn, this.obsN, this.osiState0, mb.episodeStart, L, B);
      const est = model.osi.head.forward(this.osiCtx.head, h, n);
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

    const gradNorm = clipGradNorm(this.adam.params, cfg.maxGradNorm);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(`non-finite gradient norm (${gradNorm}) in a PPO minibatch; lower ppo.learningRate or check the reward and observations for NaN/Inf`);
    this.adam.step();
    void numActions;
    return { policyLoss, valueLoss, kl, clipFraction: clipped / n, gradNorm };
  }
}

function explainedVariance(values: Float32Array, returns: Float32Array, n: number): number {
  let mr = 0, md = 0;
  for (let i = 0; i < n; i++) {
    mr += returns[i]!;
    md += returns[i]! - values[i]!;
  }
  mr /= n;
  md /= n;
  let vr = 0, vd = 0;
  for (let i = 0; i < n; i++) {
    vr += (returns[i]! - mr) ** 2;
    vd += (returns[i]! - values[i]! - md) ** 2;
  }
  return vr > 0 ? 1 - vd / vr : 0;
}
