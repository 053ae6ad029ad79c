import type { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../network-spec.js";
import { Elu, Tanh } from "./activations.js";
import type { Arena } from "./arena.js";
import type { InitKind } from "./init.js";
import type { Floats } from "./kernel/matrix-ops.js";
import { Linear } from "./linear.js";
import { checkContextOptions, checkRows, setStatesAtomically, joinName, zeroGrads, type ContextOptions, type FeedForward, type LayerContext, type Param } from "./module.js";
import { expectArray, expectEqual, expectKind } from "./state.js";

export type ActivationKind = "tanh" | "elu";

export interface MlpOptions {
  /** Layer widths, input first: [in, hidden..., out]; at least two entries. */
  sizes: number[];
  /** Activation after every hidden layer (default "tanh"). */
  activation?: ActivationKind;
  /** Activation after the last layer (default "none"). */
  outputActivation?: ActivationKind | "none";
  /** Weight init (default "orthogonal", biases 0; "uniform" is PyTorch's default). */
  init?: InitKind;
  /** Orthogonal gain of hidden layers (default sqrt(2)). */
  hiddenGain?: number;
  /** Orthogonal gain of the last layer (default 1; PPO actors commonly use 0.01). */
  outputGain?: number;
  /** Parameter name prefix (default "mlp"): "<name>.<i>.weight" for the i-th linear layer. */
  name?: string;
}

export interface MlpContext<A extends Floats = Float32Array> {
  readonly owner: object;
  readonly maxRows: number;
  readonly backward: boolean;
  readonly layers: LayerContext<A>[];
  /** [maxRows, out] */
  readonly out: A;
  /** [maxRows, in], or null without input gradients. */
  readonly dx: A | null;
}

type Layer<A extends Floats> = Linear<A> | Tanh<A> | Elu<A>;

/** Linear layers with an activation between them (and optionally after the last). */
export class Mlp<A extends Floats = Float32Array> implements FeedForward<A, MlpContext<A>> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly sizes: number[];
  readonly activation: ActivationKind;
  readonly outputActivation: ActivationKind | "none";
  readonly linears: Linear<A>[] = [];
  /** All layers in order, activations included. */
  readonly layers: Layer<A>[] = [];
  private readonly name: string;

  constructor(readonly arena: Arena<A>, rng: Rng, opts: MlpOptions) {
    const sizes = opts.sizes;
    if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new RangeError(`Mlp: sizes must list at least two positive integers (input, ..., output), got ${JSON.stringify(sizes)}`);
    }
    this.sizes = [...sizes];
    this.activation = opts.activation ?? "tanh";
    this.outputActivation = opts.outputActivation ?? "none";
    for (const [field, v, allowed] of [["activation", this.activation, ["tanh", "elu"]], ["outputActivation", this.outputActivation, ["tanh", "elu", "none"]]] as const) {
      if (!(allowed as readonly string[]).includes(v)) throw new RangeError(`Mlp: ${field} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    }
    this.name = opts.name ?? "mlp";
    const init = opts.init ?? "orthogonal";
    const last = sizes.length - 2;
    for (let i = 0; i <= last; i++) {
      const lin = new Linear(arena, sizes[i]!, sizes[i + 1]!, rng, {
        name: joinName(this.name, String(i)),
        init,
        gain: i === last ? (opts.outputGain ?? 1) : (opts.hiddenGain ?? Math.SQRT2),
      });
      this.linears.push(lin);
      this.layers.push(lin);
      const act = i === last ? this.outputActivation : this.activation;
      if (act === "tanh") this.layers.push(new Tanh(arena, sizes[i + 1]!));
      else if (act === "elu") this.layers.push(new Elu(arena, sizes[i + 1]!));
    }
    this.inFeatures = sizes[0]!;
    this.outFeatures = sizes[sizes.length - 1]!;
  }

  newContext(opts: ContextOptions): MlpContext<A> {
    const o = checkContextOptions(opts, "Mlp");
    const layers = this.layers.map((l, i) =>
      (l as FeedForward<A, LayerContext<A>>).newContext({ maxRows: o.maxRows, backward: o.backward, inputGrad: i === 0 ? o.inputGrad : o.backward }),
    );
    return { owner: this, maxRows: o.maxRows, backward: o.backward, layers, out: layers[layers.length - 1]!.out, dx: layers[0]!.dx };
  }

  forward(ctx: MlpContext<A>, x: A, rows: number): A {
    if (ctx.owner !== this) throw new Error("Mlp.forward: the context was created by another module");
    checkRows("Mlp", "forward", rows, ctx.maxRows);
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = (this.layers[i] as FeedForward<A, LayerContext<A>>).forward(ctx.layers[i]!, h, rows);
    return h;
  }

  backward(ctx: MlpContext<A>, dy: A, rows: number): A | null {
    if (ctx.owner !== this) throw new Error("Mlp.backward: the context was created by another module");
    let g: A | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) g = (this.layers[i] as FeedForward<A, LayerContext<A>>).backward(ctx.layers[i]!, g!, rows);
    return g;
  }

  params(): Param<A>[] {
    return this.linears.flatMap((l) => l.params());
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): LayerSpec[] {
    return this.layers.flatMap((l) => l.toSpec());
  }

  getState(): { kind: "mlp"; sizes: number[]; activation: string; outputActivation: string; layers: object[] } {
    return {
      kind: "mlp",
      sizes: [...this.sizes],
      activation: this.activation,
      outputActivation: this.outputActivation,
      layers: this.linears.map((l) => l.getState()),
    };
  }

  setState(state: unknown, where = this.name): void {
    const s = expectKind(state, "mlp", where);
    expectEqual(s, "sizes", this.sizes, where);
    expectEqual(s, "activation", this.activation, where);
    expectEqual(s, "outputActivation", this.outputActivation, where);
    const layers = expectArray(s, "layers", this.linears.length, where);
    setStatesAtomically(this.linears, layers, where);
  }
}
