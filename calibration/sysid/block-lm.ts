/**
 * Levenberg-Marquardt for least-squares problems with a few global unknowns
 * (the physical parameters, p) and many small blocks of local ones (each
 * shooting segment's initial state, s_b), where block b's residual rows
 * depend only on p and s_b. This is multiple shooting's structure; the
 * normal equations
 *
 *   [ sum A_b'A_b + lambda D_p   A_b'B_b            ] [dp  ]     [ sum A_b' r_b ]
 *   [ B_b'A_b                    B_b'B_b + lambda D_b] [ds_b] = - [ B_b' r_b     ]
 *
 * are solved by eliminating each block (Schur complement), so the cost is
 * linear in the number of segments. Jacobians are forward differences: one
 * evaluation per global unknown, and one per local component (all blocks are
 * perturbed at once, since blocks do not interact).
 *
 * The Schur complement at lambda = 0, S = sum A'A - A'B (B'B)^-1 B'A, is the
 * information about p with the initial states marginalized out; with
 * residuals scaled to unit variance its inverse is the covariance of p.
 */
import { solveSpd } from "./linalg.js";

export interface BlockProblem {
  /** Global unknowns. */
  P: number;
  /** Number of blocks and unknowns per block. */
  blocks: number;
  Q: number;
  /** Residual rows of block b are [rowStart[b], rowStart[b+1]); length blocks + 1. */
  rowStart: readonly number[];
  /** Writes all residuals at (p, s); s is blocks*Q long. Returns false when the point is invalid (e.g. a diverged simulation). */
  residuals(p: Float64Array, s: Float64Array, out: Float64Array): boolean;
  /** Bounds on p (undefined: unbounded). */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Finite-difference steps; p and s are best scaled so that 1 is a natural unit. */
  stepP?: number | ArrayLike<number>;
  stepS?: number;
  /** Global unknowns held fixed (their step is zero). */
  fixed?: ReadonlySet<number>;
  /**
   * Central differences for p (two evaluations per unknown). Worth it for a
   * covariance: a simulator in single precision adds rounding noise to every
   * difference quotient, which looks like information along directions the
   * data cannot see; a larger central step keeps that noise and the
   * truncation error both small.
   */
  central?: boolean;
}

export interface LmOptions {
  maxIterations?: number;
  /** Stop when an accepted step lowers the cost by less than this fraction; default 1e-5. */
  relTol?: number;
  /** Initial Marquardt damping (relative to the diagonal); default 1e-3. Pass a previous result's `lambda` to continue a run. */
  lambda0?: number;
  /** Called after every iteration. */
  onIteration?: (info: { iteration: number; cost: number; lambda: number; evaluations: number }) => void;
  /** Checked between iterations; return true to stop early. */
  shouldStop?: () => boolean;
}

export interface LmResult {
  p: Float64Array;
  s: Float64Array;
  /** Sum of squared residuals at the result. */
  cost: number;
  residuals: Float64Array;
  iterations: number;
  evaluations: number;
  /** Marginal information matrix of p (P*P, row-major) at the result: S at lambda = 0. */
  information: Float64Array;
  converged: boolean;
  /** Damping at the end (to continue with lambda0). */
  lambda: number;
}

function sumSq(r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i]! * r[i]!;
  return s;
}

/** Jacobian blocks at one point, and the damped normal equations built from them. */
class Linearization {
  readonly A: Float64Array;
  readonly B: Float64Array;
  evaluations = 0;
  private readonly m: number;
  private readonly hp: Float64Array;

  constructor(
    private readonly problem: BlockProblem,
    private readonly lower: Float64Array,
    private readonly upper: Float64Array,
    readonly p: Float64Array,
    readonly s: Float64Array,
    readonly r: Float64Array,
  ) {
    const { P, Q } = problem;
    this.m = r.length;
    this.A = new Float64Array(this.m * P);
    this.B = new Float64Array(this.m * Q);
    this.hp = Float64Array.from({ length: P }, (_, i) =>
      problem.fixed?.has(i) ? 0 : typeof problem.stepP === "number" || problem.stepP === undefined ? (problem.stepP ?? 1e-3) : problem.stepP[i]!,
    );
    this.differentiate();
  }

