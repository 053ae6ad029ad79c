import type { Rng } from "../../common/rng.js";
import type { ImageLayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import { initUniform } from "./init.js";
import type { Floats } from "./kernel/matrix-ops.js";
import {
  LayerContext, checkBackward, checkContextOptions, checkFeatures, checkForward, joinName, newParam, zeroGrads,
  type ContextOptions, type FeedForward, type Param,
} from "./module.js";
import { expectEqual, expectKind, readTensor, tensorState, type TensorState } from "./state.js";

/** Height, width and channels of one NHWC sample. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface Conv2dOptions {
  /** Input image [H, W, C] of one sample (NHWC, see network-spec.ts ImageLayerSpec). */
  input: ImageShape;
  outChannels: number;
  /** Square kernel size. */
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side (default 0). */
  padding?: number;
  /** Parameter name prefix (default "conv"). */
  name?: string;
}

export interface Conv2dState {
  kind: "conv2d";
  input: ImageShape;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  weight: TensorState;
  bias: TensorState;
}

export class Conv2dContext<A extends Floats = Float32Array> extends LayerContext<A> {
  constructor(
    owner: object, maxRows: number, backward: boolean,
    /** out [maxRows, Ho, Wo, Cout]; dx [maxRows, H, W, Cin] or null without input gradients. */
    out: A, dx: A | null,
    /** im2col patches [maxRows * Ho * Wo, kernel * kernel * Cin]; kept for backward. */
    readonly cols: A,
    /** Gradient of the patches, or null without input gradients. */
    readonly dcols: A | null,
  ) {
    super(owner, maxRows, backward, out, dx);
  }
}

export function checkImageShape(who: string, s: ImageShape): void {
  checkFeatures(who, "input.height", s.height);
  checkFeatures(who, "input.width", s.width);
  checkFeatures(who, "input.channels", s.channels);
}

/**
 * 2-D convolution over NHWC images (one sample = one row of H*W*C values),
 * as im2col + the arena's matrix kernel: the patches of every output pixel
 * form a [N*Ho*Wo, k*k*Cin] matrix whose product with the weight [Cout, k*k*Cin]
 * (transposed) is the output, exactly a Linear layer over pixels. Backward is
 * two more products (weight gradient, patch gradient) and col2im.
 *
 * Why im2col and not a direct kernel: with NHWC the patch rows are
 * contiguous runs of Cin values, the copy costs a few percent of the
 * product, and the product then runs in the tuned SIMD gemm (bench nn
 * measures both).
 */
export class Conv2d<A extends Floats = Float32Array> implements FeedForward<A, Conv2dContext<A>, ImageLayerSpec> {
  readonly weight: Param<A>;
  readonly bias: Param<A>;
  readonly input: ImageShape;
  readonly output: ImageShape;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Columns of the patch matrix: kernel * kernel * input channels. */
  readonly patch: number;
  /**
   * The weight transposed, [patch, Cout], and the gradient in that layout:
   * with Cout small (16-64) the kernel's "nn" and "tn" products on these
   * shapes run 1.6-1.7x faster than "nt" and "tn" on [Cout, patch]
   * (measured on 96x96x3 -> 16, batch 32). Refreshed on every forward pass.
   */
  private readonly wT: A;
  private readonly wTGrad: A;

