import { Rng } from "../common/rng.js";
import type { SequentialSpec } from "./network-spec.js";
import { Arena, GaussianHead, Gru, Lstm, Mlp, RunningNorm, type MlpContext, type Param } from "./nn/index.js";
import type { GruContext } from "./nn/gru.js";
import type { LstmContext } from "./nn/lstm.js";
import type { PolicyParts } from "./onnx/policy-parts.js";
import type { PolicyConfig } from "./train-config.js";

export interface ActorCriticShape {
  numObs: number;
  numActions: number;
  /** Size of the privileged vector (randomized parameters, normalized). */
  numPrivileged: number;
}

type RecurrentLayer = Gru | Lstm;
type RecurrentCtx = GruContext | LstmContext;

/**
 * The trained model: observation normalization, an optional recurrent OSI
 * network estimating the privileged parameters, the actor (MLP or
 * GRU/LSTM + MLP) whose input is the normalized observation (and, for
 * UP-OSI, the OSI estimate), a Gaussian head, and an asymmetric critic that
 * sees the normalized observation and the true privileged parameters (the
 * actor never does).
 *
 * Recurrent state per environment is one vector: [actor state | OSI state].
 */
export class ActorCritic {
  readonly obsNorm: RunningNorm;
  readonly osi?: { rnn: Gru; head: Mlp };
  readonly actorRnn?: RecurrentLayer;
  readonly actorMlp: Mlp;
  readonly head: GaussianHead;
  readonly critic: Mlp;
  /** Recurrent state sizes per environment. */
  readonly actorStateSize: number;
  readonly osiStateSize: number;
  readonly actorInput: number;

  constructor(
    readonly arena: Arena,
    readonly shape: ActorCriticShape,
    readonly config: PolicyConfig,
    seed: number,
  ) {
    const rng = Rng.derive(seed, 0x4ac);
    const { numObs, numActions, numPrivileged } = shape;
    this.obsNorm = new RunningNorm(numObs, { clip: 10 });
    const useOsi = config.osi === "up";
    if (useOsi && numPrivileged === 0) throw new Error("policy.osi = \"up\" needs randomized parameters to estimate, but the task randomizes none");
    if (useOsi) {
      this.osi = {
        rnn: new Gru(arena, numObs, config.osiHidden, rng, { name: "osi.gru" }),
        head: new Mlp(arena, rng, { sizes: [config.osiHidden, numPrivileged], name: "osi.head", outputGain: 1 }),
      };
    }
    this.osiStateSize = useOsi ? config.osiHidden : 0;
    this.actorInput = numObs + (useOsi ? numPrivileged : 0);
    let mlpIn = this.actorInput;
    if (config.arch === "gru") this.actorRnn = new Gru(arena, this.actorInput, config.hidden, rng, { name: "pi.gru" });
    if (config.arch === "lstm") this.actorRnn = new Lstm(arena, this.actorInput, config.hidden, rng, { name: "pi.lstm" });
    if (this.actorRnn) mlpIn = config.hidden;
    this.actorStateSize = this.actorRnn ? this.actorRnn.stateSize : 0;
    this.actorMlp = new Mlp(arena, rng, { sizes: [mlpIn, ...config.actorLayers, numActions], activation: config.activation, outputGain: 0.01, name: "pi.mlp" });
    this.head = new GaussianHead(arena, numActions, { initLogStd: config.initLogStd, name: "pi.head" });
    this.critic = new Mlp(arena, rng, { sizes: [numObs + numPrivileged, ...config.criticLayers, 1], activation: config.activation, outputGain: 1, name: "vf.mlp" });
  }

  get stateSize(): number {
    return this.actorStateSize + this.osiStateSize;
  }

  get recurrent(): boolean {
    return this.stateSize > 0;
  }

  /** Every trained parameter (the normalizer is not trained by gradients). */
  params(): Param[] {
    return [
      ...(this.osi ? [...this.osi.rnn.params(), ...this.osi.head.params()] : []),
      ...(this.actorRnn ? this.actorRnn.params() : []),
      ...this.actorMlp.params(),
      ...this.head.params(),
      ...this.critic.params(),
    ];
  }

