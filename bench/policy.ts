/**
 * Batch-1 step latency of the shipped Furuta policy as a control loop sees
 * it, for onnxruntime-node and for the in-process core, in one run:
 *
 * - back to back (a tight loop: hot caches, the best case);
 * - at 100, 200 and 500 Hz, one step per period of a PeriodicTimer (the
 *   thread sleeping between steps, as in `s2r deploy`), "cold" (a step right
 *   after the wake-up) and "warm" (the policy's warm() just before the tick,
 *   as deploy does).
 *
 * The process asks for SCHED_FIFO like deploy's loop, so the figures are the
 * loop's. A step that slept through the period finds the weights, the code
 * and the branch predictors cold: that, not a thread pool (sessions run with
 * one thread, no pool), is why a step in the loop cost several times one in a
 * tight loop.
 */

import { existsSync } from "node:fs";
import { projectPath } from "../common/paths.js";
import { Rng } from "../common/rng.js";
import { loadLoopPolicy } from "../policies/runtime/loop-policy.js";
import { OnnxPolicy } from "../policies/runtime/onnx-policy.js";
import type { CorePolicy } from "../policies/runtime/core-policy.js";
import { DEFAULT_RT_PRIORITY, releaseRealtimePriority, requestRealtimePriority } from "../robot/realtime.js";
import { PeriodicTimer } from "../robot/timing.js";

type Steppable = OnnxPolicy | CorePolicy;

const RATES_HZ = [100, 200, 500] as const;

interface Figures {
  p50: number;
  p99: number;
  max: number;
}

function figures(times: Float64Array): Figures {
  const s = times.slice().sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (v: number) => Number(v.toFixed(1));
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1]!) };
}

/** Times `steps` steps; with `rateHz`, one per tick of a PeriodicTimer (warming before each tick when `warm`). */
async function timeSteps(p: Steppable, pool: Float32Array[], steps: number, rateHz?: number, warm = false): Promise<Figures> {
  for (let i = 0; i < 200; i++) p.step(pool[i % pool.length]!);
  p.reset();
  const timer = rateHz ? new PeriodicTimer(1 / rateHz, warm ? { beforeTick: () => p.warm() } : {}) : undefined;
  const times = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    if (timer) await timer.waitNext();
    const obs = pool[i % pool.length]!;
    const t0 = process.hrtime.bigint();
    p.step(obs);
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return figures(times);
}

export async function benchPolicy(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number | string>> {
  const dir = projectPath("policies", "pretrained", "furuta");
  const onnx = `${dir}/policy.onnx`;
  if (!existsSync(onnx)) throw new Error(`no shipped policy at ${onnx}: train and export one first (see README, "The shipped policy")`);
  const tightSteps = o.quick ? 2000 : 20000;
  // Seconds per rate and variant: 1 quick, 10 full.
  const secondsPerRate = o.quick ? 1 : 10;
  const ort = await OnnxPolicy.load(onnx, `${dir}/policy.json`);
  let core: Steppable | undefined;
  const realtime = requestRealtimePriority(DEFAULT_RT_PRIORITY);
  try {
    const loaded = await loadLoopPolicy(onnx, `${dir}/policy.json`, "core");
    core = loaded.policy;
    const rng = new Rng(3);
    // Observations drawn once, so generating them is not timed.
    const pool = Array.from({ length: 256 }, () => Float32Array.from({ length: ort.obsSize }, () => 2 * rng.normal()));
    const out: Record<string, number | string> = { scheduling: realtime.scheduling };
    let best = { p99: Infinity, name: "" };
    for (const [name, p] of [["onnxruntime", ort], ["core", core]] as const) {
      o.log(`policy: ${name}, back to back (${tightSteps} steps)`);
      const tight = await timeSteps(p, pool, tightSteps);
      out[`${name}TightP50Micros`] = tight.p50;
      out[`${name}TightP99Micros`] = tight.p99;
      for (const hz of RATES_HZ) {
        for (const warm of [false, true]) {
          const label = `${name}${hz}Hz${warm ? "Warm" : "Cold"}`;
          o.log(`policy: ${name} at ${hz} Hz, ${warm ? "warmed before each tick" : "cold"} (${secondsPerRate} s)`);
          const f = await timeSteps(p, pool, hz * secondsPerRate, hz, warm);
          out[`${label}P50Micros`] = f.p50;
          out[`${label}P99Micros`] = f.p99;
          out[`${label}MaxMicros`] = f.max;
        }
      }
      const worstWarmP99 = Math.max(...RATES_HZ.map((hz) => out[`${name}${hz}HzWarmP99Micros`] as number));
      out[`${name}InLoopWarmWorstP99Micros`] = worstWarmP99;
      if (worstWarmP99 < best.p99) best = { p99: worstWarmP99, name };
    }
    out.coldOverTightOnnxruntime100Hz = Number(((out.onnxruntime100HzColdP50Micros as number) / (out.onnxruntimeTightP50Micros as number)).toFixed(2));
    out.onnxruntimeOverCore100HzWarmP99 = Number(((out.onnxruntime100HzWarmP99Micros as number) / (out.core100HzWarmP99Micros as number)).toFixed(2));
    out.fastestInLoop = best.name;
    out.tightSteps = tightSteps;
    out.secondsPerRate = secondsPerRate;
    return out;
  } finally {
    if (realtime.granted) releaseRealtimePriority();
    ort.dispose();
    core?.dispose();
  }
}
