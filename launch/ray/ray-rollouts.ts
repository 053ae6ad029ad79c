import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Rng } from "../../common/rng.js";
import { encodeFrame, FrameReader, type Frame } from "../../common/frames.js";
import type { RolloutEpisode } from "../../policies/rollout-collector.js";
import type { RolloutSource, RolloutSourceFactory } from "../../policies/rollout-source.js";
import { packWeights } from "../../policies/weights-packet.js";
import { DEFAULT_BLOCK_SIZE, splitByBlocks } from "../../sim/env/local-vec-env.js";
import { PACKAGE_ROOT, rayEnv, requireRay } from "./paths.js";
import { scatterSlice } from "./trajectory.js";

export interface RayRolloutOptions {
  /** Ray cluster address (e.g. 10.0.0.5:6379, or "auto" for the cluster `ray start` made on this machine); absent: a local Ray instance. */
  address?: string;
  /** Rollout workers (Ray actors, one CPU each); the run's envs are split between them in whole physics blocks. */
  workers: number;
  /** File for the driver's and Ray's messages (the run directory's ray.log). */
  logFile: string;
  /** Actor restarts allowed per worker (Ray's max_restarts). */
  maxRestarts?: number;
  /** Give up when the cluster has not placed every worker within this (default 300 s: Ray starts slowly on a loaded machine). */
  startTimeoutMs?: number;
}

/** What the last rollout moved and how long it took, as the learner sees it. */
export interface TransferStats {
  weightBytes: number;
  trajectoryBytes: number;
  /** Learner: send weights, wait for every worker's trajectories, scatter them. */
  roundTripMs: number;
  /** The slowest worker's own time (load weights + step its envs). */
  workerMs: number;
  /** CPU time of every worker's process, summed (how much the rollout cost, whatever the cores' load). */
  workerCpuMs: number;
  /** Driver's view: ray.put of the weights through ray.get of every result. */
  driverMs: number;
  restarts: number;
}

/**
 * Rollouts on a Ray cluster: spawns the Python driver (s2r_ray.driver) as a
 * child, which starts one Ray actor per worker, each owning one Node rollout
 * worker (launch/ray/rollout-worker.ts). Per rollout the learner sends its
 * weights and action-stream state once; Ray's object store carries them to the
 * actors and their trajectories back. Ray restarts a worker that dies and
 * retries its rollout; the driver reports it and training goes on.
 */
export class RayRollouts implements RolloutSource {
  last?: TransferStats;
  private readonly reader = new FrameReader();
  private waiting?: { resolve: (f: Frame) => void; reject: (e: Error) => void };
  private exited?: Error;
  private pids: number[] = [];