  /** The OSI network's parameters (trained by their own optimizer); empty without OSI. */
  osiParams(): Param[] {
    return this.osi ? [...this.osi.rnn.params(), ...this.osi.head.params()] : [];
  }

  /** Network parts for the ONNX exporter: normalization, actor, OSI. */
  toParts(): PolicyParts {
    const norm = this.obsNorm.toSpec()[0]!;
    if (norm.kind !== "normalize") throw new Error("internal: observation normalizer spec");
    const actor: SequentialSpec = { layers: [...(this.actorRnn ? this.actorRnn.toSpec() : []), ...this.actorMlp.toSpec()] };
    return {
      obsSize: this.shape.numObs,
      obsNormalizer: norm,
      actor,
      ...(this.osi ? { osi: { network: { layers: [...this.osi.rnn.toSpec(), ...this.osi.head.toSpec()] }, conditionsActor: true } } : {}),
    } as PolicyParts;
  }

  getState(): object {
    return {
      obsNorm: this.obsNorm.getState(),
      osi: this.osi ? { rnn: this.osi.rnn.getState(), head: this.osi.head.getState() } : null,
      actorRnn: this.actorRnn ? this.actorRnn.getState() : null,
      actorMlp: this.actorMlp.getState(),
      head: this.head.getState(),
      critic: this.critic.getState(),
    };
  }

  setState(state: unknown, where = "model"): void {
    const s = state as Record<string, unknown>;
    if (typeof s !== "object" || s === null) throw new Error(`${where}: expected an object`);
    this.obsNorm.setState(s.obsNorm, `${where}.obsNorm`);
    if (this.osi) {
      const o = s.osi as Record<string, unknown> | null;
      if (!o) throw new Error(`${where}.osi: the checkpoint has no OSI network but the config asks for one`);
      this.osi.rnn.setState(o.rnn, `${where}.osi.rnn`);
      this.osi.head.setState(o.head, `${where}.osi.head`);
    } else if (s.osi) throw new Error(`${where}.osi: the checkpoint has an OSI network but the config has osi = "none"`);
    if (this.actorRnn) this.actorRnn.setState(s.actorRnn, `${where}.actorRnn`);
    else if (s.actorRnn) throw new Error(`${where}.actorRnn: the checkpoint is recurrent but the config says arch = "mlp"`);
    this.actorMlp.setState(s.actorMlp, `${where}.actorMlp`);
    this.head.setState(s.head, `${where}.head`);
    this.critic.setState(s.critic, `${where}.critic`);
  }
}

/**
 * Batched, allocation-free inference for rollouts and evaluation: one call
 * per control step for N environments, carrying their recurrent states.
 */
export class PolicyStepper {
  readonly states: Float32Array;
  readonly mean: Float32Array;
  readonly osiEstimate: Float32Array;
  private readonly obsN: Float32Array;
  private readonly actorIn: Float32Array;
  private readonly criticIn: Float32Array;
  private readonly actorState: Float32Array;
  private readonly osiState: Float32Array;
  private readonly osiCtx?: { rnn: GruContext; head: MlpContext };
  private readonly rnnCtx?: RecurrentCtx;
  private readonly mlpCtx: MlpContext;
  private readonly criticCtx: MlpContext;

  constructor(
    readonly model: ActorCritic,
    readonly n: number,
  ) {
    const a = model.arena;
    const { numObs, numActions, numPrivileged } = model.shape;
    this.states = new Float32Array(n * model.stateSize);
    this.actorState = a.alloc(n * Math.max(1, model.actorStateSize));
    this.osiState = a.alloc(n * Math.max(1, model.osiStateSize));
    this.obsN = a.alloc(n * numObs);
    this.actorIn = a.alloc(n * model.actorInput);
    this.criticIn = a.alloc(n * (numObs + numPrivileged));
    this.mean = a.alloc(n * numActions);
    this.osiEstimate = a.alloc(n * Math.max(1, numPrivileged));
    if (model.osi) this.osiCtx = { rnn: model.osi.rnn.newContext({ maxSteps: 1, maxBatch: n }), head: model.osi.head.newContext({ maxRows: n }) };
    if (model.actorRnn) this.rnnCtx = model.actorRnn.newContext({ maxSteps: 1, maxBatch: n }) as RecurrentCtx;
    this.mlpCtx = model.actorMlp.newContext({ maxRows: n });
    this.criticCtx = model.critic.newContext({ maxRows: n });
  }

