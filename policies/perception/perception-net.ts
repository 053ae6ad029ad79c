import { ConfigError } from "../../common/schema.js";
import { wrapAngle } from "../../sim/physics/math.js";
import { Rng } from "../../common/rng.js";
import type { ImageLayerSpec } from "../network-spec.js";
import { Adam, type AdamOptions } from "../nn/adam.js";
import type { Arena } from "../nn/arena.js";
import { clipGradNorm } from "../nn/clip-grad.js";
import { Conv2d, type ImageShape } from "../nn/conv2d.js";
import { Flatten, GlobalAvgPool, GroupNorm, Relu } from "../nn/image-layers.js";
import { createArena, type KernelChoice } from "../nn/kernel/load.js";
import type { Floats } from "../nn/kernel/matrix-ops.js";
import { Mlp, type MlpContext } from "../nn/mlp.js";
import { checkRows, type FeedForward, type Param } from "../nn/module.js";
import { Sequential, type SequentialContext } from "../nn/sequential.js";
import { expectKind, expectObject } from "../nn/state.js";
import { channelsOf, parsePerceptionNetConfig, type PerceptionNetConfig } from "./perception-config.js";

/**
 * The perception network: a raw camera image in, each observed joint's
 * (sin, cos) out.
 *
 *   uint8 [N, H, W, C * frames] (ROS encoding, NHWC)
 *   -> x / 255 -> [conv k s (pad k/2) -> GroupNorm -> ReLU] x L
 *   -> flatten (or global average pool) = the features
 *   -> MLP head (ELU) -> joints [N, 2 J] = (sin q0, cos q0, sin q1, cos q1, ...)
 *
 * The scaling is part of the network (and of its ONNX graph) so that a
 * deployment feeds the camera's bytes as they arrive. The features are
 * exposed: a domain discriminator attaches to them through GradReverse, and
 * backward() takes its gradient. (sin, cos) avoids the wrap-around of an
 * angle regression; atan2 gives the angle back.
 */

export interface PerceptionContext<A extends Floats = Float32Array> {
  readonly owner: object;
  readonly maxRows: number;
  readonly backward: boolean;
  /** The scaled image, [maxRows, H * W * C]. */
  readonly input: A;
  readonly trunk: SequentialContext;
  readonly head: MlpContext<A>;
  /** Gradient of the loss with respect to `joints`, written by loss(). */
  readonly dJoints: A;
  rows: number;
}

export interface PerceptionOutput<A extends Floats = Float32Array> {
  /** [rows, 2 J]: sin, cos per joint (context buffer, overwritten by the next pass). */
  joints: A;
  /** [rows, featureSize] (context buffer). */
  features: A;
}

export interface PerceptionLoss {
  /** Mean over rows and outputs of (predicted - true)^2 on sin and cos. */
  loss: number;
  /** Per joint: mean |wrapped angle error| in degrees, the angle taken by atan2(sin, cos). */
  meanAbsErrorDeg: number[];
}

export interface PerceptionSpec {
  input: { height: number; width: number; channels: number; encoding: "rgb8" | "mono8"; framesStacked: number };
  joints: string[];
  /** Input scaling: x = bytes * scale. */
  scale: number;
  /** Trunk then head; the features are the output of trunk layer `featureLayers - 1`. */
  layers: ImageLayerSpec[];
  featureLayers: number;
  featureSize: number;
}

export interface PerceptionCreateOptions {
  seed?: number;
  kernel?: KernelChoice;
  /** Arena capacity in MiB (default 1024; untouched memory costs nothing). */
  capacityMiB?: number;
}

export const PIXEL_SCALE = 1 / 255;

export class PerceptionNet<A extends Floats = Float32Array> {
  readonly config: PerceptionNetConfig;
  readonly trunk: Sequential<A, ImageLayerSpec>;
  readonly head: Mlp<A>;
  readonly inputShape: ImageShape;
  readonly featureSize: number;
  readonly outputSize: number;
  private ownsArena = false;

