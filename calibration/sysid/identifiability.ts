/**
 * What the data determines, read from the Fisher information at the optimum
 * (Gauss-Newton: J'J of the unit-variance residuals, initial states
 * marginalized out). Its inverse, scaled by the residual variance, is the
 * covariance of the fitted coordinates; a coordinate is identifiable when its
 * standard deviation is small, and a direction along which the information
 * nearly vanishes (e.g. scaling every mass, damping and 1/Rm together when no
 * current was logged) is reported as a null direction with its components.
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
}

/**
 * `information`: P*P (row-major) for unit-variance residuals; `variance`: the
 * residual variance estimate to scale it by (about 1 when the residuals were
 * normalized by good channel sigmas).
 */
export function analyzeIdentifiability(information: Float64Array, coords: readonly CoordinateSpec[], variance: number, threshold: number): IdentifiabilityResult {
  const P = coords.length;
  if (information.length !== P * P) throw new RangeError(`analyzeIdentifiability: information has ${information.length} entries, expected ${P * P}`);
  const { values, vectors } = symmetricEigen(information, P);
  const top = Math.max(values[P - 1] ?? 0, 1e-300);
  // Eigenvalues at rounding level are zero information: clamp them so the
  // covariance along them is enormous but finite, rather than negative.
  const floor = top * 1e-14;
  const lam = values.map((v) => Math.max(v, floor));
  const cov = new Float64Array(P * P);
  for (let k = 0; k < P; k++) {
    for (let i = 0; i < P; i++) {
      const vi = vectors[i * P + k]! / lam[k]!;
      for (let j = 0; j < P; j++) cov[i * P + j]! += vi * vectors[j * P + k]! * variance;
    }
  }
  const out: IdentifiabilityResult = { stddev: {}, identifiable: {}, judged: {}, nullDirections: [], correlation: [] };
  const sd = Float64Array.from({ length: P }, (_, i) => Math.sqrt(Math.max(cov[i * P + i]!, 0)));
  coords.forEach((c, i) => {
    const judged = c.judge(sd[i]!);
    out.stddev[c.name] = c.toPhysical(sd[i]!);
    out.judged[c.name] = judged;
    out.identifiable[c.name] = judged <= threshold;
  });
  out.correlation = Array.from({ length: P }, (_, i) => Array.from({ length: P }, (_, j) => (sd[i]! > 0 && sd[j]! > 0 ? cov[i * P + j]! / (sd[i]! * sd[j]!) : i === j ? 1 : 0)));
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
