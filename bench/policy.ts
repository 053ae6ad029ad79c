import { existsSync } from "node:fs";
import { projectPath } from "../common/paths.js";
import { readCheckpoint } from "../policies/checkpoint.js";
import { checkpointPolicy } from "../policies/evaluate.js";
import { benchPolicyRuntime } from "../policies/runtime/bench-policy-runtime.js";
import { Rng } from "../common/rng.js";

/**
 * Batch-1 step latency of the shipped Furuta policy through onnxruntime-node,
 * and of the same policy through the in-process training core, in one run.
 */
export async function benchPolicy(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number>> {
  const dir = projectPath("policies", "pretrained", "furuta");
  const onnx = `${dir}/policy.onnx`;
  if (!existsSync(onnx)) throw new Error(`no shipped policy at ${onnx}: train and export one first (see README, "The shipped policy")`);
  const steps = o.quick ? 2000 : 20000;
  const ort = await benchPolicyRuntime(onnx, { steps, warmup: 500 });
  const { checkpoint } = readCheckpoint(dir);
  const policy = checkpointPolicy(checkpoint, 1);
  const rng = new Rng(3);
  const obs = new Float32Array(checkpoint.envSpec.numObs);
  const start = Uint8Array.of(0);
  const times: number[] = [];
  for (let i = 0; i < steps + 500; i++) {
    for (let k = 0; k < obs.length; k++) obs[k] = rng.normal();
    const t0 = process.hrtime.bigint();
    policy.act(obs, start);
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i >= 500) times.push(dt);
  }
  policy.dispose();
  times.sort((a, b) => a - b);
  const nativeP50 = times[Math.floor(times.length / 2)]!;
  const nativeP99 = times[Math.floor(times.length * 0.99)]!;
  return {
    p50Micros: Number(ort.p50Micros.toFixed(1)),
    p99Micros: Number(ort.p99Micros.toFixed(1)),
    nativeP50Micros: Number(nativeP50.toFixed(1)),
    nativeP99Micros: Number(nativeP99.toFixed(1)),
    onnxOverNative: Number((ort.p50Micros / nativeP50).toFixed(2)),
    steps,
  };
}
