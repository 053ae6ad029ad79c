import type { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../network-spec.js";
import type { Arena } from "./arena.js";
import type { Floats } from "./kernel/matrix-ops.js";
import { checkFeatures, joinName, newParam, type Module, type Param } from "./module.js";
import { expectEqual, expectKind, readTensor, tensorState, type TensorState } from "./state.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface GaussianHeadOptions {
  /** Initial log standard deviation of every action dimension (default 0). */
  initLogStd?: number;
  /** Parameter name prefix (default "head"): "<name>.logStd". */
  name?: string;
}

export interface GaussianHeadState {
  kind: "gaussian";
  actionDim: number;
  logStd: TensorState;
}

/**
 * Diagonal Gaussian action distribution around a mean produced by the rest
 * of the network, with a trained, state-independent log standard deviation
 * (as in PPO for continuous control). Methods are batched over rows of a
 * [rows, actionDim] mean; none allocates.
 *
 * log p(a) = sum_k -((a_k - mu_k) / sigma_k)^2 / 2 - log sigma_k - log(2 pi) / 2
 * H        = sum_k log sigma_k + (1 + log(2 pi)) / 2
 */
export class GaussianHead<A extends Floats = Float32Array> implements Module<A> {
  readonly logStd: Param<A>;
  private readonly name: string;

  constructor(readonly arena: Arena<A>, readonly actionDim: number, opts: GaussianHeadOptions = {}) {
    checkFeatures("GaussianHead", "actionDim", actionDim);
    this.name = opts.name ?? "head";
    this.logStd = newParam(arena, joinName(this.name, "logStd"), [actionDim]);
    const init = opts.initLogStd ?? 0;
    if (!Number.isFinite(init)) throw new RangeError(`GaussianHead: initLogStd must be a finite number, got ${init}`);
    this.logStd.value.fill(init);
  }

  /** out[r] = log-density of actions[r] under N(mean[r], diag(exp(logStd))^2). */
  logProb(mean: Floats, actions: Floats, rows: number, out: Floats): void {
    this.check("logProb", mean, actions, rows);
    if (out.length < rows) throw new RangeError(`GaussianHead.logProb: out has ${out.length} elements, need ${rows}`);
    const K = this.actionDim, ls = this.logStd.value;
    let constant = 0;
    for (let k = 0; k < K; k++) constant -= ls[k]! + HALF_LOG_2PI;
    for (let r = 0; r < rows; r++) {
      let s = constant;
      for (let k = 0; k < K; k++) {
        const u = (actions[r * K + k]! - mean[r * K + k]!) * Math.exp(-ls[k]!);
        s -= 0.5 * u * u;
      }
      out[r] = s;
    }
  }

  /**
   * Backward of logProb for an upstream gradient dLogp[r]: writes (not adds)
   * dMean[r, k] = dLogp[r] (a - mu) / sigma^2 when dMean is given, and adds
   * sum_r dLogp[r] (((a - mu) / sigma)^2 - 1) to logStd.grad.
   */
  logProbBackward(mean: Floats, actions: Floats, dLogp: Floats, rows: number, dMean: Floats | null): void {
    this.check("logProbBackward", mean, actions, rows);
    if (dLogp.length < rows) throw new RangeError(`GaussianHead.logProbBackward: dLogp has ${dLogp.length} elements, need ${rows}`);
    const K = this.actionDim;
    if (dMean !== null && dMean.length < rows * K) throw new RangeError(`GaussianHead.logProbBackward: dMean has ${dMean.length} elements, need ${rows} x ${K}`);
    const ls = this.logStd.value, g = this.logStd.grad;
    for (let k = 0; k < K; k++) {
      const invStd = Math.exp(-ls[k]!);
      let gk = 0;
      for (let r = 0; r < rows; r++) {
        const i = r * K + k;
        const u = (actions[i]! - mean[i]!) * invStd;
        const d = dLogp[r]!;
        if (dMean !== null) dMean[i] = d * u * invStd;
        gk += d * (u * u - 1);
      }
      g[k] += gk;
    }
  }

  /** Entropy of the distribution (the same for every row). */
  entropy(): number {
    let h = 0;
    for (let k = 0; k < this.actionDim; k++) h += this.logStd.value[k]! + 0.5 + HALF_LOG_2PI;
    return h;
  }

  /** Adds dEntropy * dH/dlogStd (= dEntropy for every dimension) to logStd.grad. */
  entropyBackward(dEntropy: number): void {
    for (let k = 0; k < this.actionDim; k++) this.logStd.grad[k] += dEntropy;
  }

  /** out[r] = mean[r] + exp(logStd) * standard normal draws from rng. */
  sample(mean: Floats, rows: number, rng: Rng, out: Floats): void {
    const K = this.actionDim;
    if (mean.length < rows * K) throw new RangeError(`GaussianHead.sample: mean has ${mean.length} elements, need ${rows} x ${K}`);
    if (out.length < rows * K) throw new RangeError(`GaussianHead.sample: out has ${out.length} elements, need ${rows} x ${K}`);
    const ls = this.logStd.value;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < K; k++) out[r * K + k] = mean[r * K + k]! + Math.exp(ls[k]!) * rng.normal();
    }
  }

  params(): Param<A>[] {
    return [this.logStd];
  }

  zeroGrad(): void {
    this.logStd.grad.fill(0);
  }

  /** Empty: a deployed policy acts with the mean, which the layers before the head produce. */
  toSpec(): LayerSpec[] {
    return [];
  }

  getState(): GaussianHeadState {
    return { kind: "gaussian", actionDim: this.actionDim, logStd: tensorState(this.logStd.value, this.logStd.shape) };
  }

  setState(state: unknown, where = this.name): void {
    const s = expectKind(state, "gaussian", where);
    expectEqual(s, "actionDim", this.actionDim, where);
    readTensor(s["logStd"], `${where}.logStd`, this.logStd.shape, this.logStd.value);
  }

  private check(op: string, mean: Floats, actions: Floats, rows: number): void {
    const K = this.actionDim;
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`GaussianHead.${op}: rows must be a non-negative integer, got ${rows}`);
    if (mean.length < rows * K) throw new RangeError(`GaussianHead.${op}: mean has ${mean.length} elements, need ${rows} x ${K}`);
    if (actions.length < rows * K) throw new RangeError(`GaussianHead.${op}: actions has ${actions.length} elements, need ${rows} x ${K}`);
  }
}
