import type { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import { initUniform } from "./init.js";
import type { Floats, GruCache } from "./kernel/matrix-ops.js";
import { checkFeatures, joinName, newParam, zeroGrads, type Param } from "./module.js";
import {
  RecurrentContextBase, checkRecurrentBackward, loadRecurrentState, checkRecurrentForward, checkRecurrentOptions, copyRange, copyStateRows, zeroResetRows,
  type Recurrent, type RecurrentContextOptions,
} from "./recurrent.js";
import { tensorState, type TensorState } from "./state.js";

export interface GruState {
  kind: "gru";
  inFeatures: number;
  hidden: number;
  wIh: TensorState;
  wHh: TensorState;
  bIh: TensorState;
  bHh: TensorState;
}

export class GruContext<A extends Floats = Float32Array> extends RecurrentContextBase<A> {
  /** Per step and row, kept for backward: gates r, z, candidate n, and W_hn h + b_hn. */
  readonly r: A | null;
  readonly z: A | null;
  readonly n: A | null;
  readonly ghn: A | null;
  /** Backward: gradients of the input-side and hidden-side gate pre-activations, [T*B, 3H]. */
  readonly dgi: A | null;
  readonly dgh: A | null;
  /** The four caches above as the kernel's GruCache (null without backward). */
  readonly cache: GruCache<A> | null;

  constructor(arena: Arena<A>, owner: object, o: ReturnType<typeof checkRecurrentOptions>, inFeatures: number, hidden: number) {
    super(arena, owner, o.maxSteps, o.maxBatch, o.backward, { inFeatures, hidden, gates: 3, stateSize: hidden, inputGrad: o.inputGrad });
    const rows = o.maxSteps * o.maxBatch;
    const cache = (n: number) => (o.backward ? arena.alloc(n) : null);
    this.r = cache(rows * hidden);
    this.z = cache(rows * hidden);
    this.n = cache(rows * hidden);
    this.ghn = cache(rows * hidden);
    this.dgi = cache(rows * 3 * hidden);
    this.dgh = cache(rows * 3 * hidden);
    this.cache = o.backward ? { r: this.r!, z: this.z!, n: this.n!, ghn: this.ghn! } : null;
  }
}

/**
 * Gated recurrent unit in PyTorch's formulation and (r, z, n) gate order
 * (see policies/network-spec.ts). Initialised like PyTorch: every weight and
 * bias from U(-1/sqrt(H), 1/sqrt(H)).
 *
 * The input projection of all T steps is one matrix product; only the
 * hidden-side product runs per step. Backward keeps the per-step gate
 * gradients so that the weight gradients are again single products over
 * all T*B rows.
 */
export class Gru<A extends Floats = Float32Array> implements Recurrent<A, GruContext<A>> {
  readonly stateSize: number;
  readonly wIh: Param<A>;
  readonly wHh: Param<A>;
  readonly bIh: Param<A>;
  readonly bHh: Param<A>;
  private readonly name: string;

  constructor(readonly arena: Arena<A>, readonly inFeatures: number, readonly hidden: number, rng: Rng, opts: { name?: string } = {}) {
    checkFeatures("Gru", "inFeatures", inFeatures);
    checkFeatures("Gru", "hidden", hidden);
    this.stateSize = hidden;
    this.name = opts.name ?? "gru";
    this.wIh = newParam(arena, joinName(this.name, "wIh"), [3 * hidden, inFeatures]);
    this.wHh = newParam(arena, joinName(this.name, "wHh"), [3 * hidden, hidden]);
    this.bIh = newParam(arena, joinName(this.name, "bIh"), [3 * hidden]);
    this.bHh = newParam(arena, joinName(this.name, "bHh"), [3 * hidden]);
    const bound = 1 / Math.sqrt(hidden);
    for (const p of this.params()) initUniform(rng, p.value, bound);
  }

  newContext(opts: RecurrentContextOptions): GruContext<A> {
    return new GruContext(this.arena, this, checkRecurrentOptions(opts, "Gru"), this.inFeatures, this.hidden);
  }

  forward(ctx: GruContext<A>, x: A, state0: Floats, done: ArrayLike<number> | null, steps: number, batch: number): A {
    checkRecurrentForward("Gru.forward", this, ctx, x, state0, done, steps, batch, this.inFeatures, this.hidden);
    const { arena, inFeatures: nIn, hidden: H } = this;
    const H3 = 3 * H, rows = steps * batch;
    const { gi, gh, out, hPrev } = ctx;
    const keep = ctx.backward;
    arena.fillRows(gi, 0, rows, H3, H3, this.bIh.value, 0);
    arena.gemm("nt", rows, H3, nIn, x, 0, nIn, this.wIh.value, 0, nIn, gi, 0, H3, true);
    for (let t = 0; t < steps; t++) {
      const hp = keep ? t * batch * H : 0;
      if (t === 0) copyStateRows(state0, 0, H, hPrev, hp, H, batch, done, 0);
      else copyStateRows(out, (t - 1) * batch * H, H, hPrev, hp, H, batch, done, t);
      arena.fillRows(gh, 0, batch, H3, H3, this.bHh.value, 0);
      arena.gemm("nt", batch, H3, H, hPrev, hp, H, this.wHh.value, 0, H, gh, 0, H3, true);
      arena.gruCell(batch, H, t * batch, gi, gh, hPrev, hp, out, ctx.cache);
    }
    copyRange(out, (steps - 1) * batch * H, ctx.stateT, 0, batch * H);
    ctx.input = keep ? x : null;
    ctx.done = keep ? done : null;
    ctx.steps = steps;
    ctx.batch = batch;
    return out;
  }

  backward(ctx: GruContext<A>, dOut: Floats | null, dStateT: Floats | null): A | null {
    checkRecurrentBackward("Gru.backward", this, ctx, dOut, dStateT, this.hidden, this.stateSize);
    const { arena, inFeatures: nIn, hidden: H } = this;
    const H3 = 3 * H;
    const { steps, batch, done } = ctx;
    const rows = steps * batch;
    const r = ctx.r!, z = ctx.z!, n = ctx.n!, ghn = ctx.ghn!, hPrev = ctx.hPrev, dgi = ctx.dgi!, dgh = ctx.dgh!;
    let dh = ctx.dh!, dhNext = ctx.dhNext!;
    if (dStateT) for (let i = 0; i < batch * H; i++) dh[i] = dStateT[i]!;
    else dh.fill(0, 0, batch * H);
    for (let t = steps - 1; t >= 0; t--) {
      for (let b = 0; b < batch; b++) {
        const ho = (t * batch + b) * H, go = (t * batch + b) * H3, bo = b * H;
        for (let j = 0; j < H; j++) {
          const g = dh[bo + j]! + (dOut ? dOut[ho + j]! : 0);
          const rj = r[ho + j]!, zj = z[ho + j]!, nj = n[ho + j]!;
          const dnPre = g * (1 - zj) * (1 - nj * nj);
          const drPre = dnPre * ghn[ho + j]! * rj * (1 - rj);
          const dzPre = g * (hPrev[ho + j]! - nj) * zj * (1 - zj);
          dgi[go + j] = drPre;
          dgi[go + H + j] = dzPre;
          dgi[go + 2 * H + j] = dnPre;
          dgh[go + j] = drPre;
          dgh[go + H + j] = dzPre;
          dgh[go + 2 * H + j] = dnPre * rj;
          dhNext[bo + j] = g * zj;
        }
      }
      arena.gemm("nn", batch, H, H3, dgh, t * batch * H3, H3, this.wHh.value, 0, H, dhNext, 0, H, true);
      zeroResetRows(dhNext, H, batch, done, t);
      const swap = dh;
      dh = dhNext;
      dhNext = swap;
    }
    copyRange(dh, 0, ctx.dState0!, 0, batch * H);
    const x = ctx.input!;
    arena.gemm("tn", H3, H, rows, dgh, 0, H3, hPrev, 0, H, this.wHh.grad, 0, H, true);
    arena.addColSums(dgh, 0, rows, H3, H3, this.bHh.grad, 0);
    arena.gemm("tn", H3, nIn, rows, dgi, 0, H3, x, 0, nIn, this.wIh.grad, 0, nIn, true);
    arena.addColSums(dgi, 0, rows, H3, H3, this.bIh.grad, 0);
    if (!ctx.dx) return null;
    arena.gemm("nn", rows, nIn, H3, dgi, 0, H3, this.wIh.value, 0, nIn, ctx.dx, 0, nIn, false);
    return ctx.dx;
  }

  step(ctx: GruContext<A>, x: A, state: Floats, batch: number, done: ArrayLike<number> | null = null): A {
    const out = this.forward(ctx, x, state, done, 1, batch);
    for (let i = 0; i < batch * this.hidden; i++) state[i] = out[i]!;
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
      kind: "gru",
      inFeatures: this.inFeatures,
      hidden: this.hidden,
      wIh: Float32Array.from(this.wIh.value),
      wHh: Float32Array.from(this.wHh.value),
      bIh: Float32Array.from(this.bIh.value),
      bHh: Float32Array.from(this.bHh.value),
    }];
  }

  getState(): GruState {
    return {
      kind: "gru",
      inFeatures: this.inFeatures,
      hidden: this.hidden,
      wIh: tensorState(this.wIh.value, this.wIh.shape),
      wHh: tensorState(this.wHh.value, this.wHh.shape),
      bIh: tensorState(this.bIh.value, this.bIh.shape),
      bHh: tensorState(this.bHh.value, this.bHh.shape),
    };
  }

  setState(state: unknown, where = this.name): void {
    loadRecurrentState(this, "gru", state, where);
  }
}
