import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../common/rng.js";
import { LocalRayCluster } from "../launch/ray/local-cluster.js";
import { RayRollouts, type TransferStats } from "../launch/ray/ray-rollouts.js";
import { ActorCritic } from "../policies/actor-critic.js";
import { createArena } from "../policies/nn/index.js";
import { Ppo } from "../policies/ppo.js";
import { localRollouts, type RolloutSourceFactory } from "../policies/rollout-source.js";
import { RolloutStorage } from "../policies/rollout-storage.js";
import { resolveTrainConfig } from "../policies/runner.js";
import { setupTask } from "../sim/env/sim-env.js";
import { getTask } from "../sim/tasks/registry.js";

interface Measured {
  /** Environment steps per second of rollout, as the learner waits for it. */
  rolloutStepsPerSecond: number;
  /** Seconds per training update: rollout + PPO update + normalizer, as the training loop runs it. */
  updateSeconds: number;
  transfer?: TransferStats[];
}

/**
 * Runs `updates` training updates of the default Furuta config with rollouts
 * from `source` (after one warm-up update, which also lets V8 optimize).
 */
async function measure(source: RolloutSourceFactory, updates: number, log: (l: string) => void): Promise<Measured> {
  const config = resolveTrainConfig("furuta", {});
  const spec = setupTask(getTask("furuta"), config.task).spec;
  const arena = createArena();
  const model = new ActorCritic(arena, spec, config.policy, config.run.seed);
  const { rolloutSteps: T } = config.ppo;
  const N = config.run.numEnvs;
  const storage = new RolloutStorage({ T, N, obs: spec.numObs, priv: spec.numPrivileged, act: spec.numActions, state: model.stateSize, chunkLength: config.ppo.chunkLength });
  const ppo = new Ppo(model, config.ppo, storage);
  const rng = Rng.derive(config.run.seed, 0x7a1);
  const rollouts = await source({ taskName: "furuta", config, model, envSeed: 1, log });
  const lastValues = new Float32Array(N);
  let rolloutMs = 0, totalMs = 0;
  const transfer: TransferStats[] = [];
  try {
    for (let u = 0; u <= updates; u++) {
      const t0 = performance.now();
      await rollouts.collect(storage, rng, lastValues);
      const t1 = performance.now();
      ppo.update(lastValues, rng);
      model.obsNorm.update(storage.obs, T * N);
      const t2 = performance.now();
      if (u === 0) continue;
      rolloutMs += t1 - t0;
      totalMs += t2 - t0;
      if (rollouts instanceof RayRollouts && rollouts.last) transfer.push(rollouts.last);
    }
  } finally {
    await rollouts.close();
    arena.dispose();
  }
  return { rolloutStepsPerSecond: (updates * T * N) / (rolloutMs / 1000), updateSeconds: totalMs / 1000 / updates, transfer: transfer.length ? transfer : undefined };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Several measurements of the same setting as one: rates from total steps over total time. */
function pool(ms: Measured[]): Measured {
  const rollSeconds = ms.reduce((n, m) => n + 1 / m.rolloutStepsPerSecond, 0);
  return {
    rolloutStepsPerSecond: ms.length / rollSeconds,
    updateSeconds: mean(ms.map((m) => m.updateSeconds)),
    transfer: ms.flatMap((m) => m.transfer ?? []),
  };
}

/**
 * Rollout throughput on Ray (1 and 2 workers on a local cluster of two
 * single-CPU nodes) against the local worker pool (run.workers threads) in the
 * same run, at the default Furuta config (64 envs x 128 steps, GRU + OSI), and
 * what each update pays for Ray: bytes of weights out and trajectories back,
 * and the milliseconds the learner waits beyond the slowest worker's own time.
 */
export async function benchRay(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const updates = 2;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-ray-"));
  o.log("bench ray: starting a Ray cluster of 2 nodes x 1 CPU");
  const cluster = await LocalRayCluster.start({ nodes: 2, cpus: 1 });
  // Rounds alternate the three settings, so both see the same load from the machine's other jobs.
  const rounds = o.quick ? 1 : 3;
  const locals: Measured[] = [], ones: Measured[] = [], twos: Measured[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      o.log(`bench ray: round ${r + 1}/${rounds}: the local worker pool, 1 Ray worker, 2 Ray workers`);
      locals.push(await measure(localRollouts, updates, o.log));
      ones.push(await measure(RayRollouts.factory({ address: cluster.address, workers: 1, logFile: join(dir, "ray1.log") }), updates, o.log));
      twos.push(await measure(RayRollouts.factory({ address: cluster.address, workers: 2, logFile: join(dir, "ray2.log") }), updates, o.log));
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const local = pool(locals), one = pool(ones), two = pool(twos);
  const t = two.transfer!;
  const stepsPerUpdate = 64 * 128;
  const perCpuSecond = (m: Measured) => stepsPerUpdate / (mean(m.transfer!.map((x) => x.workerCpuMs)) / 1000);
  const overheadMs = mean(t.map((x) => x.roundTripMs - x.workerMs));
  return {
    updates: updates * rounds,
    envs: 64,
    rolloutSteps: 128,
    localPoolStepsPerSecond: Math.round(local.rolloutStepsPerSecond),
    ray1StepsPerSecond: Math.round(one.rolloutStepsPerSecond),
    ray2StepsPerSecond: Math.round(two.rolloutStepsPerSecond),
    ray2OverRay1: +(two.rolloutStepsPerSecond / one.rolloutStepsPerSecond).toFixed(3),
    /** Steps per CPU-second of the workers' processes: equal for 1 and 2 workers when splitting costs nothing and only free cores limit the speed-up. */
    ray1StepsPerWorkerCpuSecond: Math.round(perCpuSecond(one)),
    ray2StepsPerWorkerCpuSecond: Math.round(perCpuSecond(two)),
    ray2OverLocalPool: +(two.rolloutStepsPerSecond / local.rolloutStepsPerSecond).toFixed(3),
    localUpdateSeconds: +local.updateSeconds.toFixed(3),
    ray2UpdateSeconds: +two.updateSeconds.toFixed(3),
    weightBytesPerUpdate: t[0]!.weightBytes,
    trajectoryBytesPerUpdate: t[0]!.trajectoryBytes,
    /** Learner's wait beyond the slowest worker's own work: weights out, trajectories back, Ray's scheduling, framing, scatter. */
    transferOverheadMsPerUpdate: +overheadMs.toFixed(1),
    transferOverheadFractionOfUpdate: +(overheadMs / 1000 / two.updateSeconds).toFixed(4),
    driverMsPerUpdate: +mean(t.map((x) => x.driverMs)).toFixed(1),
    workerMsPerUpdate: +mean(t.map((x) => x.workerMs)).toFixed(1),
  };
}
