import type { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import { initOrthogonal, initUniform, type InitKind } from "./init.js";
import type { Floats } from "./kernel/matrix-ops.js";
import {
  checkBackward, checkFeatures, checkForward, joinName, newFeedForwardContext, newParam, zeroGrads,
  type ContextOptions, type FeedForward, type LayerContext, type Param,
} from "./module.js";
import { expectEqual, expectKind, readTensor, tensorState, type TensorState } from "./state.js";

export interface LinearOptions {
  /** Name prefix of the parameters ("<name>.weight", "<name>.bias"). */
  name?: string;
  /** "uniform" (default): PyTorch's U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
   *  "orthogonal": orthogonal weight times `gain`, bias 0. */
  init?: InitKind;
  /** Gain of the orthogonal init (default 1). */
  gain?: number;
}

export interface LinearState {
  kind: "linear";
  inFeatures: number;
  outFeatures: number;
  weight: TensorState;
  bias: TensorState;
}

/** y = x W^T + b over rows; W is [out, in] as in the network spec. */
export class Linear<A extends Floats = Float32Array> implements FeedForward<A, LayerContext<A>> {
  readonly weight: Param<A>;
  readonly bias: Param<A>;

  constructor(
    readonly arena: Arena<A>,
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    opts: LinearOptions = {},
  ) {
    checkFeatures("Linear", "inFeatures", inFeatures);
    checkFeatures("Linear", "outFeatures", outFeatures);
    const name = opts.name ?? "linear";
    this.weight = newParam(arena, joinName(name, "weight"), [outFeatures, inFeatures]);
    this.bias = newParam(arena, joinName(name, "bias"), [outFeatures]);
    const init = opts.init ?? "uniform";
    if (init === "orthogonal") {
      initOrthogonal(rng, this.weight.value, outFeatures, inFeatures, opts.gain ?? 1);
    } else if (init === "uniform") {
      const bound = 1 / Math.sqrt(inFeatures);
      initUniform(rng, this.weight.value, bound);
      initUniform(rng, this.bias.value, bound);
    } else {
      throw new RangeError(`Linear: init must be "uniform" or "orthogonal", got ${JSON.stringify(init)}`);
    }
  }

  newContext(opts: ContextOptions): LayerContext<A> {
    return newFeedForwardContext(this.arena, this, "Linear", this.inFeatures, this.outFeatures, opts);
  }

  forward(ctx: LayerContext<A>, x: A, rows: number): A {
    checkForward("Linear", this, ctx, x, rows, this.inFeatures);
    const { arena, inFeatures: nIn, outFeatures: nOut } = this;
    arena.fillRows(ctx.out, 0, rows, nOut, nOut, this.bias.value, 0);
    arena.gemm("nt", rows, nOut, nIn, x, 0, nIn, this.weight.value, 0, nIn, ctx.out, 0, nOut, true);
    if (ctx.backward) ctx.input = x;
    ctx.rows = rows;
    return ctx.out;
  }

  backward(ctx: LayerContext<A>, dy: A, rows: number): A | null {
    checkBackward("Linear", this, ctx, dy, rows, this.outFeatures);
    const { arena, inFeatures: nIn, outFeatures: nOut } = this;
    const x = ctx.input!;
    arena.gemm("tn", nOut, nIn, rows, dy, 0, nOut, x, 0, nIn, this.weight.grad, 0, nIn, true);
    arena.addColSums(dy, 0, rows, nOut, nOut, this.bias.grad, 0);
    if (!ctx.dx) return null;
    arena.gemm("nn", rows, nIn, nOut, dy, 0, nOut, this.weight.value, 0, nIn, ctx.dx, 0, nIn, false);
    return ctx.dx;
  }

  params(): Param<A>[] {
    return [this.weight, this.bias];
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): LayerSpec[] {
    return [{
      kind: "linear",
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      weight: Float32Array.from(this.weight.value),
      bias: Float32Array.from(this.bias.value),
    }];
  }

  getState(): LinearState {
    return {
      kind: "linear",
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      weight: tensorState(this.weight.value, this.weight.shape),
      bias: tensorState(this.bias.value, this.bias.shape),
    };
  }

  setState(state: unknown, where = this.weight.name.replace(/\.weight$/, "")): void {
    const s = expectKind(state, "linear", where);
    expectEqual(s, "inFeatures", this.inFeatures, where);
    expectEqual(s, "outFeatures", this.outFeatures, where);
    // Decode both before writing either, so a bad state leaves the layer unchanged.
    const w = new Float64Array(this.weight.value.length), b = new Float64Array(this.bias.value.length);
    readTensor(s["weight"], `${where}.weight`, this.weight.shape, w);
    readTensor(s["bias"], `${where}.bias`, this.bias.shape, b);
    this.weight.value.set(w);
    this.bias.value.set(b);
  }
}