  constructor(readonly arena: Arena<A>, rng: Rng, opts: Conv2dOptions) {
    checkImageShape("Conv2d", opts.input);
    checkFeatures("Conv2d", "outChannels", opts.outChannels);
    checkFeatures("Conv2d", "kernel", opts.kernel);
    const stride = opts.stride ?? 1, padding = opts.padding ?? 0;
    checkFeatures("Conv2d", "stride", stride);
    if (!Number.isInteger(padding) || padding < 0 || padding >= opts.kernel) {
      throw new RangeError(`Conv2d: padding must be an integer in [0, kernel), got ${padding}`);
    }
    const { height: H, width: W, channels: C } = opts.input;
    const Ho = Math.floor((H + 2 * padding - opts.kernel) / stride) + 1;
    const Wo = Math.floor((W + 2 * padding - opts.kernel) / stride) + 1;
    if (Ho < 1 || Wo < 1) throw new RangeError(`Conv2d: a ${opts.kernel}x${opts.kernel} kernel does not fit a ${H}x${W} input with padding ${padding}`);
    this.input = { height: H, width: W, channels: C };
    this.output = { height: Ho, width: Wo, channels: opts.outChannels };
    this.kernel = opts.kernel;
    this.stride = stride;
    this.padding = padding;
    this.patch = opts.kernel * opts.kernel * C;
    this.inFeatures = H * W * C;
    this.outFeatures = Ho * Wo * opts.outChannels;
    const name = opts.name ?? "conv";
    this.weight = newParam(arena, joinName(name, "weight"), [opts.outChannels, opts.kernel, opts.kernel, C]);
    this.bias = newParam(arena, joinName(name, "bias"), [opts.outChannels]);
    // PyTorch's default for Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
    this.wT = arena.alloc(this.patch * opts.outChannels);
    this.wTGrad = arena.alloc(this.patch * opts.outChannels);
    const bound = 1 / Math.sqrt(this.patch);
    initUniform(rng, this.weight.value, bound);
    initUniform(rng, this.bias.value, bound);
  }

  newContext(opts: ContextOptions): Conv2dContext<A> {
    const o = checkContextOptions(opts, "Conv2d");
    const pixels = o.maxRows * this.output.height * this.output.width;
    const a = this.arena;
    return new Conv2dContext<A>(
      this, o.maxRows, o.backward, a.alloc(o.maxRows * this.outFeatures), o.inputGrad ? a.alloc(o.maxRows * this.inFeatures) : null,
      a.alloc(pixels * this.patch), o.inputGrad ? a.alloc(pixels * this.patch) : null,
    );
  }

  forward(ctx: Conv2dContext<A>, x: A, rows: number): A {
    checkForward("Conv2d", this, ctx, x, rows, this.inFeatures);
    const pixels = rows * this.output.height * this.output.width, Co = this.output.channels, K = this.patch;
    this.im2col(x, ctx.cols, rows);
    const w = this.weight.value, wT = this.wT;
    for (let o = 0; o < Co; o++) for (let j = 0; j < K; j++) wT[j * Co + o] = w[o * K + j]!;
    this.arena.fillRows(ctx.out, 0, pixels, Co, Co, this.bias.value, 0);
    this.arena.gemm("nn", pixels, Co, K, ctx.cols, 0, K, wT, 0, Co, ctx.out, 0, Co, true);
    if (ctx.backward) ctx.input = x;
    ctx.rows = rows;
    return ctx.out;
  }

  backward(ctx: Conv2dContext<A>, dy: A, rows: number): A | null {
    checkBackward("Conv2d", this, ctx, dy, rows, this.outFeatures);
    const pixels = rows * this.output.height * this.output.width, Co = this.output.channels, K = this.patch;
    const gT = this.wTGrad, g = this.weight.grad;
    this.arena.gemm("tn", K, Co, pixels, ctx.cols, 0, K, dy, 0, Co, gT, 0, Co, false);
    for (let o = 0; o < Co; o++) for (let j = 0; j < K; j++) g[o * K + j] += gT[j * Co + o]!;
    this.arena.addColSums(dy, 0, pixels, Co, Co, this.bias.grad, 0);
    if (!ctx.dx || !ctx.dcols) return null;
    this.arena.gemm("nn", pixels, K, Co, dy, 0, Co, this.weight.value, 0, K, ctx.dcols, 0, K, false);
    this.col2im(ctx.dcols, ctx.dx, rows);
    return ctx.dx;
  }