  private constructor(
    private readonly proc: ChildProcess,
    private readonly slices: { first: number; count: number }[],
    private readonly model: import("../../policies/actor-critic.js").ActorCritic,
    private readonly log: (line: string) => void,
  ) {
    proc.stdout!.on("data", (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(chunk)) this.deliver(f);
      } catch (e) {
        this.fail(e as Error);
      }
    });
    proc.on("exit", (code, sig) => this.fail(new Error(`the Ray driver exited (${sig ?? `code ${code}`}); see its log`)));
    proc.on("error", (e) => this.fail(new Error(`the Ray driver could not run: ${e.message}`)));
    proc.stdin!.on("error", (e) => this.fail(new Error(`the Ray driver stopped reading: ${e.message}`)));
  }

  static factory(o: RayRolloutOptions): RolloutSourceFactory {
    return async (ctx) => {
      const python = requireRay();
      const N = ctx.config.run.numEnvs;
      const slices = splitByBlocks(0, N, DEFAULT_BLOCK_SIZE, o.workers);
      if (slices.length < o.workers) ctx.log(`ray: ${N} envs make ${slices.length} physics blocks of ${DEFAULT_BLOCK_SIZE}: using ${slices.length} workers, not ${o.workers}`);
      const logFd = openSync(o.logFile, "a");
      // Its own process group: Ctrl-C reaches the learner, which saves a checkpoint and then closes the driver.
      const proc = spawn(python, ["-m", "s2r_ray.driver"], { stdio: ["pipe", "pipe", logFd], env: rayEnv(), detached: true });
      closeSync(logFd);
      const r = new RayRollouts(proc, slices, ctx.model, ctx.log);
      try {
        const timeoutMs = o.startTimeoutMs ?? 300_000;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`ray: the cluster at ${o.address ?? "(local instance)"} did not place ${slices.length} rollout workers (one CPU each) within ${timeoutMs / 1000} s; see ${o.logFile}`)), timeoutMs);
        });
        const placing = r.request(
          {
            op: "init",
            address: o.address ?? null,
            maxRestarts: o.maxRestarts ?? 10,
            // --run names the run on every worker's command line (ps shows whose worker it is).
            workerCommand: [process.execPath, join(PACKAGE_ROOT, "dist", "launch", "ray", "rollout-worker.js"), "--run", dirname(o.logFile)],
            workers: slices.map((s) => ({ task: ctx.taskName, config: ctx.config, envSeed: ctx.envSeed, slice: { ...s, total: N } })),
          },
          [],
        );
        const ready = await Promise.race([placing, timeout]).finally(() => clearTimeout(timer));
        const nodes = ready.header.workers as { node: string; host: string; pid: number }[];
        r.pids = nodes.map((w) => w.pid);
        ctx.log(`ray: ${slices.length} rollout workers on ${new Set(nodes.map((w) => w.node)).size} node(s) of ${ready.header.address}: ` + nodes.map((w, i) => `envs ${slices[i]!.first}..${slices[i]!.first + slices[i]!.count - 1} on ${w.host} (${w.node.slice(0, 8)})`).join(", "));
      } catch (e) {
        await r.close();
        throw e;
      }
      return r;
    };
  }

  async collect(storage: import("../../policies/rollout-storage.js").RolloutStorage, rng: Rng, lastValues: Float32Array, signal?: AbortSignal) {
    if (signal?.aborted) return { episodes: [], interrupted: true };
    const t0 = performance.now();
    const w = packWeights(this.model);
    const reply = await this.request({ op: "rollout", rng: rng.getState(), normCount: w.normCount }, [w.params, w.norm]);
    const parts = reply.header.parts as { rng: number[]; episodes: RolloutEpisode[]; computeMs: number; cpuMs: number; pid: number }[];
    const per = reply.buffers.length / this.slices.length;
    let trajectoryBytes = 0, restarts = 0;
    const episodes: RolloutEpisode[] = [];
    parts.forEach((p, i) => {
      const s = this.slices[i]!;
      const bufs = reply.buffers.slice(i * per, (i + 1) * per);
      trajectoryBytes += bufs.reduce((n, b) => n + b.byteLength, 0);
      scatterSlice(storage, lastValues, s.first, s.count, bufs);
      episodes.push(...p.episodes);
      if (p.rng.some((x, k) => !Object.is(x, parts[0]!.rng[k]))) throw new Error(`ray: worker ${i} ended on another action-stream state than worker 0 (mismatched slices?)`);
      if (this.pids[i] !== p.pid) {
        restarts++;
        this.log(`ray: rollout worker ${i} (envs ${s.first}..${s.first + s.count - 1}) was restarted by Ray (process ${this.pids[i]} -> ${p.pid}); its rollout was redone`);
        this.pids[i] = p.pid;
      }
    });
    rng.setState(parts[0]!.rng);
    storage.step = storage.shape.T;
    // Local rollouts report episodes step by step, in env order within a step.
    episodes.sort((a, b) => a.step - b.step || a.env - b.env);
    this.last = {
      weightBytes: w.params.byteLength + w.norm.byteLength,
      trajectoryBytes,
      roundTripMs: performance.now() - t0,
      workerMs: Math.max(...parts.map((p) => p.computeMs)),
      workerCpuMs: parts.reduce((n, p) => n + p.cpuMs, 0),
      driverMs: Number(reply.header.driverMs),
      restarts,
    };
    return { episodes, interrupted: false };
  }

  async close(): Promise<void> {
    if (!this.exited && this.proc.exitCode === null) {
      const gone = new Promise<void>((r) => this.proc.once("exit", () => r()));
      this.proc.stdin!.end(encodeFrame({ op: "close" }));
      const t = setTimeout(() => this.proc.kill("SIGTERM"), 20_000);
      await gone;
      clearTimeout(t);
    }
  }

  private request(header: Record<string, unknown>, buffers: ArrayBufferView[]): Promise<Frame> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.proc.stdin!.write(encodeFrame(header, buffers));
    });
  }

  private deliver(f: Frame): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (f.header.op === "error") w?.reject(new Error(`ray: ${String(f.header.message)}`));
    else w?.resolve(f);
  }

  private fail(e: Error): void {
    this.exited ??= e;
    this.waiting?.reject(e);
    this.waiting = undefined;
  }
}
