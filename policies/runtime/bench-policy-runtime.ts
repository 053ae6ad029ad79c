/**
 * Batch-1 latency of OnnxPolicy.step(): the figure that decides whether an
 * exported policy fits a 2–10 ms control period with room to spare. Printed
 * by the benchmark command as JSON; never asserted in tests.
 */

import { Rng } from "../../common/rng.js";
import { exportPolicyOnnx } from "../onnx/export-policy.js";
import { randomPolicyParts } from "../onnx/random-parts.js";
import { OnnxPolicy, type OnnxPolicyOptions } from "./onnx-policy.js";

export interface PolicyRuntimeBench {
  p50Micros: number;
  p99Micros: number;
  meanMicros: number;
  maxMicros: number;
  steps: number;
}

export interface BenchOptions {
  /** Timed steps (default 5000). */
  steps?: number;
  /** Untimed steps first (default 500): warms caches, the allocator and the JIT. */
  warmup?: number;
  session?: OnnxPolicyOptions;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Steps the policy with random observations, timing each step.  */
export async function benchPolicyRuntime(onnxPath: string, options: BenchOptions = {}): Promise<PolicyRuntimeBench> {
  const steps = options.steps ?? 5000;
  const warmup = options.warmup ?? 500;
  const policy = await OnnxPolicy.load(onnxPath, undefined, options.session);
  try {
    const rng = new Rng(1);
    // A pool of observations, so generating them is not part of the timing.
    const pool = Array.from({ length: 64 }, () => Float32Array.from({ length: policy.obsSize }, () => rng.normal()));
    for (let i = 0; i < warmup; i++) policy.step(pool[i % pool.length]!);
    const times = new Float64Array(steps);
    for (let i = 0; i < steps; i++) {
      const obs = pool[i % pool.length]!;
      const t0 = process.hrtime.bigint();
      policy.step(obs);
      times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    let sum = 0;
    for (const t of times) sum += t;
    times.sort();
    return {
      p50Micros: percentile(times, 0.5),
      p99Micros: percentile(times, 0.99),
      meanMicros: sum / steps,
      maxMicros: times[steps - 1]!,
      steps,
    };
  } finally {
    policy.dispose();
  }
}

/**
 * The reference benchmark model: Furuta-sized observation (6, normalized in
 * the graph), one clipped action, 64-unit ELU encoder, GRU-128, 64-unit ELU
 * head. Random weights.
 */
export function gru128BenchmarkModel(): Uint8Array {
  const parts = randomPolicyParts(
    { obsSize: 6, actSize: 1, normalizeObs: true, actor: { hidden: [64], recurrent: { kind: "gru", size: 128 }, head: [64] } },
    128,
  );
  return exportPolicyOnnx(parts, { actionBound: { kind: "clip", low: [-1], high: [1] } });
}
