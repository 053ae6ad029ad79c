import type { Floats } from "./kernel/matrix-ops.js";
import type { Param } from "./module.js";

/**
 * Scales all gradients together so that their global L2 norm is at most
 * maxNorm, and returns the norm before clipping. A non-finite norm leaves the
 * gradients untouched (the caller should skip the update).
 */
export function clipGradNorm<A extends Floats>(params: Param<A>[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  let sq = 0;
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm) || norm <= maxNorm) return norm;
  const scale = maxNorm / (norm + 1e-6);
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}
