/**
 * What the data determines, read from the Fisher information at the optimum
 * (Gauss-Newton: J'J of the unit-variance residuals, initial states
 * marginalized out). Its inverse, scaled by the residual variance, is the
 * covariance of the fitted coordinates; a coordinate is identifiable when its
 * standard deviation is small, and a direction along which the information
 * nearly vanishes (e.g. scaling every mass, damping and 1/Rm together when no
 * current was logged) is reported as a null direction with its components.
 *
 * That covariance assumes the residuals are independent noise. Given the
 * scatter of the blocks' (segments') scores, sum_b g_b g_b', the sandwich
 * H^-1 (sum_b g_b g_b') H^-1 estimates the covariance from how much the
 * segments actually disagree, whatever the residuals' correlation within a
 * segment (model error). Each standard deviation is the larger of the two:
 * the sandwich, from a few dozen segments, is itself noisy and on clean data
 * sits around the model's value, so the maximum costs little there.
 *
 * The information is a quadratic model of the cost, and along directions the
 * data barely sees it can claim curvature the cost does not have (rounding in
 * the single-precision simulator, see curvature-check.ts, or two weak
 * directions mixed into eigenvectors that check cannot separate). For the
 * close calls, the coordinates that pass but not by much, the cost's profile
 * is measured (the coordinate held off, everything else refitted) and the
 * standard deviation widened when the cost rises less than the model says.
 *
 * Nothing here knows which parameters "should" be identifiable: a parameter
 * is flagged from the data alone.
 */
import { symmetricEigen } from "./linalg.js";

export interface CoordinateSpec {
  name: string;
  /**
   * Converts a standard deviation of the coordinate into the quantity judged
   * against the threshold (a relative error for log coordinates, the absolute
   * error over a significance scale for linear ones).
   */
  judge: (sdCoordinate: number) => number;
  /** Converts a coordinate standard deviation into physical units. */
  toPhysical: (sdCoordinate: number) => number;
}

export interface IdentifiabilityResult {
  /** Physical standard deviations (enormous along an unidentified direction). */
  stddev: Record<string, number>;
  identifiable: Record<string, boolean>;
  /** The judged value of each coordinate (relative std for log coordinates). */
  judged: Record<string, number>;
  /** Directions the data leaves (nearly) undetermined, worst first; components normalized to unit length. */
  nullDirections: { judged: number; components: Record<string, number> }[];
  /** Correlation matrix of the coordinates (row-major, in `names` order). */
  correlation: number[][];
  /** Standard deviation from the score scatter over the one from the information, per coordinate (empty without a scatter). */
  scatterRatio: Record<string, number>;
  /** The close calls whose profile was measured (IdentifiabilityOptions.profile). */
  profileChecks: ProfileCheck[];
}

/** Diagonal of H^-1 M H^-1 (H^-1 given, symmetric). */
function sandwichVariances(inverse: Float64Array, scatter: Float64Array, P: number): Float64Array {
  const out = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    let v = 0;
    for (let a = 0; a < P; a++) {
      const ha = inverse[i * P + a]!;
      if (ha === 0) continue;
      for (let b = 0; b < P; b++) v += ha * scatter[a * P + b]! * inverse[b * P + i]!;
    }
    out[i] = v;
  }
  return out;
}

export interface IdentifiabilityOptions {
  /** The sum over segments of each segment's score times itself (P*P, same coordinates; see blockInformation). */
  scoreScatter?: Float64Array;
  /**
   * Profile checks of close calls. The coordinates still passing with a judged
   * value of at least `minJudged` (largest first, at most `maxChecks`) are each
   * held t model standard deviations off, where the quadratic model says the
   * cost, the others refitted, rises by t^2 variance. `measure(index,
   * direction, t)` returns the mean rise actually found at +-t with
   * coordinate `index` held (`direction`: the model's move per standard
   * deviation, the others at their conditional best, a starting point for
   * the refit), or undefined when it cannot. A smaller rise means the model
   * overstates the precision: the standard deviation grows by
   * sqrt(predicted / measured).
   */
  profile?: { measure: (index: number, direction: Float64Array, t: number) => number | undefined; minJudged: number; maxChecks: number; t?: number };
}

export interface ProfileCheck {
  name: string;
  /** Cost rise at +-t standard deviations: from the information, and measured. */
  predicted: number;
  measured: number;
}

