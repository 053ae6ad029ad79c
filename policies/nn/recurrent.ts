import type { Arena } from "./arena.js";
import type { Floats } from "./kernel/matrix-ops.js";
import type { Module, Param } from "./module.js";
import { expectEqual, expectKind, readTensor } from "./state.js";

/**
 * Shared parts of the recurrent layers (Gru, Lstm).
 *
 * Sequences are time-major: x is [T, B, in] (row t*B + b), outputs [T, B, H].
 * The recurrent state of batch row b is a vector of `stateSize` numbers
 * (GRU: h; LSTM: h then c), so a caller stores one per environment.
 * `done[t*B + b]` nonzero means an episode starts at step t in row b: the
 * state of row b is replaced by zeros before step t, and in backward no
 * gradient flows from step t into earlier steps of that row.
 */

export interface RecurrentContextOptions {
  /** Largest sequence length T a pass will use. */
  maxSteps: number;
  /** Largest batch B a pass will use. */
  maxBatch: number;
  /** Keep what backward needs (default false: inference only). */
  backward?: boolean;
  /** Also compute the gradient with respect to the input sequence (default: same as backward). */
  inputGrad?: boolean;
}

/** Read-only view of a recurrent context's results. */
export interface RecurrentResults<A extends Floats> {
  /** [maxSteps * maxBatch, hidden]: outputs h_t of the last forward pass. */
  readonly out: A;
  /** [maxBatch, stateSize]: the state after the last step of the last forward pass. */
  readonly stateT: A;
  /** [maxSteps * maxBatch, in] input gradient after backward, or null. */
  readonly dx: A | null;
  /** [maxBatch, stateSize]: gradient with respect to state0 after backward, or null without backward. */
  readonly dState0: A | null;
}

export interface Recurrent<A extends Floats = Float32Array, C extends RecurrentResults<A> = RecurrentResults<A>> extends Module<A> {
  readonly inFeatures: number;
  readonly hidden: number;
  readonly stateSize: number;
  newContext(opts: RecurrentContextOptions): C;
  /**
   * Runs T steps over x [T, B, in] from state0 [B, stateSize] (any float
   * array; it is copied) with reset mask done [T, B] (or null). Returns the
   * context's output buffer [T, B, hidden]. x and done must stay unchanged
   * until backward.
   */
  forward(ctx: C, x: A, state0: Floats, done: ArrayLike<number> | null, steps: number, batch: number): A;
  /**
   * Backpropagates through the last forward pass (truncated at its first
   * step): dOut [T, B, hidden] and dStateT [B, stateSize] may each be null.
   * Accumulates parameter gradients, fills ctx.dState0 and returns ctx.dx.
   */
  backward(ctx: C, dOut: Floats | null, dStateT: Floats | null): A | null;
  /**
   * One inference step for B rows: resets rows whose done[b] is nonzero,
   * advances `state` [B, stateSize] in place, returns the output h [B, hidden]
   * (the context's buffer). Allocates nothing.
   */
  step(ctx: C, x: A, state: Floats, batch: number, done?: ArrayLike<number> | null): A;
}

/** Buffers common to both recurrent layers. */
export class RecurrentContextBase<A extends Floats> implements RecurrentResults<A> {
  input: A | null = null;
  done: ArrayLike<number> | null = null;
  /** T and B of the last forward pass (0 before the first). */
  steps = 0;
  batch = 0;
  readonly gi: A;
  readonly gh: A;
  readonly out: A;
  readonly hPrev: A;
  readonly stateT: A;
  readonly dx: A | null;
  readonly dState0: A | null;
  readonly dh: A | null;
  readonly dhNext: A | null;

  constructor(
    arena: Arena<A>,
    readonly owner: object,
    readonly maxSteps: number,
    readonly maxBatch: number,
    readonly backward: boolean,
    dims: { inFeatures: number; hidden: number; gates: number; stateSize: number; inputGrad: boolean },
  ) {
    const rows = maxSteps * maxBatch;
    const { inFeatures, hidden, gates, stateSize } = dims;
    this.gi = arena.alloc(rows * gates * hidden);
    this.gh = arena.alloc(maxBatch * gates * hidden);
    this.out = arena.alloc(rows * hidden);
    // With backward, the (reset) state entering every step is kept; without, only the current one.
    this.hPrev = arena.alloc((backward ? rows : maxBatch) * hidden);
    this.stateT = arena.alloc(maxBatch * stateSize);
    this.dx = dims.inputGrad ? arena.alloc(rows * inFeatures) : null;
    this.dState0 = backward ? arena.alloc(maxBatch * stateSize) : null;
    this.dh = backward ? arena.alloc(maxBatch * hidden) : null;
    this.dhNext = backward ? arena.alloc(maxBatch * hidden) : null;
  }
}

