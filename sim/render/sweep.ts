import type { JointModel } from "../urdf/model.js";

/**
 * A scripted joint sweep for previews and benchmarks: frame k of n puts each
 * limited joint through a sine over its whole range (5 % inside the limits)
 * and turns each continuous joint through a full revolution, with the
 * velocities of that motion at `frameRate` (so motion blur shows).
 */
export function sweepPose(joints: readonly JointModel[], k: number, n: number, frameRate: number, q: Float64Array, qd: Float64Array): void {
  const period = n / frameRate;
  const phase = (2 * Math.PI * k) / n;
  joints.forEach((j, i) => {
    const lo = j.limit?.lower ?? -Infinity, hi = j.limit?.upper ?? Infinity;
    if (Number.isFinite(lo) && Number.isFinite(hi)) {
      const mid = (lo + hi) / 2, amp = 0.95 * ((hi - lo) / 2);
      q[i] = mid + amp * Math.sin(phase + i);
      qd[i] = ((amp * 2 * Math.PI) / period) * Math.cos(phase + i);
    } else {
      q[i] = phase + i;
      qd[i] = (2 * Math.PI) / period;
    }
  });
}
