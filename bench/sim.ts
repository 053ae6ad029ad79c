import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Rng } from "../common/rng.js";
import { LocalVecEnv } from "../sim/env/local-vec-env.js";
import { WorkerVecEnv } from "../sim/env/worker-vec-env.js";
import type { VecEnv } from "../sim/env/contract.js";
import { FURUTA_NOMINAL, integrateFuruta } from "../sim/tasks/furuta/analytic.js";
import { furutaConfigSchema } from "../sim/tasks/furuta/config.js";

/** Steps a vector env with random actions for about `seconds`; returns control steps (summed over envs) per second. */
async function measure(env: VecEnv, seconds: number): Promise<number> {
  const rng = new Rng(1);
  const actions = new Float32Array(env.numEnvs * env.spec.numActions);
  await env.reset();
  // Warm up the JIT and Rapier before timing.
  for (let i = 0; i < 20; i++) await env.step(actions);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < actions.length; i++) actions[i] = rng.uniform(-1, 1);
    await env.step(actions);
    steps += env.numEnvs;
  }
  return steps / ((performance.now() - t0) / 1000);
}

export async function benchSim(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number>> {
  const seconds = o.quick ? 1 : 5;
  const cfg = furutaConfigSchema.defaults();
  const substeps = Math.round(cfg.controlDt / cfg.physicsDt);
  o.log(`Furuta at ${1 / cfg.controlDt} Hz control, physics dt ${cfg.physicsDt * 1000} ms (${substeps} substeps), default randomization`);

  const single = await LocalVecEnv.create({ task: "furuta", seed: 1, numEnvs: 16 });
  const controlStepsPerSec = await measure(single, seconds);
  await single.close();

  // The analytic reference integrates the same equations at the same step.
  const duration = o.quick ? 20 : 100;
  const t0 = performance.now();
  integrateFuruta(FURUTA_NOMINAL, [0, 0.5, 0, 0], 1.0, duration, cfg.controlDt);
  const analyticStepsPerSec = duration / cfg.controlDt / ((performance.now() - t0) / 1000);

  const pool = await WorkerVecEnv.create({ task: "furuta", seed: 1, numEnvs: 32, workers: 2 });
  const pool2ControlStepsPerSec = await measure(pool, seconds);
  await pool.close();

  // Memory per reset, in a fresh process so Rapier's WebAssembly memory can be observed from its start.
  const probe = fileURLToPath(new URL("./wasm-leak-probe.js", import.meta.url));
  const leak = JSON.parse(execFileSync(process.execPath, [probe, String(o.quick ? 2000 : 10000)], { encoding: "utf8" })) as Record<string, number>;

  return {
    controlStepsPerSec: Math.round(controlStepsPerSec),
    analyticStepsPerSec: Math.round(analyticStepsPerSec),
    pool2ControlStepsPerSec: Math.round(pool2ControlStepsPerSec),
    controlHz: 1 / cfg.controlDt,
    physicsSubsteps: substeps,
    rapierVsAnalytic: Number((controlStepsPerSec / analyticStepsPerSec).toFixed(3)),
    poolSpeedup: Number((pool2ControlStepsPerSec / controlStepsPerSec).toFixed(3)),
    resetWasmBytesPerReset: leak.resetWasmBytesPerReset!,
    restoreSnapshotWasmBytesPerReset: leak.restoreSnapshotWasmBytesPerReset!,
  };
}
