import { ConfigError } from "../../common/schema.js";
import type { Floats } from "./kernel/matrix-ops.js";
import type { Param } from "./module.js";
import { expectKind, expectObject, readTensor, tensorState, type TensorState } from "./state.js";

export interface AdamOptions {
  /** Learning rate (default 3e-4); `adam.lr` may be changed between steps (annealing). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  /** Added to sqrt(v-hat) (default 1e-8; PPO implementations often use 1e-5). */
  eps?: number;
  /** L2 penalty added to the gradient, as in PyTorch's Adam (default 0). */
  weightDecay?: number;
}

export interface AdamState {
  kind: "adam";
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** First and second moments by parameter name. */
  m: Record<string, TensorState>;
  v: Record<string, TensorState>;
}

/**
 * Adam with bias correction, in PyTorch's formulation:
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * It does not look at the gradients' finiteness: check clipGradNorm's
 * result and skip the step when it is not finite.
 */
export class Adam<A extends Floats = Float32Array> {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken so far (t in the bias correction). */
  stepCount = 0;
  private readonly m: A[];
  private readonly v: A[];

  constructor(readonly params: Param<A>[], opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 3e-4;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    const check = (name: string, v: number, ok: boolean, range: string) => {
      if (!ok) throw new RangeError(`Adam: ${name} must be ${range}, got ${v}`);
    };
    check("lr", this.lr, this.lr >= 0 && Number.isFinite(this.lr), "a finite number >= 0");
    check("beta1", this.beta1, this.beta1 >= 0 && this.beta1 < 1, "in [0, 1)");
    check("beta2", this.beta2, this.beta2 >= 0 && this.beta2 < 1, "in [0, 1)");
    check("eps", this.eps, this.eps > 0 && Number.isFinite(this.eps), "a positive number");
    check("weightDecay", this.weightDecay, this.weightDecay >= 0 && Number.isFinite(this.weightDecay), "a finite number >= 0");
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new RangeError(`Adam: two parameters are named "${p.name}" (checkpoint state is keyed by name)`);
      seen.add(p.name);
    }
    const like = (p: Param<A>) => (p.value instanceof Float64Array ? new Float64Array(p.value.length) : new Float32Array(p.value.length)) as A;
    this.m = params.map(like);
    this.v = params.map(like);
  }

  /** One update of every parameter from its accumulated gradient. */
  step(): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    this.stepCount++;
    const stepSize = this.lr / (1 - Math.pow(b1, this.stepCount));
    const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, this.stepCount));
    for (let q = 0; q < this.params.length; q++) {
      const p = this.params[q]!.value, g = this.params[q]!.grad, m = this.m[q]!, v = this.v[q]!;
      for (let i = 0; i < p.length; i++) {
        const gi = wd > 0 ? g[i]! + wd * p[i]! : g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
      }
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  getState(): AdamState {
    const m: Record<string, TensorState> = {}, v: Record<string, TensorState> = {};
    this.params.forEach((p, q) => {
      m[p.name] = tensorState(this.m[q]!, p.shape);
      v[p.name] = tensorState(this.v[q]!, p.shape);
    });
    return { kind: "adam", step: this.stepCount, lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, m, v };
  }

  /**
   * Restores moments, step count and learning rate. The hyperparameters
   * beta1/beta2/eps/weightDecay stay those of the constructor (a resumed run
   * may change them on purpose). Every parameter must be present by name.
   */
  setState(state: unknown, where = "adam"): void {
    const s = expectKind(state, "adam", where);
    const step = s["step"], lr = s["lr"];
    if (typeof step !== "number" || !Number.isInteger(step) || step < 0) throw new ConfigError(`${where}.step`, `expected a non-negative integer, got ${JSON.stringify(step)}`);
    if (typeof lr !== "number" || !(lr >= 0)) throw new ConfigError(`${where}.lr`, `expected a number >= 0, got ${JSON.stringify(lr)}`);
    const ms = expectObject(s["m"], `${where}.m`), vs = expectObject(s["v"], `${where}.v`);
    for (const [field, rec] of [["m", ms], ["v", vs]] as const) {
      const extra = Object.keys(rec).find((k) => !this.params.some((p) => p.name === k));
      if (extra !== undefined) throw new ConfigError(`${where}.${field}.${extra}`, "no parameter of this optimizer has that name");
    }
    const decoded = this.params.map((p) => {
      const m = new Float64Array(p.value.length), v = new Float64Array(p.value.length);
      if (!(p.name in ms)) throw new ConfigError(`${where}.m.${p.name}`, "missing");
      if (!(p.name in vs)) throw new ConfigError(`${where}.v.${p.name}`, "missing");
      readTensor(ms[p.name], `${where}.m.${p.name}`, p.shape, m);
      readTensor(vs[p.name], `${where}.v.${p.name}`, p.shape, v);
      return [m, v] as const;
    });
    decoded.forEach(([m, v], q) => {
      this.m[q]!.set(m);
      this.v[q]!.set(v);
    });
    this.stepCount = step;
    this.lr = lr;
  }
}