  private differentiate(): void {
    const { P, Q, blocks } = this.problem;
    const { p, s, r, m, A, B } = this;
    const rt = new Float64Array(m);
    const rb = new Float64Array(m);
    const pt = Float64Array.from(p);
    for (let j = 0; j < P; j++) {
      const hj = this.hp[j]!;
      if (hj === 0) continue;
      const upOk = p[j]! + hj <= this.upper[j]!;
      const downOk = p[j]! - hj >= this.lower[j]!;
      if (this.problem.central && upOk && downOk) {
        pt.set(p);
        pt[j] = p[j]! + hj;
        const ok1 = this.problem.residuals(pt, s, rt);
        pt[j] = p[j]! - hj;
        const ok2 = this.problem.residuals(pt, s, rb);
        this.evaluations += 2;
        for (let i = 0; i < m; i++) A[i * P + j] = ok1 && ok2 ? (rt[i]! - rb[i]!) / (2 * hj) : 0;
        continue;
      }
      // Step inwards at an upper bound so the probe stays feasible.
      const h = upOk ? hj : -hj;
      pt.set(p);
      pt[j] = p[j]! + h;
      this.evaluations++;
      const ok = this.problem.residuals(pt, s, rt);
      for (let i = 0; i < m; i++) A[i * P + j] = ok ? (rt[i]! - r[i]!) / h : 0;
    }
    const hs = this.problem.stepS ?? 1e-3;
    const st = new Float64Array(s.length);
    for (let c = 0; c < Q; c++) {
      st.set(s);
      for (let b = 0; b < blocks; b++) st[b * Q + c]! += hs;
      this.evaluations++;
      const ok = this.problem.residuals(p, st, rt);
      for (let i = 0; i < m; i++) B[i * Q + c] = ok ? (rt[i]! - r[i]!) / hs : 0;
    }
  }

  /**
   * Solves the normal equations with Marquardt damping `lam` (relative to each
   * diagonal entry). Also returns the undamped reduced matrix S0 (the marginal
   * information of p). Undefined when a system is not positive definite.
   */
  solve(lam: number): { dp: Float64Array; ds: Float64Array; S0: Float64Array } | undefined {
    const { P, Q, blocks, rowStart } = this.problem;
    const { A, B, r, m } = this;
    const S = new Float64Array(P * P);
    const g = new Float64Array(P);
    for (let i = 0; i < m; i++) {
      const ri = r[i]!;
      for (let a = 0; a < P; a++) {
        const Aia = A[i * P + a]!;
        if (Aia === 0) continue;
        g[a]! += Aia * ri;
        for (let c = 0; c <= a; c++) S[a * P + c]! += Aia * A[i * P + c]!;
      }
    }
    for (let a = 0; a < P; a++) for (let c = 0; c < a; c++) S[c * P + a] = S[a * P + c]!;
    const S0 = Float64Array.from(S);
    for (let a = 0; a < P; a++) S[a * P + a]! += lam * Math.max(S0[a * P + a]!, 1e-12);
    const blockData: { M: Float64Array; BtA: Float64Array; Btr: Float64Array }[] = [];
    for (let b = 0; b < blocks; b++) {
      const BtB = new Float64Array(Q * Q);
      const BtA = new Float64Array(Q * P);
      const Btr = new Float64Array(Q);
      for (let i = rowStart[b]!; i < rowStart[b + 1]!; i++) {
        for (let c = 0; c < Q; c++) {
          const Bic = B[i * Q + c]!;
          if (Bic === 0) continue;
          Btr[c]! += Bic * r[i]!;
          for (let d = 0; d < Q; d++) BtB[c * Q + d]! += Bic * B[i * Q + d]!;
          for (let a = 0; a < P; a++) BtA[c * P + a]! += Bic * A[i * P + a]!;
        }
      }
      const M = Float64Array.from(BtB);
      const M0 = Float64Array.from(BtB);
      for (let c = 0; c < Q; c++) {
        M[c * Q + c]! += lam * Math.max(BtB[c * Q + c]!, 1e-12);
        M0[c * Q + c]! += 1e-12 * Math.max(BtB[c * Q + c]!, 1e-12);
      }
      // Eliminate block b: S -= (B'A)' M^-1 (B'A), g -= (B'A)' M^-1 B'r (and the same undamped for S0).
      for (let a = 0; a < P; a++) {
        const col = Float64Array.from({ length: Q }, (_, c) => BtA[c * P + a]!);
        const x = solveSpd(M, col, Q);
        const x0 = solveSpd(M0, col, Q);
        if (!x || !x0) return undefined;
        for (let a2 = 0; a2 < P; a2++) {
          let v = 0;
          let v0 = 0;
          for (let c = 0; c < Q; c++) {
            v += BtA[c * P + a2]! * x[c]!;
            v0 += BtA[c * P + a2]! * x0[c]!;
          }
          S[a2 * P + a]! -= v;
          S0[a2 * P + a]! -= v0;
        }
        let vg = 0;
        for (let c = 0; c < Q; c++) vg += Btr[c]! * x[c]!;
        g[a]! -= vg;
      }
      blockData.push({ M, BtA, Btr });
    }
    let dp: Float64Array = new Float64Array(P);
    if (P > 0) {
      const rhs = Float64Array.from(g, (v) => -v);
      // Fixed unknowns: decoupled (zero row and column, unit diagonal, zero step).
      for (const j of this.problem.fixed ?? []) {
        for (let c = 0; c < P; c++) {
          S[j * P + c] = 0;
          S[c * P + j] = 0;
        }
        S[j * P + j] = 1;
        rhs[j] = 0;
      }
      const sol = solveSpd(S, rhs, P);
      if (!sol) return undefined;
      dp = sol;
    }
    const ds = new Float64Array(blocks * Q);
    for (let b = 0; b < blocks; b++) {
      const { M, BtA, Btr } = blockData[b]!;
      const rhs = new Float64Array(Q);
      for (let c = 0; c < Q; c++) {
        let v = Btr[c]!;
        for (let a = 0; a < P; a++) v += BtA[c * P + a]! * dp[a]!;
        rhs[c] = -v;
      }
      const x = solveSpd(M, rhs, Q);
      if (!x) return undefined;
      ds.set(x, b * Q);
    }
    return { dp, ds, S0 };
  }
}

