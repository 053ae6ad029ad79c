import type { Floats } from "./kernel/matrix-ops.js";
import { checkContextOptions, checkRows, setStatesAtomically, zeroGrads, type ContextOptions, type FeedForward, type Param } from "./module.js";
import { expectArray, expectKind } from "./state.js";

export interface SequentialContext {
  readonly owner: object;
  readonly maxRows: number;
  readonly backward: boolean;
  readonly layers: unknown[];
}

/**
 * Any feed-forward layers in a chain (the image networks: conv, norm,
 * activation, pooling). Mlp stays the specialised chain of linear layers
 * with its own options; this one takes the layers as built.
 */
export class Sequential<A extends Floats = Float32Array, S = unknown> implements FeedForward<A, SequentialContext, S> {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(readonly layers: FeedForward<A, any, S>[], private readonly name = "sequential") {
    if (layers.length === 0) throw new RangeError("Sequential: needs at least one layer");
    layers.forEach((l, i) => {
      if (i > 0 && l.inFeatures !== layers[i - 1]!.outFeatures) {
        throw new RangeError(`Sequential: layer ${i} takes ${l.inFeatures} features but layer ${i - 1} gives ${layers[i - 1]!.outFeatures}`);
      }
    });
    this.inFeatures = layers[0]!.inFeatures;
    this.outFeatures = layers[layers.length - 1]!.outFeatures;
  }

  newContext(opts: ContextOptions): SequentialContext {
    const o = checkContextOptions(opts, "Sequential");
    const layers = this.layers.map((l, i) => l.newContext({ maxRows: o.maxRows, backward: o.backward, inputGrad: i === 0 ? o.inputGrad : o.backward }));
    return { owner: this, maxRows: o.maxRows, backward: o.backward, layers };
  }

  forward(ctx: SequentialContext, x: A, rows: number): A {
    if (ctx.owner !== this) throw new Error("Sequential.forward: the context was created by another module");
    checkRows("Sequential", "forward", rows, ctx.maxRows);
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = this.layers[i]!.forward(ctx.layers[i], h, rows);
    return h;
  }

  backward(ctx: SequentialContext, dy: A, rows: number): A | null {
    if (ctx.owner !== this) throw new Error("Sequential.backward: the context was created by another module");
    let g: A | null = dy;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i]!.backward(ctx.layers[i], g, rows);
    return g;
  }

  params(): Param<A>[] {
    return this.layers.flatMap((l) => l.params());
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): S[] {
    return this.layers.flatMap((l) => l.toSpec());
  }

  getState(): { kind: "sequential"; layers: object[] } {
    return { kind: "sequential", layers: this.layers.map((l) => l.getState()) };
  }

  setState(state: unknown, where = this.name): void {
    const s = expectKind(state, "sequential", where);
    const layers = expectArray(s, "layers", this.layers.length, where);
    setStatesAtomically(this.layers, layers, where);
  }
}
