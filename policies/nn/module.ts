import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import type { Floats } from "./kernel/matrix-ops.js";

/**
 * What every trainable piece of the core has in common, and the per-use
 * context objects that make forward/backward reentrant.
 *
 * A module owns only its parameters. Everything a pass writes (outputs, the
 * values backward needs, input gradients) lives in a context created once by
 * `newContext` for a maximum batch size and reused on every call, so:
 * - rollout inference (a context without backward) and training (a context
 *   with backward) can use the same module side by side, and
 * - no call of forward, backward or step allocates.
 * Returned arrays are the context's full-capacity buffers; the first
 * rows x features elements are the result.
 */

export interface Param<A extends Floats = Float32Array> {
  /** Hierarchical name, e.g. "pi.mlp.0.weight". */
  name: string;
  value: A;
  /** Accumulated by backward passes; cleared by zeroGrad(). */
  grad: A;
  shape: number[];
}

/** `S` is the spec a module exports: LayerSpec, or ImageLayerSpec for the image layers (conv2d.ts). */
export interface Module<A extends Floats = Float32Array, S = LayerSpec> {
  params(): Param<A>[];
  zeroGrad(): void;
  /** Snapshot (copies) of the weights in the neutral network description. */
  toSpec(): S[];
  /** JSON-able checkpoint state (see state.ts for the format). */
  getState(): object;
  /** Loads getState() output into a module of the same architecture; errors name the field. */
  setState(state: unknown, where?: string): void;
}

export interface ContextOptions {
  /** Largest number of rows (batch) a pass will use. */
  maxRows: number;
  /** Keep what backward needs (default false: inference only). */
  backward?: boolean;
  /** Also compute the gradient with respect to the input (default: same as backward). */
  inputGrad?: boolean;
}

/** Context of a feed-forward layer (Linear, Tanh, Elu). */
export class LayerContext<A extends Floats = Float32Array> {
  /** The input of the last forward pass (backward of Linear needs it). */
  input: A | null = null;
  /** Rows of the last forward pass, or -1 before the first. */
  rows = -1;
  constructor(
    readonly owner: object,
    readonly maxRows: number,
    readonly backward: boolean,
    /** [maxRows, outFeatures] */
    readonly out: A,
    /** [maxRows, inFeatures], or null without input gradients. */
    readonly dx: A | null,
  ) {}
}

/** A layer mapping [rows, inFeatures] to [rows, outFeatures]. */
export interface FeedForward<A extends Floats = Float32Array, C = unknown, S = LayerSpec> extends Module<A, S> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  newContext(opts: ContextOptions): C;
  /** Returns the context's output buffer; `x` must stay unchanged until backward. */
  forward(ctx: C, x: A, rows: number): A;
  /** Accumulates parameter gradients; returns the input gradient (context buffer) or null. */
  backward(ctx: C, dy: A, rows: number): A | null;
}

export function checkContextOptions(opts: ContextOptions, who: string): { maxRows: number; backward: boolean; inputGrad: boolean } {
  const { maxRows } = opts;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`${who}.newContext: maxRows must be a positive integer, got ${maxRows}`);
  const backward = opts.backward ?? false;
  const inputGrad = opts.inputGrad ?? backward;
  if (inputGrad && !backward) throw new RangeError(`${who}.newContext: inputGrad needs backward: true`);
  return { maxRows, backward, inputGrad };
}

export function newFeedForwardContext<A extends Floats>(
  arena: Arena<A>, owner: object, who: string, inFeatures: number, outFeatures: number, opts: ContextOptions,
): LayerContext<A> {
  const o = checkContextOptions(opts, who);
  return new LayerContext<A>(owner, o.maxRows, o.backward, arena.alloc(o.maxRows * outFeatures), o.inputGrad ? arena.alloc(o.maxRows * inFeatures) : null);
}

/** What the shared argument checks read of a context. */
export interface ContextHeader {
  readonly owner: object;
  readonly maxRows: number;
  readonly backward: boolean;
  rows: number;
}

/** Forward-pass argument checks shared by feed-forward layers. */
export function checkForward(who: string, owner: object, ctx: ContextHeader, x: Floats, rows: number, inFeatures: number): void {
  if (ctx.owner !== owner) throw new Error(`${who}.forward: the context was created by another module`);
  checkRows(who, "forward", rows, ctx.maxRows);
  if (x.length < rows * inFeatures) throw new RangeError(`${who}.forward: input has ${x.length} elements, need ${rows} x ${inFeatures}`);
}

/** Backward-pass argument checks shared by feed-forward layers. */
export function checkBackward(who: string, owner: object, ctx: ContextHeader, dy: Floats, rows: number, outFeatures: number): void {
  if (ctx.owner !== owner) throw new Error(`${who}.backward: the context was created by another module`);
  if (!ctx.backward) throw new Error(`${who}.backward: the context was created without backward: true`);
  if (ctx.rows < 0) throw new Error(`${who}.backward: no forward pass has been run with this context`);
  if (rows !== ctx.rows) throw new RangeError(`${who}.backward: ${rows} rows, but the forward pass had ${ctx.rows}`);
  if (dy.length < rows * outFeatures) throw new RangeError(`${who}.backward: output gradient has ${dy.length} elements, need ${rows} x ${outFeatures}`);
}

/** `who` and `op` stay apart until an error: joining them on every call would allocate a string. */
export function checkRows(who: string, op: string, rows: number, maxRows: number): void {
  if (!Number.isInteger(rows) || rows < 0 || rows > maxRows) {
    throw new RangeError(`${who}.${op}: rows must be an integer in [0, ${maxRows}] (the context's maxRows), got ${rows}`);
  }
}

export function checkFeatures(who: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${who}: ${name} must be a positive integer, got ${n}`);
}

export function zeroGrads<A extends Floats>(params: Param<A>[]): void {
  for (const p of params) p.grad.fill(0);
}

/** A parameter whose value and gradient are arena memory. */
export function newParam<A extends Floats>(arena: Arena<A>, name: string, shape: number[]): Param<A> {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, value: arena.alloc(n), grad: arena.alloc(n), shape: [...shape] };
}

export function joinName(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * Loads `states[i]` into `modules[i]` for every i; when one fails, the
 * earlier ones are restored, so a bad state leaves the whole unchanged.
 */
export function setStatesAtomically(modules: Module<any, any>[], states: unknown[], where: string, field = "layers"): void {
  const saved = modules.map((m) => m.getState());
  try {
    modules.forEach((m, i) => m.setState(states[i], `${where}.${field}[${i}]`));
  } catch (e) {
    modules.forEach((m, i) => m.setState(saved[i]));
    throw e;
  }
}
