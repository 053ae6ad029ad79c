import test from "node:test";
import assert from "node:assert/strict";
import { captureWasmMemories } from "./wasm-memory.js";
// Before anything loads Rapier: record its WebAssembly memory to measure leaks exactly.
const wasmBytes = captureWasmMemories();
import { Rng } from "../../common/rng.js";
import { LocalVecEnv } from "../../sim/env/local-vec-env.js";
import { WorkerVecEnv } from "../../sim/env/worker-vec-env.js";
import type { StepBatch, VecEnv } from "../../sim/env/contract.js";
import { furutaConfigSchema } from "../../sim/tasks/furuta/config.js";
import { getTask } from "../../sim/tasks/registry.js";
import { setupTask, SimEnv } from "../../sim/env/sim-env.js";

async function rollout(env: VecEnv, steps: number, seed: number): Promise<{ obs: number[]; reward: number[]; episodes: string[] }> {
  const rng = new Rng(seed);
  const obs: number[] = [], reward: number[] = [], episodes: string[] = [];
  const r = await env.reset();
  obs.push(...r.obs, ...r.privileged);
  const a = new Float32Array(env.numEnvs * env.spec.numActions);
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1.2, 1.2);
    const b: StepBatch = await env.step(a);
    obs.push(...b.obs, ...b.privileged, ...b.finalObs);
    reward.push(...b.reward, ...b.terminated, ...b.truncated);
    episodes.push(...b.episodes.map((e) => JSON.stringify(e)));
  }
  return { obs, reward, episodes };
}

test("results for a seed are bit-identical whatever the number of workers", async () => {
  // Short episodes so that resets (with newly drawn parameters) happen inside the comparison.
  const config = { episodeSeconds: 0.5 };
  const local = await LocalVecEnv.create({ task: "furuta", seed: 11, numEnvs: 6, config });
  const ref = await rollout(local, 120, 5);
  await local.close();
  for (const workers of [2, 3]) {
    const pool = await WorkerVecEnv.create({ task: "furuta", seed: 11, numEnvs: 6, config, workers });
    const got = await rollout(pool, 120, 5);
    await pool.close();
    assert.ok(ref.episodes.length >= 6, "episodes ended and reset during the run");
    assert.deepEqual(got.episodes, ref.episodes, `episodes with ${workers} workers`);
    assert.deepEqual(got.reward, ref.reward, `rewards with ${workers} workers`);
    assert.deepEqual(got.obs, ref.obs, `observations with ${workers} workers`);
  }
});

test("no NaN over long random-action rollouts with randomized dynamics", async () => {
  const env = await LocalVecEnv.create({ task: "furuta", seed: 3, numEnvs: 4 });
  const rng = new Rng(2);
  await env.reset();
  const a = new Float32Array(4);
  let episodes = 0;
  for (let t = 0; t < 5000; t++) {
    // Bang-bang, sinusoidal and out-of-range actions.
    for (let i = 0; i < 4; i++) a[i] = t % 500 < 250 ? (rng.next() < 0.5 ? -3 : 3) : Math.sin(t * 0.07 + i) * 1.5;
    const b = env.stepSync(a);
    for (const x of b.obs) assert.ok(Number.isFinite(x), `non-finite observation at step ${t}`);
    for (const x of b.reward) assert.ok(Number.isFinite(x), `non-finite reward at step ${t}`);
    episodes += b.episodes.length;
  }
  assert.ok(episodes > 0);
  await env.close();
});

test("a non-finite action is an error naming the env", async () => {
  const env = await LocalVecEnv.create({ task: "furuta", seed: 3, numEnvs: 2, params: { kind: "nominal" } });
  await env.reset();
  assert.throws(() => env.stepSync(Float32Array.from([0, NaN])), /env 1: action\[0\] \(arm\) is NaN/);
  await env.close();
});

test("every default randomization target changes what the policy sees", async () => {
  const cfg = furutaConfigSchema.defaults();
  const probe = async (values: Record<string, number>) => {
    const env = await LocalVecEnv.create({ task: "furuta", seed: 1, numEnvs: 1, params: { kind: "fixed", values } });
    const out: number[] = [];
    const r = env.resetSync();
    out.push(...r.obs);
    for (let t = 0; t < 150; t++) out.push(...env.stepSync(Float32Array.of(0.6 * Math.sin(t * 0.15))).obs);
    await env.close();
    return out;
  };
  const nominal = await probe({});
  const setup = setupTask(getTask("furuta"), cfg);
  for (const e of cfg.randomization) {
    const i = setup.table.indexOf(e.target);
    const nom = setup.table.entries[i]!.nominal;
    const v = e.mode === "scale" ? nom * e.high! : e.high!;
    const seen = await probe({ [e.target]: v });
    assert.notDeepEqual(seen, nominal, `${e.target} = ${v} left the observations unchanged`);
  }
});

test("no WebAssembly memory growth over 10 000 resets with randomized models", async () => {
  const setup = setupTask(getTask("furuta"), furutaConfigSchema.defaults());
  const env = await SimEnv.create(setup, 0, 7);
  const obs = new Float32Array(setup.spec.numObs), priv = new Float32Array(setup.spec.numPrivileged);
  const act = new Float32Array(1);
  const cycle = (n: number) => {
    for (let i = 0; i < n; i++) {
      env.reset(obs, 0, priv, 0);
      env.step(act, 0, obs, 0);
    }
  };
  cycle(500); // let Rapier's allocator reach its working size
  const before = wasmBytes();
  assert.ok(before > 0, "Rapier's WebAssembly memory was captured");
  cycle(10000);
  const after = wasmBytes();
  env.dispose();
  // WebAssembly memory only ever grows, in 64 KiB pages: a leak of even 10 bytes per reset would add pages.
  assert.equal(after - before, 0, `Rapier's WebAssembly memory grew by ${after - before} bytes over 10 000 resets`);
});
