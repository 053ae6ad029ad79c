import type { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import { initUniform } from "./init.js";
import type { Floats, LstmCache } from "./kernel/matrix-ops.js";
import { checkFeatures, joinName, newParam, zeroGrads, type Param } from "./module.js";
import {
  RecurrentContextBase, checkRecurrentBackward, loadRecurrentState, checkRecurrentForward, checkRecurrentOptions, copyStateRows, zeroResetRows,
  type Recurrent, type RecurrentContextOptions,
} from "./recurrent.js";
import { tensorState, type TensorState } from "./state.js";

export interface LstmState {
  kind: "lstm";
  inFeatures: number;
  hidden: number;
  wIh: TensorState;
  wHh: TensorState;
  bIh: TensorState;
  bHh: TensorState;
}

export class LstmContext<A extends Floats = Float32Array> extends RecurrentContextBase<A> {
  /** Cell state entering each step (after resets): [T*B, H] with backward, else [B, H]. */
  readonly cPrev: A;
  /** Cell state leaving the current step, [B, H]. */
  readonly cCur: A;
  /** Backward cache: activated gates (i, f, g, o) [T*B, 4H] and tanh(c_t) [T*B, H]. */
  readonly gates: A | null;
  readonly tanhC: A | null;
  /** Backward: gate pre-activation gradients [T*B, 4H] and the running cell gradients [B, H]. */
  readonly dGates: A | null;
  readonly dc: A | null;
  readonly dcNext: A | null;
  /** gates and tanhC as the kernel's LstmCache (null without backward). */
  readonly cache: LstmCache<A> | null;

  constructor(arena: Arena<A>, owner: object, o: ReturnType<typeof checkRecurrentOptions>, inFeatures: number, hidden: number) {
    super(arena, owner, o.maxSteps, o.maxBatch, o.backward, { inFeatures, hidden, gates: 4, stateSize: 2 * hidden, inputGrad: o.inputGrad });
    const rows = o.maxSteps * o.maxBatch;
    const cache = (n: number) => (o.backward ? arena.alloc(n) : null);
    this.cPrev = arena.alloc((o.backward ? rows : o.maxBatch) * hidden);
    this.cCur = arena.alloc(o.maxBatch * hidden);
    this.gates = cache(rows * 4 * hidden);
    this.tanhC = cache(rows * hidden);
    this.dGates = cache(rows * 4 * hidden);
    this.dc = cache(o.maxBatch * hidden);
    this.dcNext = cache(o.maxBatch * hidden);
    this.cache = o.backward ? { gates: this.gates!, tanhC: this.tanhC! } : null;
  }
}

/**
 * Long short-term memory in PyTorch's formulation and (i, f, g, o) gate order
 * (see policies/network-spec.ts), initialised like PyTorch (U(-1/sqrt(H),
 * 1/sqrt(H)) everywhere). The state of a batch row is [h (H values), c (H values)].
 */
export class Lstm<A extends Floats = Float32Array> implements Recurrent<A, LstmContext<A>> {
  readonly stateSize: number;
  readonly wIh: Param<A>;
  readonly wHh: Param<A>;
  readonly bIh: Param<A>;
  readonly bHh: Param<A>;
  private readonly name: string;

  constructor(readonly arena: Arena<A>, readonly inFeatures: number, readonly hidden: number, rng: Rng, opts: { name?: string } = {}) {
    checkFeatures("Lstm", "inFeatures", inFeatures);
    checkFeatures("Lstm", "hidden", hidden);
    this.stateSize = 2 * hidden;
    this.name = opts.name ?? "lstm";
    this.wIh = newParam(arena, joinName(this.name, "wIh"), [4 * hidden, inFeatures]);
    this.wHh = newParam(arena, joinName(this.name, "wHh"), [4 * hidden, hidden]);
    this.bIh = newParam(arena, joinName(this.name, "bIh"), [4 * hidden]);
    this.bHh = newParam(arena, joinName(this.name, "bHh"), [4 * hidden]);
    const bound = 1 / Math.sqrt(hidden);
    for (const p of this.params()) initUniform(rng, p.value, bound);
  }

  newContext(opts: RecurrentContextOptions): LstmContext<A> {
    return new LstmContext(this.arena, this, checkRecurrentOptions(opts, "Lstm"), this.inFeatures, this.hidden);
  }

  forward(ctx: LstmContext<A>, x: A, state0: Floats, done: ArrayLike<number> | null, steps: number, batch: number): A {
    checkRecurrentForward("Lstm.forward", this, ctx, x, state0, done, steps, batch, this.inFeatures, this.stateSize);
    const { arena, inFeatures: nIn, hidden: H } = this;
    const H4 = 4 * H, S = 2 * H, rows = steps * batch;
    const { gi, gh, out, hPrev, cPrev, cCur } = ctx;
    const keep = ctx.backward;
    arena.fillRows(gi, 0, rows, H4, H4, this.bIh.value, 0);
    arena.gemm("nt", rows, H4, nIn, x, 0, nIn, this.wIh.value, 0, nIn, gi, 0, H4, true);
    for (let t = 0; t < steps; t++) {
      const sp = keep ? t * batch * H : 0;
      if (t === 0) {
        copyStateRows(state0, 0, S, hPrev, sp, H, batch, done, 0);
        copyStateRows(state0, H, S, cPrev, sp, H, batch, done, 0);
      } else {
        copyStateRows(out, (t - 1) * batch * H, H, hPrev, sp, H, batch, done, t);
        copyStateRows(cCur, 0, H, cPrev, sp, H, batch, done, t);
      }
      arena.fillRows(gh, 0, batch, H4, H4, this.bHh.value, 0);
      arena.gemm("nt", batch, H4, H, hPrev, sp, H, this.wHh.value, 0, H, gh, 0, H4, true);
      arena.lstmCell(batch, H, t * batch, gi, gh, cPrev, sp, cCur, out, ctx.cache);
    }
    const last = (steps - 1) * batch * H;
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < H; j++) {
        ctx.stateT[b * S + j] = out[last + b * H + j]!;
        ctx.stateT[b * S + H + j] = cCur[b * H + j]!;
      }
    }
    ctx.input = keep ? x : null;
    ctx.done = keep ? done : null;
    ctx.steps = steps;
    ctx.batch = batch;
    return out;
  }

  backward(ctx: LstmContext<A>, dOut: Floats | null, dStateT: Floats | null): A | null {
    checkRecurrentBackward("Lstm.backward", this, ctx, dOut, dStateT, this.hidden, this.stateSize);
    const { arena, inFeatures: nIn, hidden: H } = this;
    const H4 = 4 * H, S = 2 * H;
    const { steps, batch, done } = ctx;
    const rows = steps * batch;
    const gates = ctx.gates!, tanhC = ctx.tanhC!, cPrev = ctx.cPrev, dGates = ctx.dGates!;
    let dh = ctx.dh!, dhNext = ctx.dhNext!, dc = ctx.dc!, dcNext = ctx.dcNext!;
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < H; j++) {
        dh[b * H + j] = dStateT ? dStateT[b * S + j]! : 0;
        dc[b * H + j] = dStateT ? dStateT[b * S + H + j]! : 0;
      }
    }
    for (let t = steps - 1; t >= 0; t--) {
      for (let b = 0; b < batch; b++) {
        const ho = (t * batch + b) * H, go = (t * batch + b) * H4, bo = b * H;
        for (let j = 0; j < H; j++) {
          const g = dh[bo + j]! + (dOut ? dOut[ho + j]! : 0);
          const ij = gates[go + j]!, fj = gates[go + H + j]!, gj = gates[go + 2 * H + j]!, oj = gates[go + 3 * H + j]!;
          const tc = tanhC[ho + j]!;
          const dcT = dc[bo + j]! + g * oj * (1 - tc * tc);
          dGates[go + j] = dcT * gj * ij * (1 - ij);
          dGates[go + H + j] = dcT * cPrev[ho + j]! * fj * (1 - fj);
          dGates[go + 2 * H + j] = dcT * ij * (1 - gj * gj);
          dGates[go + 3 * H + j] = g * tc * oj * (1 - oj);
          dcNext[bo + j] = dcT * fj;
        }
      }
      arena.gemm("nn", batch, H, H4, dGates, t * batch * H4, H4, this.wHh.value, 0, H, dhNext, 0, H, false);
      zeroResetRows(dhNext, H, batch, done, t);
      zeroResetRows(dcNext, H, batch, done, t);
      let swap = dh;
      dh = dhNext;
      dhNext = swap;
      swap = dc;
      dc = dcNext;
      dcNext = swap;
    }
    const dState0 = ctx.dState0!;
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < H; j++) {
        dState0[b * S + j] = dh[b * H + j]!;
        dState0[b * S + H + j] = dc[b * H + j]!;
      }
    }
    const x = ctx.input!;
    arena.gemm("tn", H4, H, rows, dGates, 0, H4, ctx.hPrev, 0, H, this.wHh.grad, 0, H, true);
    arena.gemm("tn", H4, nIn, rows, dGates, 0, H4, x, 0, nIn, this.wIh.grad, 0, nIn, true);
    // Both biases enter every gate pre-activation alike, so they share one gradient.
    arena.addColSums(dGates, 0, rows, H4, H4, this.bHh.grad, 0);
    arena.addColSums(dGates, 0, rows, H4, H4, this.bIh.grad, 0);
    if (!ctx.dx) return null;
    arena.gemm("nn", rows, nIn, H4, dGates, 0, H4, this.wIh.value, 0, nIn, ctx.dx, 0, nIn, false);
    return ctx.dx;
  }

  step(ctx: LstmContext<A>, x: A, state: Floats, batch: number, done: ArrayLike<number> | null = null): A {
    const out = this.forward(ctx, x, state, done, 1, batch);
    const n = batch * this.stateSize;
    for (let i = 0; i < n; i++) state[i] = ctx.stateT[i]!;
    return out;
  }

  params(): Param<A>[] {
    return [this.wIh, this.wHh, this.bIh, this.bHh];
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): LayerSpec[] {
    return [{
      kind: "lstm",
      inFeatures: this.inFeatures,
      hidden: this.hidden,
      wIh: Float32Array.from(this.wIh.value),
      wHh: Float32Array.from(this.wHh.value),
      bIh: Float32Array.from(this.bIh.value),
      bHh: Float32Array.from(this.bHh.value),
    }];
  }

  getState(): LstmState {
    return {
      kind: "lstm",
      inFeatures: this.inFeatures,
      hidden: this.hidden,
      wIh: tensorState(this.wIh.value, this.wIh.shape),
      wHh: tensorState(this.wHh.value, this.wHh.shape),
      bIh: tensorState(this.bIh.value, this.bIh.shape),
      bHh: tensorState(this.bHh.value, this.bHh.shape),
    };
  }

  setState(state: unknown, where = this.name): void {
    loadRecurrentState(this, "lstm", state, where);
  }
}