/**
 * `information`: P*P (row-major) for unit-variance residuals; `variance`: the
 * residual variance estimate to scale it by (about 1 when the residuals were
 * normalized by good channel sigmas). The null directions and correlations
 * come from the information alone.
 */
export function analyzeIdentifiability(
  information: Float64Array,
  coords: readonly CoordinateSpec[],
  variance: number,
  threshold: number,
  options: IdentifiabilityOptions = {},
): IdentifiabilityResult {
  const P = coords.length;
  const { scoreScatter, profile } = options;
  if (information.length !== P * P) throw new RangeError(`analyzeIdentifiability: information has ${information.length} entries, expected ${P * P}`);
  if (scoreScatter && scoreScatter.length !== P * P) throw new RangeError(`analyzeIdentifiability: scoreScatter has ${scoreScatter.length} entries, expected ${P * P}`);
  const { values, vectors } = symmetricEigen(information, P);
  const top = Math.max(values[P - 1] ?? 0, 1e-300);
  // Eigenvalues at rounding level are zero information: clamp them so the
  // covariance along them is enormous but finite, rather than negative.
  const floor = top * 1e-14;
  const lam = values.map((v) => Math.max(v, floor));
  const inverse = new Float64Array(P * P);
  for (let k = 0; k < P; k++) {
    for (let i = 0; i < P; i++) {
      const vi = vectors[i * P + k]! / lam[k]!;
      for (let j = 0; j < P; j++) inverse[i * P + j]! += vi * vectors[j * P + k]!;
    }
  }
  const cov = Float64Array.from(inverse, (v) => v * variance);
  const out: IdentifiabilityResult = { stddev: {}, identifiable: {}, judged: {}, nullDirections: [], correlation: [], scatterRatio: {}, profileChecks: [] };
  const modelSd = Float64Array.from({ length: P }, (_, i) => Math.sqrt(Math.max(cov[i * P + i]!, 0)));
  const sd = Float64Array.from(modelSd);
  if (scoreScatter) {
    const robust = sandwichVariances(inverse, scoreScatter, P);
    coords.forEach((c, i) => {
      const r = Math.sqrt(Math.max(robust[i]!, 0));
      out.scatterRatio[c.name] = modelSd[i]! > 0 ? r / modelSd[i]! : Infinity;
      sd[i] = Math.max(sd[i]!, r);
    });
  }
  if (profile) {
    const t = profile.t ?? 4;
    const predicted = t * t * variance;
    const closeCalls = coords
      .map((c, i) => ({ i, judged: c.judge(sd[i]!) }))
      .filter((c) => c.judged >= profile.minJudged && c.judged <= threshold && modelSd[c.i]! > 0)
      .sort((a, b) => b.judged - a.judged)
      .slice(0, profile.maxChecks);
    for (const { i } of closeCalls) {
      const direction = Float64Array.from({ length: P }, (_, j) => cov[j * P + i]! / modelSd[i]!);
      const measured = profile.measure(i, direction, t);
      if (measured === undefined) continue;
      out.profileChecks.push({ name: coords[i]!.name, predicted, measured });
      if (measured < predicted) sd[i] = Math.max(sd[i]!, modelSd[i]! * Math.sqrt(predicted / Math.max(measured, predicted * 1e-4)));
    }
  }
  coords.forEach((c, i) => {
    const judged = c.judge(sd[i]!);
    out.stddev[c.name] = c.toPhysical(sd[i]!);
    out.judged[c.name] = judged;
    out.identifiable[c.name] = judged <= threshold;
  });
  out.correlation = Array.from({ length: P }, (_, i) => Array.from({ length: P }, (_, j) => (modelSd[i]! > 0 && modelSd[j]! > 0 ? cov[i * P + j]! / (modelSd[i]! * modelSd[j]!) : i === j ? 1 : 0)));
  // A direction is "null" when moving one standard deviation along it changes
  // some coordinate by more than the threshold (judged like the coordinates).
  for (let k = 0; k < P; k++) {
    const sdAlong = Math.sqrt(variance / lam[k]!);
    let judged = 0;
    const components: Record<string, number> = {};
    coords.forEach((c, i) => {
      const comp = vectors[i * P + k]!;
      judged = Math.max(judged, c.judge(Math.abs(comp) * sdAlong));
      if (Math.abs(comp) >= 0.05) components[c.name] = Number(comp.toFixed(3));
    });
    if (judged > threshold) out.nullDirections.push({ judged, components });
  }
  out.nullDirections.sort((a, b) => b.judged - a.judged);
  return out;
}
