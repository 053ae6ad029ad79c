import type { LayerSpec } from "../network-spec.js";
import { ConfigError } from "../../common/schema.js";
import type { Floats } from "./kernel/matrix-ops.js";
import { checkFeatures, type Module, type Param } from "./module.js";
import { expectEqual, expectKind, readTensor, tensorState, type TensorState } from "./state.js";

export interface RunningNormOptions {
  /** Added to the variance before the square root (default 1e-8). */
  eps?: number;
  /** Normalized values are clipped to [-clip, clip] (default 10). */
  clip?: number;
}

export interface RunningNormState {
  kind: "normalize";
  size: number;
  eps: number;
  clip: number;
  count: number;
  mean: TensorState;
  var: TensorState;
}

/**
 * Running observation normalization: per-feature mean and (population)
 * variance over every row seen, merged batch by batch (Chan et al.'s
 * parallel form of Welford's algorithm, in float64), applied as
 * clip((x - mean) / sqrt(var + eps), -clip, clip) like the network spec's
 * "normalize" layer. Not trained by gradients: the trainer decides when to
 * update (typically on rollout observations, never on evaluation runs).
 * Before the first update it is the identity up to clipping (mean 0, var 1).
 */
export class RunningNorm implements Module<Floats> {
  readonly eps: number;
  readonly clip: number;
  count = 0;
  readonly mean: Float64Array;
  readonly var: Float64Array;
  private readonly batchMean: Float64Array;
  private readonly batchVar: Float64Array;

  constructor(readonly size: number, opts: RunningNormOptions = {}) {
    checkFeatures("RunningNorm", "size", size);
    this.eps = opts.eps ?? 1e-8;
    this.clip = opts.clip ?? 10;
    if (!(this.eps > 0 && Number.isFinite(this.eps))) throw new RangeError(`RunningNorm: eps must be a positive number, got ${this.eps}`);
    if (!(this.clip > 0)) throw new RangeError(`RunningNorm: clip must be positive, got ${this.clip}`);
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
    this.batchMean = new Float64Array(size);
    this.batchVar = new Float64Array(size);
  }

  /** Merges the statistics of rows x[0..rows) (a [rows, size] array). Non-finite values are refused. */
  update(x: Floats, rows: number): void {
    const D = this.size;
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`RunningNorm.update: rows must be a non-negative integer, got ${rows}`);
    if (x.length < rows * D) throw new RangeError(`RunningNorm.update: input has ${x.length} elements, need ${rows} x ${D}`);
    if (rows === 0) return;
    const bm = this.batchMean.fill(0), bv = this.batchVar.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < D; d++) {
        const v = x[r * D + d]!;
        if (!Number.isFinite(v)) throw new RangeError(`RunningNorm.update: x[${r}, ${d}] is ${v}; refusing to fold it into the statistics`);
        bm[d] += v;
      }
    }
    for (let d = 0; d < D; d++) bm[d] /= rows;
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < D; d++) {
        const e = x[r * D + d]! - bm[d]!;
        bv[d] += e * e;
      }
    }
    const n0 = this.count, total = n0 + rows;
    for (let d = 0; d < D; d++) {
      const delta = bm[d]! - this.mean[d]!;
      const m2 = (n0 > 0 ? this.var[d]! * n0 : 0) + bv[d]! + (delta * delta * n0 * rows) / total;
      this.mean[d] += (delta * rows) / total;
      this.var[d] = m2 / total;
    }
    this.count = total;
  }

  /** out[r, d] = clip((x[r, d] - mean[d]) / sqrt(var[d] + eps)); out may be x. */
  normalize(x: Floats, rows: number, out: Floats): void {
    const D = this.size;
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`RunningNorm.normalize: rows must be a non-negative integer, got ${rows}`);
    if (x.length < rows * D) throw new RangeError(`RunningNorm.normalize: input has ${x.length} elements, need ${rows} x ${D}`);
    if (out.length < rows * D) throw new RangeError(`RunningNorm.normalize: out has ${out.length} elements, need ${rows} x ${D}`);
    const c = this.clip;
    for (let d = 0; d < D; d++) this.batchVar[d] = 1 / Math.sqrt(this.var[d]! + this.eps);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < D; d++) {
        const i = r * D + d;
        // Math.min/max keep the value a double (a ternary mixing the integer clip would box it).
        out[i] = Math.min(Math.max((x[i]! - this.mean[d]!) * this.batchVar[d]!, -c), c);
      }
    }
  }

  params(): Param<Floats>[] {
    return [];
  }

  zeroGrad(): void {}

  toSpec(): LayerSpec[] {
    return [{ kind: "normalize", size: this.size, mean: Float32Array.from(this.mean), var: Float32Array.from(this.var), eps: this.eps, clip: this.clip }];
  }

  getState(): RunningNormState {
    return {
      kind: "normalize",
      size: this.size,
      eps: this.eps,
      clip: this.clip,
      count: this.count,
      mean: tensorState(this.mean, [this.size]),
      var: tensorState(this.var, [this.size]),
    };
  }

  /** Loads statistics; eps and clip must match the module's own (they are architecture). */
  setState(state: unknown, where = "normalize"): void {
    const s = expectKind(state, "normalize", where);
    expectEqual(s, "size", this.size, where);
    expectEqual(s, "eps", this.eps, where);
    expectEqual(s, "clip", this.clip, where);
    const count = s["count"];
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) throw new ConfigError(`${where}.count`, `expected a non-negative integer, got ${JSON.stringify(count)}`);
    const mean = new Float64Array(this.size), variance = new Float64Array(this.size);
    readTensor(s["mean"], `${where}.mean`, [this.size], mean);
    readTensor(s["var"], `${where}.var`, [this.size], variance);
    const bad = variance.findIndex((v) => v < 0);
    if (bad >= 0) throw new ConfigError(`${where}.var`, `entry ${bad} is negative (${variance[bad]})`);
    this.mean.set(mean);
    this.var.set(variance);
    this.count = count;
  }
}