/**
 * Each block's score: the gradient of its half sum of squares with respect to
 * p, with the block's own unknowns profiled out (g_b = A_b' r_b - (B_b'A_b)'
 * (B_b'B_b)^-1 B_b' r_b), at the linearization point.
 */
function blockScores(problem: BlockProblem, lin: Linearization): Float64Array[] {
  const { P, Q, blocks, rowStart } = problem;
  const { A, B, r } = lin;
  const out: Float64Array[] = [];
  for (let b = 0; b < blocks; b++) {
    const g = new Float64Array(P);
    const BtB = new Float64Array(Q * Q);
    const BtA = new Float64Array(Q * P);
    const Btr = new Float64Array(Q);
    for (let i = rowStart[b]!; i < rowStart[b + 1]!; i++) {
      const ri = r[i]!;
      for (let a = 0; a < P; a++) g[a]! += A[i * P + a]! * ri;
      for (let c = 0; c < Q; c++) {
        const Bic = B[i * Q + c]!;
        if (Bic === 0) continue;
        Btr[c]! += Bic * ri;
        for (let d = 0; d < Q; d++) BtB[c * Q + d]! += Bic * B[i * Q + d]!;
        for (let a = 0; a < P; a++) BtA[c * P + a]! += Bic * A[i * P + a]!;
      }
    }
    for (let c = 0; c < Q; c++) BtB[c * Q + c]! += 1e-12 * Math.max(BtB[c * Q + c]!, 1e-12);
    const z = solveSpd(BtB, Btr, Q);
    if (z) for (let a = 0; a < P; a++) for (let c = 0; c < Q; c++) g[a]! -= BtA[c * P + a]! * z[c]!;
    out.push(g);
  }
  return out;
}

