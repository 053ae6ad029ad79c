/**
 * CMA-ES (covariance matrix adaptation evolution strategy) for minimizing a
 * black-box function of a few dozen variables, written from N. Hansen, "The
 * CMA Evolution Strategy: A Tutorial" (arXiv:1604.00772): weighted
 * recombination of the best half, cumulative step-size adaptation (CSA), and
 * the rank-one (evolution path) plus rank-mu covariance updates, with the
 * tutorial's default strategy parameters.
 *
 * Why it is used here: system identification costs have kinks in some
 * parameters (Coulomb friction switches between stick and slip, a latency
 * moves command switches across physics steps), have narrow valleys (parameters
 * that trade off against each other), and start far enough from the truth
 * that a local gradient method can stall. CMA-ES ranks candidates only, so
 * none of this hurts it.
 *
 * Bounds: candidates are sampled unconstrained, the objective is evaluated at
 * the nearest point inside the box, and the ranking adds a quadratic penalty
 * on the distance outside it (weighted by the generation's spread of values,
 * so it neither dominates nor vanishes). The distribution is thus pulled back
 * into the box while every evaluated point is feasible.
 *
 * Randomness comes from a seeded `Rng`, so a run is a pure function of its
 * options. Ask/tell lets an async caller yield to the event loop (and honour
 * an abort signal) between generations; `cmaesMinimize` is the plain loop.
 */
import { Rng } from "../common/rng.js";
import { symmetricEigen } from "./sysid/linalg.js";

export interface CmaesOptions {
  /** Initial mean. */
  x0: ArrayLike<number>;
  /** Initial step size (same units as x; scale the variables so one value suits all). */
  sigma0: number;
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Population size lambda; default 4 + floor(3 ln n). */
  popSize?: number;
  /** Seed of the sampling Rng; default 1. */
  seed?: number;
  /** Stop after this many function evaluations; default 1000 n^2. */
  maxEvals?: number;
  /** Stop when every coordinate's standard deviation is below this; default 1e-11 sigma0. */
  tolX?: number;
  /** Stop when the best values of recent generations, and all of this one, lie within this range; default 1e-12. */
  tolFun?: number;
}

export type CmaesStop = "maxEvals" | "tolX" | "tolFun" | "conditionCov";

export interface CmaesResult {
  /** Best point evaluated (inside the bounds). */
  x: Float64Array;
  f: number;
  evaluations: number;
  generations: number;
  stop: CmaesStop;
  /** Final mean and step size of the search distribution. */
  mean: Float64Array;
  sigma: number;
}

export class Cmaes {
  readonly n: number;
  readonly lambda: number;
  readonly mu: number;
  private readonly weights: Float64Array;
  private readonly mueff: number;
  private readonly cc: number;
  private readonly cs: number;
  private readonly c1: number;
  private readonly cmu: number;
  private readonly damps: number;
  private readonly chiN: number;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly maxEvals: number;
  private readonly tolX: number;
  private readonly tolFun: number;
  private readonly rng: Rng;

  private m: Float64Array;
  private sigma: number;
  private readonly C: Float64Array;
  private readonly B: Float64Array;
  private readonly D: Float64Array;
  private readonly pc: Float64Array;
  private readonly ps: Float64Array;
  private eigenGeneration = 0;
  private gen = 0;
  private evals = 0;
  /** Unconstrained samples of the current generation and their feasible (clamped) versions. */
  private samples: Float64Array[] = [];
  private feasible: Float64Array[] = [];
  private readonly bestHistory: number[] = [];
  private bestX: Float64Array;
  private bestF = Infinity;
  private stopReason: CmaesStop | undefined;

