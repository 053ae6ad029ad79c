import type { ImageLayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import { checkImageShape, type ImageShape } from "./conv2d.js";
import type { Floats } from "./kernel/matrix-ops.js";
import {
  LayerContext, checkBackward, checkContextOptions, checkFeatures, checkForward, joinName, newFeedForwardContext, newParam, zeroGrads,
  type ContextOptions, type FeedForward, type Param,
} from "./module.js";
import { expectEqual, expectKind, readTensor, tensorState, type TensorState } from "./state.js";

/**
 * The parameter-free and normalization layers of image networks, over NHWC
 * samples (network-spec.ts ImageLayerSpec has the equations). Their loops
 * are plain TypeScript: each touches every value once or twice, which is
 * memory-bound and small next to the convolutions' products.
 */

function shapeOf(s: ImageShape): ImageShape {
  return { height: s.height, width: s.width, channels: s.channels };
}

/** Base of the layers without parameters. */
abstract class Stateless<A extends Floats> implements FeedForward<A, LayerContext<A>, ImageLayerSpec> {
  abstract readonly kind: "relu" | "globalavgpool" | "flatten" | "gradreverse";
  protected readonly who: string;
  constructor(readonly arena: Arena<A>, readonly inFeatures: number, readonly outFeatures: number) {
    this.who = this.constructor.name;
  }
  newContext(opts: ContextOptions): LayerContext<A> {
    return newFeedForwardContext(this.arena, this, this.who, this.inFeatures, this.outFeatures, opts);
  }
  forward(ctx: LayerContext<A>, x: A, rows: number): A {
    checkForward(this.who, this, ctx, x, rows, this.inFeatures);
    this.apply(x, ctx.out, rows);
    ctx.rows = rows;
    return ctx.out;
  }
  backward(ctx: LayerContext<A>, dy: A, rows: number): A | null {
    checkBackward(this.who, this, ctx, dy, rows, this.outFeatures);
    if (!ctx.dx) return null;
    this.derive(ctx.out, dy, ctx.dx, rows);
    return ctx.dx;
  }
  protected abstract apply(x: A, y: A, rows: number): void;
  /** dx from the output y and its gradient dy. */
  protected abstract derive(y: A, dy: A, dx: A, rows: number): void;
  params(): Param<A>[] {
    return [];
  }
  zeroGrad(): void {}
  abstract toSpec(): ImageLayerSpec[];
  getState(): object {
    return { kind: this.kind, inFeatures: this.inFeatures, outFeatures: this.outFeatures };
  }
  setState(state: unknown, where: string = this.kind): void {
    const s = expectKind(state, this.kind, where);
    expectEqual(s, "inFeatures", this.inFeatures, where);
    expectEqual(s, "outFeatures", this.outFeatures, where);
  }
}

/** max(x, 0), element-wise. */
export class Relu<A extends Floats = Float32Array> extends Stateless<A> {
  readonly kind = "relu" as const;
  constructor(arena: Arena<A>, features: number) {
    checkFeatures("Relu", "features", features);
    super(arena, features, features);
  }
  protected apply(x: A, y: A, rows: number): void {
    for (let i = 0, n = rows * this.inFeatures; i < n; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : 0;
    }
  }
  protected derive(y: A, dy: A, dx: A, rows: number): void {
    for (let i = 0, n = rows * this.inFeatures; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
  }
  toSpec(): ImageLayerSpec[] {
    return [{ kind: "relu" }];
  }
}

/** [H, W, C] -> [C]: the mean of every channel over the pixels. */
export class GlobalAvgPool<A extends Floats = Float32Array> extends Stateless<A> {
  readonly kind = "globalavgpool" as const;
  readonly input: ImageShape;
  constructor(arena: Arena<A>, input: ImageShape) {
    checkImageShape("GlobalAvgPool", input);
    super(arena, input.height * input.width * input.channels, input.channels);
    this.input = shapeOf(input);
  }
  protected apply(x: A, y: A, rows: number): void {
    const C = this.input.channels, P = this.input.height * this.input.width, inv = 1 / P;
    y.fill(0, 0, rows * C);
    for (let n = 0; n < rows; n++) {
      const yn = n * C;
      for (let p = 0, xi = n * P * C; p < P; p++) for (let c = 0; c < C; c++, xi++) y[yn + c] += x[xi]!;
      for (let c = 0; c < C; c++) y[yn + c] *= inv;
    }
  }
  protected derive(_y: A, dy: A, dx: A, rows: number): void {
    const C = this.input.channels, P = this.input.height * this.input.width, inv = 1 / P;
    for (let n = 0; n < rows; n++) {
      for (let p = 0, xi = n * P * C; p < P; p++) for (let c = 0; c < C; c++, xi++) dx[xi] = dy[n * C + c]! * inv;
    }
  }
  toSpec(): ImageLayerSpec[] {
    return [{ kind: "globalavgpool", ...this.input }];
  }
}

/**
 * [H, W, C] -> [H * W * C] in NHWC order. In process a sample already is
 * that vector, so forward returns its input and backward its output
 * gradient (no copy); the spec tells the ONNX exporter to transpose its
 * NCHW tensor back before flattening.
 */
export class Flatten<A extends Floats = Float32Array> extends Stateless<A> {
  readonly kind = "flatten" as const;
  readonly input: ImageShape;
  constructor(arena: Arena<A>, input: ImageShape) {
    checkImageShape("Flatten", input);
    const n = input.height * input.width * input.channels;
    super(arena, n, n);
    this.input = shapeOf(input);
  }
  override newContext(opts: ContextOptions): LayerContext<A> {
    const o = checkContextOptions(opts, this.who);
    // No buffers: forward and backward pass their argument through.
    const none = this.arena.alloc(0);
    return new LayerContext<A>(this, o.maxRows, o.backward, none, o.inputGrad ? none : null);
  }
  override forward(ctx: LayerContext<A>, x: A, rows: number): A {
    checkForward(this.who, this, ctx, x, rows, this.inFeatures);
    ctx.rows = rows;
    return x;
  }
  override backward(ctx: LayerContext<A>, dy: A, rows: number): A | null {
    checkBackward(this.who, this, ctx, dy, rows, this.outFeatures);
    return ctx.dx ? dy : null;
  }
  protected apply(): void {}
  protected derive(): void {}
  toSpec(): ImageLayerSpec[] {
    return [{ kind: "flatten", ...this.input }];
  }
}

/**
 * Gradient reversal (Ganin & Lempitsky 2015): the identity forward, -lambda
 * times the gradient backward. Put between a feature extractor and a domain
 * discriminator, it trains the features to confuse the discriminator while
 * the discriminator learns to tell the domains apart. `lambda` may change
 * between steps (the usual schedule ramps it from 0). It is a training-time
 * layer: its spec is empty (nothing to export).
 */
export class GradReverse<A extends Floats = Float32Array> extends Stateless<A> {
  readonly kind = "gradreverse" as const;
  constructor(arena: Arena<A>, features: number, public lambda = 1) {
    checkFeatures("GradReverse", "features", features);
    super(arena, features, features);
    if (!Number.isFinite(lambda)) throw new RangeError(`GradReverse: lambda must be finite, got ${lambda}`);
  }
  protected apply(x: A, y: A, rows: number): void {
    y.set(x.subarray(0, rows * this.inFeatures));
  }
  protected derive(_y: A, dy: A, dx: A, rows: number): void {
    const l = -this.lambda;
    for (let i = 0, n = rows * this.inFeatures; i < n; i++) dx[i] = l * dy[i]!;
  }
  toSpec(): ImageLayerSpec[] {
    return [];
  }
}

export interface GroupNormState {
  kind: "groupnorm";
  input: ImageShape;
  groups: number;
  eps: number;
  gamma: TensorState;
  beta: TensorState;
}

export class GroupNormContext<A extends Floats = Float32Array> extends LayerContext<A> {
  constructor(
    owner: object, maxRows: number, backward: boolean, out: A, dx: A | null,
    /** Normalized input (before gamma, beta), [maxRows, features]. */
    readonly xhat: A,
    /** 1 / sqrt(var + eps) per sample and group, [maxRows, groups]. */
    readonly invStd: A,
  ) {
    super(owner, maxRows, backward, out, dx);
  }
}

/**
 * Group normalization (Wu & He 2018) over NHWC samples. Statistics are per
 * sample, so a batch mixing two domains (renders and real frames) does not
 * leak one domain's statistics into the other, and inference equals
 * training (no running averages). groups = 1 is layer norm over C, H, W;
 * groups = C is instance norm.
 */
export class GroupNorm<A extends Floats = Float32Array> implements FeedForward<A, GroupNormContext<A>, ImageLayerSpec> {
  readonly gamma: Param<A>;
  readonly beta: Param<A>;
  readonly input: ImageShape;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly eps: number;

  constructor(readonly arena: Arena<A>, input: ImageShape, readonly groups: number, opts: { eps?: number; name?: string } = {}) {
    checkImageShape("GroupNorm", input);
    checkFeatures("GroupNorm", "groups", groups);
    if (input.channels % groups !== 0) throw new RangeError(`GroupNorm: groups (${groups}) must divide the channels (${input.channels})`);
    this.eps = opts.eps ?? 1e-5;
    if (!(this.eps > 0)) throw new RangeError(`GroupNorm: eps must be positive, got ${this.eps}`);
    this.input = shapeOf(input);
    this.inFeatures = this.outFeatures = input.height * input.width * input.channels;
    const name = opts.name ?? "groupnorm";
    this.gamma = newParam(arena, joinName(name, "gamma"), [input.channels]);
    this.beta = newParam(arena, joinName(name, "beta"), [input.channels]);
    this.gamma.value.fill(1);
  }

  newContext(opts: ContextOptions): GroupNormContext<A> {
    const o = checkContextOptions(opts, "GroupNorm");
    const a = this.arena;
    return new GroupNormContext<A>(
      this, o.maxRows, o.backward, a.alloc(o.maxRows * this.outFeatures), o.inputGrad ? a.alloc(o.maxRows * this.inFeatures) : null,
      a.alloc(o.maxRows * this.inFeatures), a.alloc(o.maxRows * this.groups),
    );
  }

  forward(ctx: GroupNormContext<A>, x: A, rows: number): A {
    checkForward("GroupNorm", this, ctx, x, rows, this.inFeatures);
    const C = this.input.channels, P = this.input.height * this.input.width, G = this.groups, Cg = C / G, M = P * Cg;
    const gamma = this.gamma.value, beta = this.beta.value, y = ctx.out, xh = ctx.xhat;
    for (let n = 0; n < rows; n++) {
      const base = n * P * C;
      for (let g = 0; g < G; g++) {
        const c0 = g * Cg;
        // Two passes (mean, then squared deviations): one-pass sums lose digits in float32.
        let sum = 0;
        for (let p = 0; p < P; p++) for (let c = 0, i = base + p * C + c0; c < Cg; c++, i++) sum += x[i]!;
        const mean = sum / M;
        let sq = 0;
        for (let p = 0; p < P; p++) {
          for (let c = 0, i = base + p * C + c0; c < Cg; c++, i++) {
            const d = x[i]! - mean;
            sq += d * d;
          }
        }
        const inv = 1 / Math.sqrt(sq / M + this.eps);
        ctx.invStd[n * G + g] = inv;
        for (let p = 0; p < P; p++) {
          for (let c = 0, i = base + p * C + c0; c < Cg; c++, i++) {
            const h = (x[i]! - mean) * inv;
            xh[i] = h;
            y[i] = h * gamma[c0 + c]! + beta[c0 + c]!;
          }
        }
      }
    }
    ctx.rows = rows;
    return y;
  }

  /**
   * With xh the normalized input and d = dy * gamma:
   *   dx = invStd * (d - mean(d) - xh * mean(d * xh)) over each group.
   */
  backward(ctx: GroupNormContext<A>, dy: A, rows: number): A | null {
    checkBackward("GroupNorm", this, ctx, dy, rows, this.outFeatures);
    const C = this.input.channels, P = this.input.height * this.input.width, G = this.groups, Cg = C / G, M = P * Cg;
    const gamma = this.gamma.value, dgamma = this.gamma.grad, dbeta = this.beta.grad, xh = ctx.xhat, dx = ctx.dx;
    for (let n = 0; n < rows; n++) {
      const base = n * P * C;
      for (let p = 0; p < P; p++) {
        for (let c = 0, i = base + p * C; c < C; c++, i++) {
          dgamma[c] += dy[i]! * xh[i]!;
          dbeta[c] += dy[i]!;
        }
      }
      if (!dx) continue;
      for (let g = 0; g < G; g++) {
        const c0 = g * Cg;
        let sd = 0, sdx = 0;
        for (let p = 0; p < P; p++) {
          for (let c = 0, i = base + p * C + c0; c < Cg; c++, i++) {
            const d = dy[i]! * gamma[c0 + c]!;
            sd += d;
            sdx += d * xh[i]!;
          }
        }
        const md = sd / M, mdx = sdx / M, inv = ctx.invStd[n * G + g]!;
        for (let p = 0; p < P; p++) {
          for (let c = 0, i = base + p * C + c0; c < Cg; c++, i++) dx[i] = inv * (dy[i]! * gamma[c0 + c]! - md - xh[i]! * mdx);
        }
      }
    }
    return dx;
  }

  params(): Param<A>[] {
    return [this.gamma, this.beta];
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): ImageLayerSpec[] {
    return [{
      kind: "groupnorm", ...this.input, groups: this.groups, eps: this.eps,
      gamma: Float32Array.from(this.gamma.value), beta: Float32Array.from(this.beta.value),
    }];
  }

  getState(): GroupNormState {
    return {
      kind: "groupnorm", input: { ...this.input }, groups: this.groups, eps: this.eps,
      gamma: tensorState(this.gamma.value, this.gamma.shape), beta: tensorState(this.beta.value, this.beta.shape),
    };
  }

  setState(state: unknown, where = this.gamma.name.replace(/\.gamma$/, "")): void {
    const s = expectKind(state, "groupnorm", where);
    expectEqual(s, "input", this.input, where);
    expectEqual(s, "groups", this.groups, where);
    expectEqual(s, "eps", this.eps, where);
    const g = new Float64Array(this.gamma.value.length), b = new Float64Array(this.beta.value.length);
    readTensor(s["gamma"], `${where}.gamma`, this.gamma.shape, g);
    readTensor(s["beta"], `${where}.beta`, this.beta.shape, b);
    this.gamma.value.set(g);
    this.beta.value.set(b);
  }
}
