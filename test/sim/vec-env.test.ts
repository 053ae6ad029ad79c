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
import { isVisualTarget } from "../../sim/randomization/spec.js";

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
  // Short episodes so that resets (with newly drawn parameters) happen inside the comparison;
  // worlds of 2 envs, which do not divide the 7 envs, so workers get 2+2 or 2+1+1 blocks.
  const config = { episodeSeconds: 0.5 };
  const opts = { task: "furuta", seed: 11, numEnvs: 7, config, blockSize: 2 };
  const local = await LocalVecEnv.create(opts);
  assert.equal(local.worlds, 4);
  const ref = await rollout(local, 120, 5);
  await local.close();
  for (const workers of [1, 2, 3]) {
    const pool = await WorkerVecEnv.create({ ...opts, workers });
    const got = await rollout(pool, 120, 5);
    await pool.close();
    assert.ok(ref.episodes.length >= 7, "episodes ended and reset during the run");
    assert.deepEqual(got.episodes, ref.episodes, `episodes with ${workers} workers`);
    assert.deepEqual(got.reward, ref.reward, `rewards with ${workers} workers`);
    assert.deepEqual(got.obs, ref.obs, `observations with ${workers} workers`);
  }
});

test("a robot's trajectory does not depend on its world-mates (scalar Rapier): block sizes 1, 3 and 16 agree bit for bit", async () => {
  // Not needed for worker invariance (blocks are fixed by env index), but it means the block
  // size is a pure speed setting. A SIMD build of Rapier may break this one: then keep blocks fixed.
  const config = { episodeSeconds: 0.3 };
  const results: Awaited<ReturnType<typeof rollout>>[] = [];
  for (const blockSize of [1, 3, 16]) {
    const env = await LocalVecEnv.create({ task: "furuta", seed: 4, numEnvs: 5, config, blockSize });
    results.push(await rollout(env, 70, 9));
    await env.close();
  }
  assert.deepEqual(results[1], results[0], "block size 3 vs 1");
  assert.deepEqual(results[2], results[0], "block size 16 vs 1");
});

test("vector env options are checked", async () => {
  await assert.rejects(LocalVecEnv.create({ task: "furuta", seed: 1, numEnvs: 2, blockSize: 0 }), /blockSize must be an integer >= 1, got 0/);
  await assert.rejects(WorkerVecEnv.create({ task: "furuta", seed: 1, numEnvs: 2, blockSize: 1.5, workers: 2 }), /blockSize must be an integer >= 1, got 1\.5/);
  await assert.rejects(LocalVecEnv.create({ task: "furuta", seed: 1, numEnvs: 2, config: { physicsSubstep: 0.01 } }), /physicsSubstep 0\.01 must not exceed physicsDt 0\.005/);
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
  // Visual targets change what a camera sees, not the observations (test/sim/render/ checks them).
  for (const e of cfg.randomization.filter((x) => !isVisualTarget(x.target))) {
    const i = setup.table.indexOf(e.target);
    const nom = setup.table.entries[i]!.nominal;
    const high = e.high as number; // the default config writes plain numbers
    const v = e.mode === "scale" ? nom * high : high;
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

test("no WebAssembly memory growth over 10 000 resets of envs sharing a physics world", async () => {
  const env = await LocalVecEnv.create({ task: "furuta", seed: 8, numEnvs: 4, blockSize: 4 });
  const { numObs, numPrivileged } = env.spec;
  const obs = new Float32Array(4 * numObs), priv = new Float32Array(4 * numPrivileged);
  const act = new Float32Array(4).fill(0.3);
  env.resetSync();
  // Two envs are rebuilt with new parameters while their two world-mates are mid-episode.
  const cycle = (resets: number) => {
    for (let k = 0; k < resets; k += 2) {
      for (const i of [k % 4, (k + 1) % 4]) env.environments[i]!.reset(obs, i * numObs, priv, i * numPrivileged);
      env.stepSync(act);
    }
  };
  cycle(500);
  const before = wasmBytes();
  cycle(10000);
  const after = wasmBytes();
  await env.close();
  assert.equal(after - before, 0, `Rapier's WebAssembly memory grew by ${after - before} bytes over 10 000 resets in a shared world`);
});