  constructor(opts: CmaesOptions) {
    const n = opts.x0.length;
    if (n < 1) throw new RangeError("cmaes: x0 must have at least one coordinate");
    if (!(opts.sigma0 > 0 && Number.isFinite(opts.sigma0))) throw new RangeError(`cmaes: sigma0 must be a positive number, got ${opts.sigma0}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(opts.x0[i]!)) throw new RangeError(`cmaes: x0[${i}] is ${opts.x0[i]}`);
    this.n = n;
    this.lower = bound(opts.lower, n, -Infinity, "lower");
    this.upper = bound(opts.upper, n, Infinity, "upper");
    for (let i = 0; i < n; i++) {
      if (!(this.lower[i]! < this.upper[i]!)) throw new RangeError(`cmaes: lower[${i}] (${this.lower[i]}) must be below upper[${i}] (${this.upper[i]})`);
    }
    this.lambda = opts.popSize ?? 4 + Math.floor(3 * Math.log(n));
    if (!(Number.isInteger(this.lambda) && this.lambda >= 2)) throw new RangeError(`cmaes: popSize must be an integer >= 2, got ${opts.popSize}`);
    this.mu = Math.floor(this.lambda / 2);
    // Tutorial (Table 1, positive weights only): w_i proportional to ln((lambda+1)/2) - ln i.
    const raw = Float64Array.from({ length: this.mu }, (_, i) => Math.log((this.lambda + 1) / 2) - Math.log(i + 1));
    const sum = raw.reduce((a, b) => a + b, 0);
    this.weights = raw.map((w) => w / sum);
    this.mueff = 1 / this.weights.reduce((a, w) => a + w * w, 0);
    const mueff = this.mueff;
    this.cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n);
    this.cs = (mueff + 2) / (n + mueff + 5);
    this.c1 = 2 / ((n + 1.3) ** 2 + mueff);
    this.cmu = Math.min(1 - this.c1, (2 * (mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff));
    this.damps = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + this.cs;
    this.chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    this.maxEvals = opts.maxEvals ?? 1000 * n * n;
    this.tolX = opts.tolX ?? 1e-11 * opts.sigma0;
    this.tolFun = opts.tolFun ?? 1e-12;
    this.rng = new Rng(opts.seed ?? 1);
    this.m = Float64Array.from(opts.x0);
    this.sigma = opts.sigma0;
    this.C = identity(n);
    this.B = identity(n);
    this.D = new Float64Array(n).fill(1);
    this.pc = new Float64Array(n);
    this.ps = new Float64Array(n);
    this.bestX = this.clamp(this.m);
  }

  get evaluations(): number {
    return this.evals;
  }

  get generations(): number {
    return this.gen;
  }

  get stepSize(): number {
    return this.sigma;
  }

  get mean(): Float64Array {
    return Float64Array.from(this.m);
  }

  /** Why the search should stop, or undefined while it should go on. */
  get stop(): CmaesStop | undefined {
    return this.stopReason;
  }

  get best(): { x: Float64Array; f: number } {
    return { x: Float64Array.from(this.bestX), f: this.bestF };
  }

  /** Samples the next generation; returns the points to evaluate (all inside the bounds). */
  ask(): Float64Array[] {
    const n = this.n;
    this.samples = [];
    this.feasible = [];
    const z = new Float64Array(n);
    for (let k = 0; k < this.lambda; k++) {
      for (let i = 0; i < n; i++) z[i] = this.D[i]! * this.rng.normal();
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += this.B[i * n + j]! * z[j]!;
        x[i] = this.m[i]! + this.sigma * s;
      }
      this.samples.push(x);
      this.feasible.push(this.clamp(x));
    }
    return this.feasible.map((x) => Float64Array.from(x));
  }

  /** Takes the objective values of the points from the last `ask`, in the same order, and updates the distribution. */
  tell(values: ArrayLike<number>): void {
    const n = this.n;
    const lambda = this.lambda;
    if (this.samples.length !== lambda) throw new Error("cmaes: tell() without a preceding ask()");
    if (values.length !== lambda) throw new RangeError(`cmaes: tell() expects ${lambda} values, got ${values.length}`);
    const f = Float64Array.from(values, (v) => (Number.isNaN(v) ? Infinity : v));
    this.evals += lambda;
    for (let k = 0; k < lambda; k++) {
      if (f[k]! < this.bestF) {
        this.bestF = f[k]!;
        this.bestX = Float64Array.from(this.feasible[k]!);
      }
    }
    const ranked = this.penalized(f);
    const order = Array.from({ length: lambda }, (_, k) => k).sort((a, b) => ranked[a]! - ranked[b]!);

    const old = this.m;
    const m = new Float64Array(n);
    for (let i = 0; i < this.mu; i++) {
      const x = this.samples[order[i]!]!;
      for (let j = 0; j < n; j++) m[j]! += this.weights[i]! * x[j]!;
    }
    const step = Float64Array.from(m, (v, j) => (v - old[j]!) / this.sigma);
    // C^(-1/2) step = B D^-1 B^T step.
    const bt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += this.B[j * n + i]! * step[j]!;
      bt[i] = s / this.D[i]!;
    }
    const csn = Math.sqrt(this.cs * (2 - this.cs) * this.mueff);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += this.B[i * n + j]! * bt[j]!;
      this.ps[i] = (1 - this.cs) * this.ps[i]! + csn * s;
    }
    const psNorm = Math.hypot(...this.ps);
    const hsig = psNorm / Math.sqrt(1 - (1 - this.cs) ** (2 * (this.gen + 1))) < (1.4 + 2 / (n + 1)) * this.chiN ? 1 : 0;
    const ccn = Math.sqrt(this.cc * (2 - this.cc) * this.mueff);
    for (let i = 0; i < n; i++) this.pc[i] = (1 - this.cc) * this.pc[i]! + hsig * ccn * step[i]!;

    // Rank-one update from the evolution path, rank-mu update from the selected steps.
    const c1a = this.c1 * (1 - (1 - hsig) * this.cc * (2 - this.cc));
    const decay = 1 - c1a - this.cmu;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let rankMu = 0;
        for (let k = 0; k < this.mu; k++) {
          const x = this.samples[order[k]!]!;
          rankMu += this.weights[k]! * ((x[i]! - old[i]!) / this.sigma) * ((x[j]! - old[j]!) / this.sigma);
        }
        const v = decay * this.C[i * n + j]! + this.c1 * this.pc[i]! * this.pc[j]! + this.cmu * rankMu;
        this.C[i * n + j] = v;
        this.C[j * n + i] = v;
      }
    }
    this.sigma *= Math.exp(Math.min(1, (this.cs / this.damps) * (psNorm / this.chiN - 1)));
    this.m = m;
    this.gen++;
    this.samples = [];

    // Decompose C only every few generations: it changes slowly (tutorial, B.2).
    if (this.gen - this.eigenGeneration >= Math.max(1, Math.floor(1 / ((this.c1 + this.cmu) * n * 10)))) this.decompose();

    this.bestHistory.push(f[order[0]!]!);
    this.checkStop(f);
  }

  private decompose(): void {
    const n = this.n;
    const { values, vectors } = symmetricEigen(this.C, n);
    for (let i = 0; i < n; i++) this.D[i] = Math.sqrt(Math.max(values[i]!, 1e-300));
    this.B.set(vectors);
    this.eigenGeneration = this.gen;
  }

  private checkStop(f: Float64Array): void {
    const n = this.n;
    if (this.evals >= this.maxEvals) {
      this.stopReason = "maxEvals";
      return;
    }
    let maxSd = 0;
    for (let i = 0; i < n; i++) maxSd = Math.max(maxSd, this.sigma * Math.sqrt(this.C[i * n + i]!));
    const pcMax = Math.max(...Array.from(this.pc, Math.abs));
    if (maxSd < this.tolX && this.sigma * pcMax < this.tolX) {
      this.stopReason = "tolX";
      return;
    }
    const window = 10 + Math.ceil((30 * n) / this.lambda);
    if (this.bestHistory.length >= window) {
      const recent = this.bestHistory.slice(-window);
      const all = [...recent, ...f].filter(Number.isFinite);
      if (all.length > 0 && Math.max(...all) - Math.min(...all) < this.tolFun) {
        this.stopReason = "tolFun";
        return;
      }
    }
    const dmax = Math.max(...this.D);
    const dmin = Math.min(...this.D);
    if ((dmax / dmin) ** 2 > 1e14) this.stopReason = "conditionCov";
  }

  private clamp(x: Float64Array): Float64Array {
    return Float64Array.from(x, (v, i) => Math.min(this.upper[i]!, Math.max(this.lower[i]!, v)));
  }

  /**
   * Values used for ranking: f at the feasible point plus gamma |x - clamp(x)|^2,
   * gamma = (interquartile range of this generation's f) / (sigma^2 mean(diag C)):
   * one standard deviation outside the box costs about one IQR.
   */
  private penalized(f: Float64Array): Float64Array {
    const n = this.n;
    const finite = Array.from(f).filter(Number.isFinite).sort((a, b) => a - b);
    let iqr = finite.length >= 2 ? finite[Math.floor((3 * (finite.length - 1)) / 4)]! - finite[Math.floor((finite.length - 1) / 4)]! : 0;
    if (!(iqr > 0)) iqr = Math.max(1e-300, Math.abs(finite[0] ?? 1) * 1e-9);
    let meanDiag = 0;
    for (let i = 0; i < n; i++) meanDiag += this.C[i * n + i]! / n;
    const gamma = iqr / (this.sigma * this.sigma * meanDiag);
    return Float64Array.from(f, (v, k) => {
      const x = this.samples[k]!;
      const c = this.feasible[k]!;
      let d2 = 0;
      for (let i = 0; i < n; i++) d2 += (x[i]! - c[i]!) ** 2;
      return v + gamma * d2;
    });
  }
}

/** Minimizes `f` with CMA-ES until a stop criterion fires; see CmaesOptions. */
export function cmaesMinimize(f: (x: Float64Array) => number, opts: CmaesOptions): CmaesResult {
  const es = new Cmaes(opts);
  while (!es.stop) es.tell(es.ask().map(f));
  return { ...es.best, evaluations: es.evaluations, generations: es.generations, stop: es.stop!, mean: es.mean, sigma: es.stepSize };
}

function identity(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return a;
}

function bound(b: ArrayLike<number> | undefined, n: number, fill: number, name: string): Float64Array {
  if (b === undefined) return new Float64Array(n).fill(fill);
  if (b.length !== n) throw new RangeError(`cmaes: ${name} has ${b.length} entries, x0 has ${n}`);
  return Float64Array.from(b, (v, i) => {
    if (Number.isNaN(v)) throw new RangeError(`cmaes: ${name}[${i}] is NaN`);
    return v;
  });
}
