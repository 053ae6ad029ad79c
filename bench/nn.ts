import { getHeapStatistics } from "node:v8";
import { Rng } from "../common/rng.js";
import { GaussianHead, Gru, Mlp, getKernel, type Arena, type Transpose } from "../policies/nn/index.js";
import { benchConvLayers, benchPerception } from "./nn-conv.js";

/**
 * Speed of the training core: GFLOP/s of the matrix kernels (WebAssembly
 * SIMD and the TypeScript fallback) on the products of a linear layer over a
 * minibatch, the time of one forward+backward pass of a GRU(128) policy over
 * a [T=32, B=64] minibatch and of one batched inference step, and the heap
 * bytes one inference step allocates (about 0: the hot path allocates
 * nothing). Returns the numbers; printing them is the CLI's job.
 *
 * Keys: gemm_<trans>_<M>x<N>x<K>_<kernel>_gflops (C[M,N] = op(A) op(B), inner
 * size K); for a layer of `rows` x `in` -> `out` these are the forward
 * product nt rows x out x in, the input gradient nn rows x in x out and the
 * weight gradient tn out x in x rows. Then
 * gru128_policy_fwd_bwd_T32_B64_<kernel>_ms, gru128_policy_step_B64_<kernel>_us,
 * gru128_policy_step_heap_bytes_per_call_<kernel>. A kernel that cannot load here is
 * left out ("wasm_kernel_available" says which). The conv layers and the
 * perception network: see nn-conv.ts.
 */

/** [rows, in, out] of the two layer sizes measured. */
const LAYERS: [number, number, number][] = [[2048, 64, 64], [4096, 256, 256]];
const TRANSPOSES: Transpose[] = ["nt", "nn", "tn"];

function gemmShape(trans: Transpose, [rows, nIn, nOut]: [number, number, number]): [number, number, number] {
  return trans === "nt" ? [rows, nOut, nIn] : trans === "nn" ? [rows, nIn, nOut] : [nOut, nIn, rows];
}

/**
 * Median seconds per call over five timings filling about `budget` seconds
 * (three single calls when one call alone is longer than the budget).
 */
