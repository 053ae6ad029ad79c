/**
 * The zero of joints that hang under gravity (the Furuta pendulum: alpha = 0
 * hangs straight down), with torque off:
 *
 * - `waitStill`: until every joint stays within the rig's settle tolerance
 *   for its stillSeconds (the rig file's episodes.settle, as between
 *   deployment episodes);
 * - `averageHanging`: then the mean reading of each hanging joint over
 *   averageSeconds. If a joint moves farther than the tolerance from its
 *   running mean (someone touched the rig), the average starts again.
 *
 * The mean of many readings resolves the zero well below one count: the
 * encoder's noise averages out, and what is left of a swing (below the
 * tolerance) averages to its centre.
 */
import type { RigSettle } from "../../robot/rigs/rig-config.js";
import type { Phase } from "../session/session-loop.js";

export function waitStill(o: { settle: RigSettle; jointCount: number; onWait?: (seconds: number, movement: number) => void }): Phase {
  const s = o.settle;
  let anchor: Float64Array | undefined;
  let anchorSeconds = 0;
  let lastReport = 0;
  return {
    name: "wait until the joints hang still (torque off)",
    drive: false,
    maxSeconds: s.timeoutSeconds,
    step(frame, seconds) {
      let moved = 0;
      if (anchor) for (let i = 0; i < o.jointCount; i++) moved = Math.max(moved, Math.abs(frame.position[i]! - anchor[i]!));
      if (!anchor || moved > s.positionTolerance) {
        anchor = Float64Array.from(frame.position);
        anchorSeconds = seconds;
      } else if (seconds - anchorSeconds >= s.stillSeconds) return true;
      if (o.onWait && seconds - lastReport >= 5) {
        lastReport = seconds;
        o.onWait(seconds, moved);
      }
      return false;
    },
  };
}

export interface HangingAverage {
  joint: string;
  /** Mean reading, hardware units. */
  mean: number;
  /** Standard deviation of the readings (noise plus what is left of a swing). */
  stddev: number;
  samples: number;
  /** Times the average started again because the joint moved. */
  restarts: number;
}

export function averageHanging(o: { joints: { name: string; index: number }[]; seconds: number; tolerance: number }): Phase & { result: HangingAverage[] } {
  const n = o.joints.length;
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  let count = 0;
  let since = NaN;
  let restarts = 0;
  const result: HangingAverage[] = [];
  return {
    name: `average ${o.joints.map((j) => j.name).join(", ")} hanging still`,
    drive: false,
    // Restarts are allowed, but not forever.
    maxSeconds: 10 * o.seconds + 30,
    result,
    step(frame, seconds) {
      if (count > 0) {
        const moved = o.joints.some((j, i) => Math.abs(frame.position[j.index]! - sum[i]! / count) > o.tolerance);
        if (moved) {
          sum.fill(0);
          sumSq.fill(0);
          count = 0;
          restarts++;
        }
      }
      if (count === 0) since = seconds;
      o.joints.forEach((j, i) => {
        const x = frame.position[j.index]!;
        sum[i]! += x;
        sumSq[i]! += x * x;
      });
      count++;
      if (seconds - since < o.seconds) return false;
      o.joints.forEach((j, i) => {
        const mean = sum[i]! / count;
        result.push({ joint: j.name, mean, stddev: Math.sqrt(Math.max(0, sumSq[i]! / count - mean * mean)), samples: count, restarts });
      });
      return true;
    },
  };
}