  /** Zeroes every environment's recurrent state. */
  resetAll(): void {
    this.actorState.fill(0);
    this.osiState.fill(0);
  }

  /** Copies the recurrent state (actor, then OSI) into `into` (stateBufferSize values). */
  saveState(into: Float32Array): void {
    into.set(this.actorState, 0);
    into.set(this.osiState, this.actorState.length);
  }

  /** Restores a state saved by saveState(). */
  restoreState(from: Float32Array): void {
    this.actorState.set(from.subarray(0, this.actorState.length));
    this.osiState.set(from.subarray(this.actorState.length, this.actorState.length + this.osiState.length));
  }

  /** Values saveState() writes. */
  get stateBufferSize(): number {
    return this.actorState.length + this.osiState.length;
  }

  /**
   * Deterministic action means for observations [n, numObs]; rows with
   * `episodeStart` set have their recurrent state zeroed first.
   */
  act(obs: Float32Array, episodeStart: Uint8Array | null): Float32Array {
    const m = this.model;
    const { numObs, numPrivileged } = m.shape;
    const n = this.n;
    m.obsNorm.normalize(obs, n, this.obsN);
    let actorIn: Float32Array = this.obsN;
    if (m.osi && this.osiCtx) {
      const h = m.osi.rnn.step(this.osiCtx.rnn, this.obsN, this.osiState, n, episodeStart);
      const est = m.osi.head.forward(this.osiCtx.head, h, n);
      this.osiEstimate.set(est.subarray(0, n * numPrivileged));
      concatRows(this.obsN, numObs, est, numPrivileged, n, this.actorIn);
      actorIn = this.actorIn;
    }
    let body = actorIn;
    if (m.actorRnn && this.rnnCtx) body = m.actorRnn.step(this.rnnCtx as never, actorIn, this.actorState, n, episodeStart);
    const mean = m.actorMlp.forward(this.mlpCtx, body, n);
    this.mean.set(mean.subarray(0, n * m.shape.numActions));
    return this.mean;
  }

  /** Critic values for the last `act` call's observations and these privileged vectors. */
  values(priv: Float32Array, out: Float32Array): void {
    const { numObs, numPrivileged } = this.model.shape;
    concatRows(this.obsN, numObs, priv, numPrivileged, this.n, this.criticIn);
    const v = this.model.critic.forward(this.criticCtx, this.criticIn, this.n);
    out.set(v.subarray(0, this.n));
  }

  /** Critic values of other observations (e.g. final observations of truncated episodes); uses the current normalizer. */
  valuesOf(obs: Float32Array, priv: Float32Array, out: Float32Array): void {
    const { numObs, numPrivileged } = this.model.shape;
    this.model.obsNorm.normalize(obs, this.n, this.obsN);
    concatRows(this.obsN, numObs, priv, numPrivileged, this.n, this.criticIn);
    const v = this.model.critic.forward(this.criticCtx, this.criticIn, this.n);
    out.set(v.subarray(0, this.n));
  }

  /** Packs the per-env recurrent state [actor | osi] into `states` (for storage at chunk starts). */
  packStates(): Float32Array {
    const sa = this.model.actorStateSize, so = this.model.osiStateSize, s = sa + so;
    for (let i = 0; i < this.n; i++) {
      for (let k = 0; k < sa; k++) this.states[i * s + k] = this.actorState[i * sa + k]!;
      for (let k = 0; k < so; k++) this.states[i * s + sa + k] = this.osiState[i * so + k]!;
    }
    return this.states;
  }
}

/** out[r] = [a[r, 0..na), b[r, 0..nb)] */
export function concatRows(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, rows: number, out: Float32Array): void {
  const w = na + nb;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < na; k++) out[r * w + k] = a[r * na + k]!;
    for (let k = 0; k < nb; k++) out[r * w + na + k] = b[r * nb + k]!;
  }
}