function timeIt(fn: () => void, budget: number): number {
  fn(); // warm-up: compile, touch memory
  const t0 = performance.now();
  fn();
  const once = Math.max((performance.now() - t0) / 1000, 1e-7);
  const count = once > budget ? 3 : 5;
  const reps = Math.max(1, Math.min(1000, Math.floor(budget / count / once)));
  const samples: number[] = [];
  for (let s = 0; s < count; s++) {
    const start = performance.now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((performance.now() - start) / 1000 / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[count >> 1]!;
}

function benchGemm(arena: Arena<Float32Array>, trans: Transpose, m: number, n: number, k: number, budget: number): number {
  const rng = new Rng(1);
  const mark = arena.mark();
  const a = arena.alloc(m * k), b = arena.alloc(k * n), c = arena.alloc(m * n);
  for (const x of [a, b]) for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  const lda = trans === "tn" ? m : k, ldb = trans === "nt" ? k : n;
  const sec = timeIt(() => arena.gemm(trans, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false), budget);
  arena.release(mark);
  return (2 * m * n * k) / sec / 1e9;
}

/** obs(10) -> GRU(128) -> MLP(128, 128, 2) -> Gaussian head; loss = sum w . logp + 0.01 H. */
function benchPolicy(arena: Arena<Float32Array>, budget: number): { fwdBwdMs: number; stepUs: number; step: () => void } {
  const T = 32, B = 64, O = 10, A = 2, rows = T * B;
  const rng = new Rng(2);
  const gru = new Gru(arena, O, 128, rng);
  const mlp = new Mlp(arena, rng, { sizes: [128, 128, A], outputGain: 0.01 });
  const head = new GaussianHead(arena, A);
  const x = arena.alloc(rows * O), dMean = arena.alloc(rows * A);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  const actions = new Float32Array(rows * A).map(() => rng.normal());
  const w = new Float32Array(rows).fill(1 / rows), logp = new Float32Array(rows);
  const done = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) done[i] = rng.next() < 0.01 ? 1 : 0;
  const state0 = new Float32Array(B * 128);
  const gctx = gru.newContext({ maxSteps: T, maxBatch: B, backward: true, inputGrad: false });
  const mctx = mlp.newContext({ maxRows: rows, backward: true });
  const fwdBwd = () => {
    gru.zeroGrad();
    mlp.zeroGrad();
    head.zeroGrad();
    const h = gru.forward(gctx, x, state0, done, T, B);
    const mean = mlp.forward(mctx, h, rows);
    head.logProb(mean, actions, rows, logp);
    head.logProbBackward(mean, actions, w, rows, dMean);
    head.entropyBackward(0.01);
    gru.backward(gctx, mlp.backward(mctx, dMean, rows), null);
  };
  const sctx = gru.newContext({ maxSteps: 1, maxBatch: B });
  const ictx = mlp.newContext({ maxRows: B });
  const xs = arena.alloc(B * O);
  xs.set(x.subarray(0, B * O));
  const state = new Float32Array(B * 128);
  const step = () => {
    mlp.forward(ictx, gru.step(sctx, xs, state, B), B);
  };
  return { fwdBwdMs: timeIt(fwdBwd, budget) * 1e3, stepUs: timeIt(step, budget / 2) * 1e6, step };
}

/**
 * `quick` shortens every timing (about 2 s in all instead of about 10);
 * `log` receives a progress line per kernel; `secondsPerCase` overrides the
 * time spent per measured case.
 */
export async function benchNn(opts: { quick?: boolean; log?: (line: string) => void; secondsPerCase?: number } = {}): Promise<Record<string, number>> {
  const budget = opts.secondsPerCase ?? (opts.quick ? 0.08 : 0.4);
  const result: Record<string, number> = {};
  const kernels: ("wasm" | "js")[] = [];
  try {
    getKernel("wasm");
    kernels.push("wasm");
    result["wasm_kernel_available"] = 1;
  } catch {
    result["wasm_kernel_available"] = 0;
  }
  kernels.push("js");
  for (const kind of kernels) {
    opts.log?.(`nn: timing the ${kind === "wasm" ? "WebAssembly SIMD" : "TypeScript"} kernel`);
    const arena = getKernel(kind).createArena({ capacityMiB: 256 });
    try {
      for (const layer of LAYERS) {
        for (const trans of TRANSPOSES) {
          // The fallback is only timed on the forward product, to keep the benchmark short.
          if (kind === "js" && trans !== "nt") continue;
          const [m, n, k] = gemmShape(trans, layer);
          result[`gemm_${trans}_${m}x${n}x${k}_${kind}_gflops`] = round(benchGemm(arena, trans, m, n, k, budget), 2);
        }
      }
      const p = benchPolicy(arena, kind === "js" ? budget * 2 : budget);
      result[`gru128_policy_fwd_bwd_T32_B64_${kind}_ms`] = round(p.fwdBwdMs, 2);
      result[`gru128_policy_step_B64_${kind}_us`] = round(p.stepUs, 1);
      result[`gru128_policy_step_heap_bytes_per_call_${kind}`] = round(heapBytesPerCall(p.step, kind === "wasm" ? 500 : 50), 1);
      opts.log?.(`nn: conv layers and the perception network on the ${kind} kernel`);
      benchConvLayers(arena, kind, budget, result);
      benchPerception(kind, budget, result);
    } finally {
      arena.dispose();
    }
  }
  return result;
}

/**
 * Heap bytes allocated per call of fn: growth of the used heap over `calls`
 * calls, minimum of three attempts (an attempt during which a collection
 * shrank the heap is discarded). About 1 byte/call is the measurement's own
 * noise; an allocating hot path shows tens to hundreds.
 */
function heapBytesPerCall(fn: () => void, calls: number): number {
  for (let i = 0; i < calls; i++) fn();
  let best = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < calls; i++) fn();
    const grown = getHeapStatistics().used_heap_size - before;
    if (grown >= 0) best = Math.min(best, grown / calls);
  }
  return Number.isFinite(best) ? best : -1;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
