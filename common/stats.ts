/**
 * The few distribution functions the project's decisions need (the fine-tune
 * gate's confidence bounds), from jStat rather than hand-written special
 * functions. jStat ships no types: the two functions used are typed here.
 */
import { createRequire } from "node:module";

interface JStat {
  betaln(a: number, b: number): number;
  studentt: { inv(p: number, dof: number): number };
}
const jStat = (createRequire(import.meta.url)("jstat") as { jStat: JStat }).jStat;

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return jStat.betaln(a, b);
}

/** The p-quantile of Student's t with `dof` degrees of freedom. */
export function studentTQuantile(p: number, dof: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(dof > 0)) throw new RangeError(`studentTQuantile: degrees of freedom must be > 0, got ${dof}`);
  return jStat.studentt.inv(p, dof);
}

/**
 * P(X > Y) for independent X ~ Beta(aX, bX), Y ~ Beta(aY, bY) with integer aX
 * (exact sum; Evan Miller's formula for comparing two Beta posteriors).
 */
export function probBetaGreater(aX: number, bX: number, aY: number, bY: number): number {
  if (!Number.isInteger(aX) || aX < 1) throw new RangeError(`probBetaGreater: aX must be a positive integer, got ${aX}`);
  let total = 0;
  const lbY = logBeta(aY, bY);
  for (let i = 0; i < aX; i++) {
    total += Math.exp(logBeta(aY + i, bX + bY) - Math.log(bX + i) - logBeta(1 + i, bX) - lbY);
  }
  return Math.min(1, Math.max(0, total));
}