export function checkRecurrentOptions(opts: RecurrentContextOptions, who: string): { maxSteps: number; maxBatch: number; backward: boolean; inputGrad: boolean } {
  const { maxSteps, maxBatch } = opts;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new RangeError(`${who}.newContext: maxSteps must be a positive integer, got ${maxSteps}`);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`${who}.newContext: maxBatch must be a positive integer, got ${maxBatch}`);
  const backward = opts.backward ?? false;
  const inputGrad = opts.inputGrad ?? backward;
  if (inputGrad && !backward) throw new RangeError(`${who}.newContext: inputGrad needs backward: true`);
  return { maxSteps, maxBatch, backward, inputGrad };
}

export function checkRecurrentForward(
  who: string, owner: object, ctx: RecurrentContextBase<Floats>, x: Floats, state0: Floats, done: ArrayLike<number> | null,
  steps: number, batch: number, inFeatures: number, stateSize: number,
): void {
  if (ctx.owner !== owner) throw new Error(`${who}: the context was created by another module`);
  if (!Number.isInteger(steps) || steps < 1 || steps > ctx.maxSteps) throw new RangeError(`${who}: steps must be an integer in [1, ${ctx.maxSteps}] (the context's maxSteps), got ${steps}`);
  if (!Number.isInteger(batch) || batch < 1 || batch > ctx.maxBatch) throw new RangeError(`${who}: batch must be an integer in [1, ${ctx.maxBatch}] (the context's maxBatch), got ${batch}`);
  if (x.length < steps * batch * inFeatures) throw new RangeError(`${who}: input has ${x.length} elements, need ${steps} x ${batch} x ${inFeatures}`);
  if (state0.length < batch * stateSize) throw new RangeError(`${who}: state has ${state0.length} elements, need ${batch} x ${stateSize}`);
  if (done !== null && done.length < steps * batch) throw new RangeError(`${who}: done mask has ${done.length} elements, need ${steps} x ${batch}`);
}

export function checkRecurrentBackward(who: string, owner: object, ctx: RecurrentContextBase<Floats>, dOut: Floats | null, dStateT: Floats | null, hidden: number, stateSize: number): void {
  if (ctx.owner !== owner) throw new Error(`${who}: the context was created by another module`);
  if (!ctx.backward) throw new Error(`${who}: the context was created without backward: true`);
  if (ctx.steps === 0 || ctx.input === null) throw new Error(`${who}: no forward pass has been run with this context`);
  const { steps, batch } = ctx;
  if (dOut !== null && dOut.length < steps * batch * hidden) throw new RangeError(`${who}: output gradient has ${dOut.length} elements, need ${steps} x ${batch} x ${hidden}`);
  if (dStateT !== null && dStateT.length < batch * stateSize) throw new RangeError(`${who}: final-state gradient has ${dStateT.length} elements, need ${batch} x ${stateSize}`);
}

/**
 * dst[b, 0..n) = src[srcOff + b*srcStride, +n), or zeros where an episode
 * starts at step t (done[t*batch + b] nonzero).
 */
export function copyStateRows(
  src: Floats, srcOff: number, srcStride: number, dst: Floats, dstOff: number, n: number,
  batch: number, done: ArrayLike<number> | null, t: number,
): void {
  for (let b = 0; b < batch; b++) {
    const d = dstOff + b * n;
    if (done !== null && done[t * batch + b]) {
      dst.fill(0, d, d + n);
    } else {
      const s = srcOff + b * srcStride;
      for (let j = 0; j < n; j++) dst[d + j] = src[s + j]!;
    }
  }
}

/** Zeroes rows of a [batch, n] gradient where an episode started at step t. */
export function zeroResetRows(g: Floats, n: number, batch: number, done: ArrayLike<number> | null, t: number): void {
  if (done === null) return;
  for (let b = 0; b < batch; b++) if (done[t * batch + b]) g.fill(0, b * n, (b + 1) * n);
}

/** dst[dstOff + i] = src[srcOff + i] for i < n (no subarray views: the hot paths allocate nothing). */
export function copyRange(src: Floats, srcOff: number, dst: Floats, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
}

/** Shared by Gru and Lstm: checks the architecture, decodes all four tensors, then writes them. */
export function loadRecurrentState<A extends Floats>(
  layer: { inFeatures: number; hidden: number; wIh: Param<A>; wHh: Param<A>; bIh: Param<A>; bHh: Param<A> },
  kind: "gru" | "lstm", state: unknown, where: string,
): void {
  const s = expectKind(state, kind, where);
  expectEqual(s, "inFeatures", layer.inFeatures, where);
  expectEqual(s, "hidden", layer.hidden, where);
  const fields = ["wIh", "wHh", "bIh", "bHh"] as const;
  const decoded = fields.map((f) => {
    const into = new Float64Array(layer[f].value.length);
    readTensor(s[f], `${where}.${f}`, layer[f].shape, into);
    return into;
  });
  fields.forEach((f, i) => layer[f].value.set(decoded[i]!));
}