  constructor(readonly arena: Arena<A>, rng: Rng, config: unknown) {
    this.config = parsePerceptionNetConfig(config);
    const c = this.config;
    this.inputShape = { height: c.inputHeight, width: c.inputWidth, channels: channelsOf(c.encoding) * c.framesStacked };
    const layers: FeedForward<A, any, ImageLayerSpec>[] = [];
    let shape = this.inputShape;
    c.conv.forEach((l, i) => {
      const conv = new Conv2d(arena, rng, { input: shape, outChannels: l.channels, kernel: l.kernel, stride: l.stride, padding: Math.floor(l.kernel / 2), name: `trunk.conv${i}` });
      shape = conv.output;
      layers.push(conv, new GroupNorm(arena, shape, c.groups, { name: `trunk.norm${i}` }), new Relu(arena, conv.outFeatures));
    });
    layers.push(c.pooling === "avg" ? new GlobalAvgPool(arena, shape) : new Flatten(arena, shape));
    this.trunk = new Sequential(layers, "trunk");
    this.featureSize = this.trunk.outFeatures;
    this.outputSize = 2 * c.joints.length;
    this.head = new Mlp(arena, rng, { sizes: [this.featureSize, ...c.head, this.outputSize], activation: "elu", name: "head" });
  }

  /** A float32 network on its own arena (freed by dispose()). */
  static create(config: unknown, opts: PerceptionCreateOptions = {}): PerceptionNet<Float32Array> {
    const arena = createArena({ capacityMiB: opts.capacityMiB ?? 1024, ...(opts.kernel ? { kernel: opts.kernel } : {}) });
    try {
      const net = new PerceptionNet(arena, new Rng(opts.seed ?? 0), config);
      net.ownsArena = true;
      return net;
    } catch (e) {
      arena.dispose();
      throw e;
    }
  }

  get inputBytesPerSample(): number {
    return this.inputShape.height * this.inputShape.width * this.inputShape.channels;
  }

  newContext(opts: { maxRows: number; backward?: boolean }): PerceptionContext<A> {
    const backward = opts.backward ?? false;
    const trunk = this.trunk.newContext({ maxRows: opts.maxRows, backward, inputGrad: false });
    // The head's input gradient is the features' gradient, which the trunk's backward needs.
    const head = this.head.newContext({ maxRows: opts.maxRows, backward, inputGrad: backward });
    return {
      owner: this, maxRows: opts.maxRows, backward, trunk, head, rows: -1,
      input: this.arena.alloc(opts.maxRows * this.inputBytesPerSample),
      dJoints: this.arena.alloc(backward ? opts.maxRows * this.outputSize : 0),
    };
  }

  /** `images`: rows x H x W x C bytes, NHWC, frames stacked along C (oldest first). */
  forward(ctx: PerceptionContext<A>, images: Uint8Array, rows: number): PerceptionOutput<A> {
    if (ctx.owner !== this) throw new Error("PerceptionNet.forward: the context was created by another network");
    checkRows("PerceptionNet", "forward", rows, ctx.maxRows);
    const n = rows * this.inputBytesPerSample;
    if (images.length < n) {
      const { height: H, width: W, channels: C } = this.inputShape;
      throw new RangeError(`PerceptionNet.forward: ${images.length} bytes for ${rows} images of ${W}x${H}x${C} (${n} bytes needed)`);
    }
    const x = ctx.input;
    for (let i = 0; i < n; i++) x[i] = images[i]! * PIXEL_SCALE;
    const features = this.trunk.forward(ctx.trunk, x, rows);
    const joints = this.head.forward(ctx.head, features, rows);
    ctx.rows = rows;
    return { joints, features };
  }

