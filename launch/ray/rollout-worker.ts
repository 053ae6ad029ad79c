/**
 * One rollout worker: a Node process owned by a Ray actor (s2r_ray/rollout_actor.py)
 * over stdio frames (common/frames.ts). It steps its slice of the run's
 * environments with the learner's latest weights, exactly as a local rollout
 * would, and sends the slice's trajectories back as raw buffers.
 *
 *   init    {task, config, envSeed, slice}          -> ready {numEnvs, pid}
 *   rollout {rng, normCount} [params f32, norm f64] -> rollout {rng, episodes, computeMs} [trajectory buffers]
 *   close                                           -> exits
 *
 * stdout carries frames only; everything else goes to stderr (the actor's log).
 */
import { Rng } from "../../common/rng.js";
import { encodeFrame, FrameReader, type Frame } from "../../common/frames.js";
import { ActorCritic } from "../../policies/actor-critic.js";
import { createArena } from "../../policies/nn/index.js";
import { RolloutCollector, type EnvSlice } from "../../policies/rollout-collector.js";
import { createLocalRolloutEnv } from "../../policies/rollout-source.js";
import { RolloutStorage } from "../../policies/rollout-storage.js";
import { resolveTrainConfig, type TrainConfig } from "../../policies/runner.js";
import { loadWeights } from "../../policies/weights-packet.js";
import type { VecEnv } from "../../sim/env/contract.js";
import { trajectoryBuffers } from "./trajectory.js";

console.log = console.info = (...a: unknown[]) => console.error(...a);

interface Worker {
  model: ActorCritic;
  env: VecEnv;
  collector: RolloutCollector;
  storage: RolloutStorage;
  lastValues: Float32Array;
  dispose(): Promise<void>;
}

let worker: Worker | undefined;
const rng = new Rng(0);

function send(header: Record<string, unknown>, buffers: ArrayBufferView[] = []): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(encodeFrame(header, buffers), (e) => (e ? reject(e) : resolve())));
}

async function init(h: Record<string, unknown>): Promise<Worker> {
  const task = String(h.task);
  const config: TrainConfig = resolveTrainConfig(task, h.config, "rollout worker init.config");
  const slice = h.slice as EnvSlice;
  if (slice.total !== config.run.numEnvs) throw new RangeError(`rollout worker: slice of a ${slice.total}-env run, the config has run.numEnvs ${config.run.numEnvs}`);
  const arena = createArena();
  const env = await createLocalRolloutEnv(task, config, Number(h.envSeed), slice, 0);
  const model = new ActorCritic(arena, env.spec, config.policy, config.run.seed);
  const storage = new RolloutStorage({ T: config.ppo.rolloutSteps, N: slice.count, obs: env.spec.numObs, priv: env.spec.numPrivileged, act: env.spec.numActions, state: model.stateSize, chunkLength: config.ppo.chunkLength });
  return {
    model,
    env,
    storage,
    collector: new RolloutCollector(model, env, slice, config.ppo.gamma),
    lastValues: new Float32Array(slice.count),
    dispose: async () => {
      await env.close();
      arena.dispose();
    },
  };
}

async function handle(f: Frame): Promise<void> {
  const h = f.header;
  switch (h.op) {
    case "init":
      worker = await init(h);
      await send({ op: "ready", numEnvs: worker.env.numEnvs, pid: process.pid });
      return;
    case "rollout": {
      if (!worker) throw new Error("rollout before init");
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      loadWeights(worker.model, { params: new Float32Array(f.buffers[0]!), norm: new Float64Array(f.buffers[1]!), normCount: Number(h.normCount) });
      rng.setState(h.rng as number[]);
      const r = await worker.collector.collect(worker.storage, rng, worker.lastValues);
      const computeMs = performance.now() - t0;
      const c = process.cpuUsage(c0);
      await send({ op: "rollout", rng: rng.getState(), episodes: r.episodes, computeMs, cpuMs: (c.user + c.system) / 1000, pid: process.pid }, [...trajectoryBuffers(worker.storage), worker.lastValues]);
      return;
    }
    case "close":
      await worker?.dispose();
      process.exit(0);
    default:
      throw new Error(`unknown op ${String(h.op)}`);
  }
}

const reader = new FrameReader();
let queue = Promise.resolve();
process.stdin.on("data", (chunk: Buffer) => {
  for (const f of reader.push(chunk)) {
    queue = queue.then(() => handle(f)).catch(async (e: Error) => {
      console.error(e.stack ?? e.message);
      await send({ op: "error", message: e.message }).catch(() => {});
      process.exit(1);
    });
  }
});
// The actor went away (or Ray killed it): nothing to finish.
process.stdin.on("end", () => process.exit(reader.pending ? 1 : 0));
