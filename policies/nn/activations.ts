import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import type { Floats } from "./kernel/matrix-ops.js";
import {
  checkBackward, checkFeatures, checkForward, newFeedForwardContext,
  type ContextOptions, type FeedForward, type LayerContext, type Param,
} from "./module.js";
import { expectEqual, expectKind } from "./state.js";

/**
 * Element-wise activations. The forward pass runs in the arena's kernel
 * (vectorised in WebAssembly); both backward passes use only the output y,
 * so the context keeps no copy of the input.
 */
abstract class Activation<A extends Floats> implements FeedForward<A, LayerContext<A>> {
  abstract readonly kind: "tanh" | "elu";
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The class name for error messages, read once: `this.constructor.name` allocates on every access. */
  private readonly who: string;

  constructor(readonly arena: Arena<A>, features: number) {
    this.who = this.constructor.name;
    checkFeatures(this.who, "features", features);
    this.inFeatures = this.outFeatures = features;
  }

  /** dx = dy * f'(x), written from y = f(x). */
  protected abstract derive(y: A, dy: A, dx: A, n: number): void;

  newContext(opts: ContextOptions): LayerContext<A> {
    return newFeedForwardContext(this.arena, this, this.who, this.inFeatures, this.outFeatures, opts);
  }

  forward(ctx: LayerContext<A>, x: A, rows: number): A {
    checkForward(this.who, this, ctx, x, rows, this.inFeatures);
    this.arena.activate(this.kind, x, 0, ctx.out, 0, rows * this.inFeatures);
    ctx.rows = rows;
    return ctx.out;
  }

  backward(ctx: LayerContext<A>, dy: A, rows: number): A | null {
    checkBackward(this.who, this, ctx, dy, rows, this.outFeatures);
    if (!ctx.dx) return null;
    this.derive(ctx.out, dy, ctx.dx, rows * this.inFeatures);
    return ctx.dx;
  }

  params(): Param<A>[] {
    return [];
  }

  zeroGrad(): void {}

  toSpec(): LayerSpec[] {
    return [{ kind: this.kind }];
  }

  getState(): { kind: "tanh" | "elu"; features: number } {
    return { kind: this.kind, features: this.inFeatures };
  }

  setState(state: unknown, where: string = this.kind): void {
    expectEqual(expectKind(state, this.kind, where), "features", this.inFeatures, where);
  }
}

export class Tanh<A extends Floats = Float32Array> extends Activation<A> {
  readonly kind = "tanh" as const;

  protected derive(y: A, dy: A, dx: A, n: number): void {
    for (let i = 0; i < n; i++) {
      const v = y[i]!;
      dx[i] = dy[i]! * (1 - v * v);
    }
  }
}

/** ELU with alpha = 1 (the network spec's convention). */
export class Elu<A extends Floats = Float32Array> extends Activation<A> {
  readonly kind = "elu" as const;

  protected derive(y: A, dy: A, dx: A, n: number): void {
    // For x <= 0, d/dx (e^x - 1) = e^x = y + 1.
    for (let i = 0; i < n; i++) {
      const v = y[i]!;
      dx[i] = v > 0 ? dy[i]! : dy[i]! * (v + 1);
    }
  }
}
