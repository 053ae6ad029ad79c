/**
 * Position and velocity of a sampled, quantized angle at one sample, by a
 * local least-squares cubic over a window of samples around it (a
 * Savitzky-Golay estimate that also works at the ends of a record and with
 * uneven sample times). Cubic rather than quadratic: on a centred window the
 * slope of a quadratic fit ignores the third derivative, which a pendulum
 * swinging at ~10 rad/s makes large (a bias of tenths of a rad/s); the cubic
 * removes it. Where the motion has kinks (a PRBS switching the voltage every
 * few samples) no polynomial fits well and the velocity stays off by ~0.1
 * rad/s, which is why the fit treats segment start states as unknowns and
 * this estimate is only their starting point (state-fit.ts).
 */
import { solveSpd } from "./linalg.js";

export function localState(t: ArrayLike<number>, x: ArrayLike<number>, k: number, halfWindow = 5): { position: number; velocity: number } {
  const n = t.length;
  const lo = Math.max(0, k - halfWindow);
  const hi = Math.min(n - 1, k + halfWindow);
  const m = hi - lo + 1;
  const degree = Math.min(3, m - 1);
  if (degree < 1) throw new RangeError(`localState: need at least 2 samples around sample ${k}, have ${m}`);
  const d = degree + 1;
  // Normal equations in tau = t - t[k], scaled by the window span for conditioning.
  const span = Math.max(Math.abs(t[hi]! - t[k]!), Math.abs(t[lo]! - t[k]!)) || 1;
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  const pw = new Float64Array(2 * d);
  for (let i = lo; i <= hi; i++) {
    const tau = (t[i]! - t[k]!) / span;
    pw[0] = 1;
    for (let p = 1; p < 2 * d; p++) pw[p] = pw[p - 1]! * tau;
    for (let r = 0; r < d; r++) {
      b[r]! += pw[r]! * x[i]!;
      for (let c = 0; c < d; c++) A[r * d + c]! += pw[r + c]!;
    }
  }
  const coef = solveSpd(A, b, d);
  if (!coef) throw new RangeError(`localState: degenerate sample times around sample ${k}`);
  return { position: coef[0]!, velocity: coef[1]! / span };
}