function prepare(problem: BlockProblem, p0: ArrayLike<number>, s0: ArrayLike<number>) {
  const { P, Q, blocks } = problem;
  if (p0.length !== P) throw new RangeError(`blockLevenbergMarquardt: p0 has ${p0.length} entries, expected ${P}`);
  if (s0.length !== blocks * Q) throw new RangeError(`blockLevenbergMarquardt: s0 has ${s0.length} entries, expected ${blocks * Q}`);
  if (problem.rowStart.length !== blocks + 1) throw new RangeError(`blockLevenbergMarquardt: rowStart needs ${blocks + 1} entries, has ${problem.rowStart.length}`);
  const lower = Float64Array.from({ length: P }, (_, i) => problem.lower?.[i] ?? -Infinity);
  const upper = Float64Array.from({ length: P }, (_, i) => problem.upper?.[i] ?? Infinity);
  const p = Float64Array.from(p0, (v, i) => Math.min(upper[i]!, Math.max(lower[i]!, v)));
  const s = Float64Array.from(s0);
  const r = new Float64Array(problem.rowStart[blocks]!);
  if (!problem.residuals(p, s, r)) throw new Error("blockLevenbergMarquardt: the starting point is invalid (simulation diverged)");
  return { lower, upper, p, s, r };
}

export function blockLevenbergMarquardt(problem: BlockProblem, p0: ArrayLike<number>, s0: ArrayLike<number>, opts: LmOptions = {}): LmResult {
  const start = prepare(problem, p0, s0);
  const { lower, upper } = start;
  let { p, s, r } = start;
  const maxIt = opts.maxIterations ?? 20;
  const relTol = opts.relTol ?? 1e-5;
  let cost = sumSq(r);
  let evaluations = 1;
  let lambda = opts.lambda0 ?? 1e-3;
  let iterations = 0;
  let converged = false;
  let information: Float64Array = new Float64Array(problem.P * problem.P);

  while (iterations < maxIt && !converged) {
    if (opts.shouldStop?.()) break;
    const lin = new Linearization(problem, lower, upper, p, s, r);
    evaluations += lin.evaluations;
    let accepted = false;
    for (let attempt = 0; attempt < 8 && !accepted; attempt++) {
      const sol = lin.solve(lambda);
      if (!sol) {
        lambda *= 10;
        continue;
      }
      information = sol.S0;
      const pn = Float64Array.from(p, (v, i) => Math.min(upper[i]!, Math.max(lower[i]!, v + sol.dp[i]!)));
      const sn = Float64Array.from(s, (v, i) => v + sol.ds[i]!);
      const rn = new Float64Array(r.length);
      evaluations++;
      const cn = problem.residuals(pn, sn, rn) ? sumSq(rn) : Infinity;
      if (cn < cost) {
        if ((cost - cn) / cost < relTol) converged = true;
        p = pn;
        s = sn;
        r = rn;
        cost = cn;
        lambda = Math.max(1e-9, lambda / 3);
        accepted = true;
      } else lambda *= 4;
    }
    iterations++;
    opts.onIteration?.({ iteration: iterations, cost, lambda, evaluations });
    // No damping finds a lower cost: a (local) minimum at the Jacobian's resolution.
    if (!accepted) converged = true;
  }
  return { p, s, cost, residuals: r, iterations, evaluations, information, converged, lambda };
}

/**
 * The marginal information matrix of p at (p, s) (one Jacobian, no step), with
 * the residuals there, and the sum over blocks of each block's score times
 * itself (P*P): what the blocks' gradients actually scatter by, where the
 * information is what they would scatter by if every residual were
 * independent unit-variance noise.
 */
export function blockInformation(
  problem: BlockProblem,
  p: ArrayLike<number>,
  s: ArrayLike<number>,
): { information: Float64Array; scoreScatter: Float64Array; residuals: Float64Array; evaluations: number } {
  const start = prepare(problem, p, s);
  const lin = new Linearization(problem, start.lower, start.upper, start.p, start.s, start.r);
  const sol = lin.solve(1e-10);
  if (!sol) throw new Error("blockInformation: the normal equations are singular");
  const P = problem.P;
  const scoreScatter = new Float64Array(P * P);
  for (const g of blockScores(problem, lin)) for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) scoreScatter[i * P + j]! += g[i]! * g[j]!;
  return { information: sol.S0, scoreScatter, residuals: start.r, evaluations: lin.evaluations + 1 };
}
