import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Rng } from "../common/rng.js";
import { DEFAULT_BLOCK_SIZE, LocalVecEnv } from "../sim/env/local-vec-env.js";
import { WorkerVecEnv } from "../sim/env/worker-vec-env.js";
import type { VecEnv } from "../sim/env/contract.js";
import { FURUTA_NOMINAL, integrateFuruta } from "../sim/tasks/furuta/analytic.js";
import { furutaConfigSchema } from "../sim/tasks/furuta/config.js";

interface Rate {
  /** Control steps (summed over envs) per wall-clock second. */
  wall: number;
  /** Control steps per CPU-second of this process (all its threads): the per-core rate, even on a busy machine. */
  cpu: number;
}

/** Steps a vector env with random actions for about `seconds` after `warmup` seconds; returns control steps per second. */
async function measure(env: VecEnv, seconds: number, warmup: number): Promise<Rate> {
  const rng = new Rng(1);
  const actions = new Float32Array(env.numEnvs * env.spec.numActions);
  await env.reset();
  // V8 first runs Rapier's WebAssembly with its baseline compiler and optimizes
  // hot functions later (seconds later on a busy machine): time only after that.
  const w0 = performance.now();
  while (performance.now() - w0 < warmup * 1000) await env.step(actions);
  let steps = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < actions.length; i++) actions[i] = rng.uniform(-1, 1);
    await env.step(actions);
    steps += env.numEnvs;
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: steps / wall, cpu: steps / ((c.user + c.system) / 1e6) };
}

export async function benchSim(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number>> {
  const seconds = o.quick ? 1 : 5;
  const warmup = o.quick ? 1.5 : 4;
  const cfg = furutaConfigSchema.defaults();
  const steps = Math.round(cfg.controlDt / cfg.physicsDt);
  const solverSubsteps = steps * Math.ceil(cfg.physicsDt / cfg.physicsSubstep - 1e-9);
  o.log(
    `Furuta at ${1 / cfg.controlDt} Hz control, physics dt ${cfg.physicsDt * 1000} ms x ${steps} in ${cfg.physicsSubstep * 1000} ms solver substeps ` +
      `(${solverSubsteps} per control step), default randomization, ${DEFAULT_BLOCK_SIZE} envs per physics world`,
  );

  const single = await LocalVecEnv.create({ task: "furuta", seed: 1, numEnvs: 16 });
  const control = await measure(single, seconds, warmup);
  await single.close();

  // The analytic reference integrates the same equations at the same step.
  const duration = o.quick ? 20 : 100;
  const t0 = performance.now();
  integrateFuruta(FURUTA_NOMINAL, [0, 0.5, 0, 0], 1.0, duration, cfg.controlDt);
  const analyticStepsPerSec = duration / cfg.controlDt / ((performance.now() - t0) / 1000);

  const pool = await WorkerVecEnv.create({ task: "furuta", seed: 1, numEnvs: 32, workers: 2 });
  const pool2 = await measure(pool, seconds, warmup);
  await pool.close();

  // Memory per reset, in a fresh process so Rapier's WebAssembly memory can be observed from its start.
  const probe = fileURLToPath(new URL("./wasm-leak-probe.js", import.meta.url));
  const leak = JSON.parse(execFileSync(process.execPath, [probe, String(o.quick ? 2000 : 10000)], { encoding: "utf8" })) as Record<string, number>;

  return {
    controlStepsPerSec: Math.round(control.wall),
    analyticStepsPerSec: Math.round(analyticStepsPerSec),
    pool2ControlStepsPerSec: Math.round(pool2.wall),
    controlStepsPerCpuSec: Math.round(control.cpu),
    pool2ControlStepsPerCpuSec: Math.round(pool2.cpu),
    controlHz: 1 / cfg.controlDt,
    physicsSubsteps: steps,
    solverSubstepsPerControlStep: solverSubsteps,
    envsPerWorld: DEFAULT_BLOCK_SIZE,
    rapierVsAnalytic: Number((control.wall / analyticStepsPerSec).toFixed(3)),
    poolSpeedup: Number((pool2.wall / control.wall).toFixed(3)),
    resetWasmBytesPerReset: leak.resetWasmBytesPerReset!,
    restoreSnapshotWasmBytesPerReset: leak.restoreSnapshotWasmBytesPerReset!,
  };
}
