/**
 * A check of the Fisher information along its weakest directions.
 *
 * The simulator computes in single precision, and two runs whose parameters
 * differ by a fraction of a percent differ by a few 1e-5 rad from rounding
 * alone. Finite-difference Jacobians divide that noise by the step, and J'J
 * then shows information along directions the data cannot see at all (the
 * mass scale without a current log), at about the level that decides
 * identifiability. So for every weak direction v of the information matrix
 * (eigenvalue lambda), the cost is measured directly at x +- delta v, with
 * delta large enough that rounding is negligible (the step the quadratic
 * model says raises the cost by `targetChi2`), and the curvature
 *   lambda' = (C(x + delta v) + C(x - delta v) - 2 C(x)) / (2 delta^2)
 * replaces lambda when it is smaller. A direction the data truly determines
 * keeps its eigenvalue; a spurious one collapses.
 */
import { symmetricEigen } from "./linalg.js";

export interface DirectionCheck {
  /** Unit direction in coordinates. */
  direction: number[];
  /** Eigenvalue from the Jacobian, and the curvature measured along the direction. */
  predicted: number;
  measured: number;
  delta: number;
}

/**
 * `weakness(v, sdAlong)`: how badly a one-standard-deviation move along v
 * determines the coordinates (as identifiability judges it); directions with
 * weakness in [minWeakness, maxWeakness] are checked, the weakest first, at
 * most `maxChecks`. `probe(v, delta)` returns (C(x + delta v) + C(x - delta v)
 * - 2 C(x)) / 2, or undefined when it cannot (a bound in the way).
 */
export function checkWeakDirections(
  information: Float64Array,
  P: number,
  variance: number,
  weakness: (v: Float64Array, sdAlong: number) => number,
  probe: (v: Float64Array, delta: number) => number | undefined,
  opts: { minWeakness: number; maxWeakness: number; maxChecks: number; targetChi2?: number },
): { information: Float64Array; checks: DirectionCheck[] } {
  const { values, vectors } = symmetricEigen(information, P);
  const top = Math.max(values[P - 1] ?? 0, 1e-300);
  const lam = values.map((v) => Math.max(v, top * 1e-14));
  const target = opts.targetChi2 ?? 16;
  const candidates: { k: number; w: number; v: Float64Array }[] = [];
  for (let k = 0; k < P; k++) {
    const v = Float64Array.from({ length: P }, (_, i) => vectors[i * P + k]!);
    const w = weakness(v, Math.sqrt(variance / lam[k]!));
    if (w >= opts.minWeakness && w <= opts.maxWeakness) candidates.push({ k, w, v });
  }
  candidates.sort((a, b) => b.w - a.w);
  const checks: DirectionCheck[] = [];
  for (const { k, v } of candidates.slice(0, opts.maxChecks)) {
    const delta = Math.sqrt(target / lam[k]!);
    const half = probe(v, delta);
    if (half === undefined) continue;
    const measured = Math.max(half, 0) / (delta * delta);
    checks.push({ direction: Array.from(v), predicted: lam[k]!, measured, delta });
    lam[k] = Math.max(Math.min(lam[k]!, measured), top * 1e-14);
  }
  const out = new Float64Array(P * P);
  for (let k = 0; k < P; k++) {
    for (let i = 0; i < P; i++) {
      const vi = vectors[i * P + k]! * lam[k]!;
      for (let j = 0; j < P; j++) out[i * P + j]! += vi * vectors[j * P + k]!;
    }
  }
  return { information: out, checks };
}