  /** Patch row of output pixel (n, oy, ox): [ky][kx][c], zeros outside the image. */
  private im2col(x: A, cols: A, rows: number): void {
    const { height: H, width: W, channels: C } = this.input;
    const { height: Ho, width: Wo } = this.output;
    const k = this.kernel, s = this.stride, p = this.padding, K = this.patch, run = k * C;
    let r = 0;
    for (let n = 0; n < rows; n++) {
      const xn = n * H * W * C;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++, r++) {
          const base = r * K;
          const x0 = ox * s - p;
          const inside = x0 >= 0 && x0 + k <= W;
          for (let ky = 0; ky < k; ky++) {
            const iy = oy * s - p + ky;
            const dst = base + ky * run;
            if (iy < 0 || iy >= H) {
              cols.fill(0, dst, dst + run);
            } else if (inside) {
              // The kernel row's k pixels are contiguous in NHWC: one run
              // (a loop: subarray() would allocate a view per run).
              const src = xn + (iy * W + x0) * C;
              for (let j = 0; j < run; j++) cols[dst + j] = x[src + j]!;
            } else {
              for (let kx = 0; kx < k; kx++) {
                const ix = x0 + kx, d = dst + kx * C;
                if (ix < 0 || ix >= W) for (let c = 0; c < C; c++) cols[d + c] = 0;
                else for (let c = 0, src = xn + (iy * W + ix) * C; c < C; c++) cols[d + c] = x[src + c]!;
              }
            }
          }
        }
      }
    }
  }

  /** The adjoint of im2col: every patch entry's gradient is added to the pixel it was copied from. */
  private col2im(dcols: A, dx: A, rows: number): void {
    const { height: H, width: W, channels: C } = this.input;
    const { height: Ho, width: Wo } = this.output;
    const k = this.kernel, s = this.stride, p = this.padding, K = this.patch;
    dx.fill(0, 0, rows * this.inFeatures);
    let r = 0;
    for (let n = 0; n < rows; n++) {
      const xn = n * H * W * C;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++, r++) {
          const base = r * K;
          for (let ky = 0; ky < k; ky++) {
            const iy = oy * s - p + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = ox * s - p + kx;
              if (ix < 0 || ix >= W) continue;
              const src = base + (ky * k + kx) * C, d = xn + (iy * W + ix) * C;
              for (let c = 0; c < C; c++) dx[d + c] += dcols[src + c]!;
            }
          }
        }
      }
    }
  }

  /** Multiply-adds of one sample's forward pass (backward is twice that). */
  get macsPerSample(): number {
    return this.output.height * this.output.width * this.output.channels * this.patch;
  }

  params(): Param<A>[] {
    return [this.weight, this.bias];
  }

  zeroGrad(): void {
    zeroGrads(this.params());
  }

  toSpec(): ImageLayerSpec[] {
    return [{
      kind: "conv2d",
      inHeight: this.input.height,
      inWidth: this.input.width,
      inChannels: this.input.channels,
      outChannels: this.output.channels,
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      weight: Float32Array.from(this.weight.value),
      bias: Float32Array.from(this.bias.value),
    }];
  }

  getState(): Conv2dState {
    return {
      kind: "conv2d",
      input: { ...this.input },
      outChannels: this.output.channels,
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      weight: tensorState(this.weight.value, this.weight.shape),
      bias: tensorState(this.bias.value, this.bias.shape),
    };
  }

  setState(state: unknown, where = this.weight.name.replace(/\.weight$/, "")): void {
    const s = expectKind(state, "conv2d", where);
    expectEqual(s, "input", this.input, where);
    expectEqual(s, "outChannels", this.output.channels, where);
    expectEqual(s, "kernel", this.kernel, where);
    expectEqual(s, "stride", this.stride, where);
    expectEqual(s, "padding", this.padding, where);
    const w = new Float64Array(this.weight.value.length), b = new Float64Array(this.bias.value.length);
    readTensor(s["weight"], `${where}.weight`, this.weight.shape, w);
    readTensor(s["bias"], `${where}.bias`, this.bias.shape, b);
    this.weight.value.set(w);
    this.bias.value.set(b);
  }
}