  /**
   * MSE between the predicted (sin, cos) and those of `angles` ([rows, J],
   * rad), and its gradient into ctx.dJoints; reads the last forward pass.
   */
  loss(ctx: PerceptionContext<A>, angles: ArrayLike<number>, rows: number): PerceptionLoss {
    if (ctx.rows !== rows) throw new RangeError(`PerceptionNet.loss: ${rows} rows, but the forward pass had ${ctx.rows}`);
    const J = this.config.joints.length;
    if (angles.length < rows * J) throw new RangeError(`PerceptionNet.loss: ${angles.length} angles for ${rows} rows of ${J} joints`);
    const y = ctx.head.out, d = ctx.dJoints, count = rows * 2 * J;
    let sq = 0;
    const err = new Array<number>(J).fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < J; j++) {
        const q = angles[r * J + j]!, o = r * 2 * J + 2 * j;
        const es = y[o]! - Math.sin(q), ec = y[o + 1]! - Math.cos(q);
        sq += es * es + ec * ec;
        if (d.length > 0) {
          d[o] = (2 * es) / count;
          d[o + 1] = (2 * ec) / count;
        }
        err[j] += Math.abs(wrapAngle(Math.atan2(y[o]!, y[o + 1]!) - q));
      }
    }
    return { loss: sq / count, meanAbsErrorDeg: err.map((e) => (e / rows) * (180 / Math.PI)) };
  }

  /**
   * Backward from ctx.dJoints (set by loss()) plus an optional extra
   * gradient on the features (a discriminator's, through GradReverse);
   * accumulates the parameters' gradients.
   */
  backward(ctx: PerceptionContext<A>, rows: number, dFeatures?: ArrayLike<number>): void {
    if (ctx.owner !== this) throw new Error("PerceptionNet.backward: the context was created by another network");
    if (!ctx.backward) throw new Error("PerceptionNet.backward: the context was created without backward: true");
    const df = this.head.backward(ctx.head, ctx.dJoints, rows)!;
    if (dFeatures) {
      if (dFeatures.length < rows * this.featureSize) throw new RangeError(`PerceptionNet.backward: dFeatures has ${dFeatures.length} values, need ${rows} x ${this.featureSize}`);
      for (let i = 0, n = rows * this.featureSize; i < n; i++) df[i] += dFeatures[i]!;
    }
    this.trunk.backward(ctx.trunk, df, rows);
  }

  /** One supervised step: zero gradients, forward, loss, backward, clip to `maxGradNorm`, Adam. */
  trainStep(ctx: PerceptionContext<A>, adam: Adam<A>, images: Uint8Array, angles: ArrayLike<number>, rows: number, maxGradNorm = 1): PerceptionLoss & { gradNorm: number } {
    adam.zeroGrad();
    this.forward(ctx, images, rows);
    const result = this.loss(ctx, angles, rows);
    this.backward(ctx, rows);
    const gradNorm = clipGradNorm(this.params(), maxGradNorm);
    if (Number.isFinite(gradNorm)) adam.step();
    return { ...result, gradNorm };
  }

  /** An Adam optimizer over every parameter. */
  newAdam(opts: AdamOptions = {}): Adam<A> {
    return new Adam(this.params(), { lr: 1e-3, ...opts });
  }

  /** Joint angles (rad, in (-pi, pi]) from a `joints` output, [rows, J]. */
  anglesOf(joints: ArrayLike<number>, rows: number, into = new Float64Array(rows * this.config.joints.length)): Float64Array {
    const J = this.config.joints.length;
    for (let r = 0; r < rows; r++) for (let j = 0; j < J; j++) into[r * J + j] = Math.atan2(joints[r * 2 * J + 2 * j]!, joints[r * 2 * J + 2 * j + 1]!);
    return into;
  }

  params(): Param<A>[] {
    return [...this.trunk.params(), ...this.head.params()];
  }

  /** Multiply-adds of one image's forward pass in the convolutions (the bulk of the work). */
  get convMacsPerSample(): number {
    return this.trunk.layers.reduce((s, l) => s + (l instanceof Conv2d ? l.macsPerSample : 0), 0);
  }

  toSpec(): PerceptionSpec {
    const trunk = this.trunk.toSpec();
    return {
      input: { ...this.inputShape, encoding: this.config.encoding, framesStacked: this.config.framesStacked },
      joints: [...this.config.joints],
      scale: PIXEL_SCALE,
      layers: [...trunk, ...this.head.toSpec()],
      featureLayers: trunk.length,
      featureSize: this.featureSize,
    };
  }

  getState(): { kind: "perception"; config: PerceptionNetConfig; trunk: object; head: object } {
    return { kind: "perception", config: structuredClone(this.config), trunk: this.trunk.getState(), head: this.head.getState() };
  }

  /** Loads weights saved by getState() into a network of the same config; errors name the field. */
  setState(state: unknown, where = "perception"): void {
    const s = expectKind(state, "perception", where);
    const cfg = expectObject(s["config"], `${where}.config`);
    if (JSON.stringify(parsePerceptionNetConfig(cfg, `${where}.config`)) !== JSON.stringify(this.config)) {
      throw new ConfigError(`${where}.config`, "the checkpoint's network architecture differs from this network's");
    }
    const saved = this.trunk.getState();
    this.trunk.setState(s["trunk"], `${where}.trunk`);
    try {
      this.head.setState(s["head"], `${where}.head`);
    } catch (e) {
      this.trunk.setState(saved);
      throw e;
    }
  }

  /** Frees the arena when the network created it (create()); a network on a caller's arena leaves it alone. */
  dispose(): void {
    if (this.ownsArena) this.arena.dispose();
  }
}
