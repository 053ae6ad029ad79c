import { Worker } from "node:worker_threads";
import { currentBatchPriority } from "../../common/batch-priority.js";
import type { EnvSpec, EpisodeResult, StepBatch, VecEnv } from "./contract.js";
import { blockSizeOf, splitByBlocks, type VecEnvOptions } from "./local-vec-env.js";
import type { ParamSourceSpec } from "./param-source.js";

interface Slice {
  worker: Worker;
  first: number;
  count: number;
  pending?: { resolve: (m: any) => void; reject: (e: Error) => void };
  dead?: Error;
}

/**
 * N environments split into contiguous slices over worker threads, one Rapier
 * instance each. Env i gets the same random streams (derived from the seed
 * and i) whatever the number of workers, and each worker gets whole blocks of
 * envs (the physics worlds, fixed by global env index: see VecEnvOptions), so
 * every world steps the same robots through the same history: results do not
 * depend on the number of workers, bit for bit. There are at most as many
 * workers as blocks (e.g. 16 envs in blocks of 16 use one worker).
 */
export class WorkerVecEnv implements VecEnv {
  readonly numEnvs: number;
  private closed = false;

  private constructor(
    readonly spec: EnvSpec,
    private readonly slices: Slice[],
  ) {
    this.numEnvs = slices.reduce((n, s) => n + s.count, 0);
  }

  static async create(options: VecEnvOptions & { workers: number }): Promise<WorkerVecEnv> {
    const blockSize = blockSizeOf(options);
    if (!(Number.isInteger(options.numEnvs) && options.numEnvs >= 1)) throw new RangeError(`vector env: numEnvs must be an integer >= 1, got ${options.numEnvs}`);
    const slices: Slice[] = [];
    for (const { first, count } of splitByBlocks(options.firstEnv ?? 0, options.numEnvs, blockSize, options.workers)) {
      // The worker lowers its own thread to this process's batch priority (common/batch-priority.ts).
      const worker = new Worker(new URL("./vec-env-worker.js", import.meta.url), { workerData: { priority: currentBatchPriority() } });
      const slice: Slice = { worker, first, count };
      worker.on("message", (m: any) => {
        const p = slice.pending;
        slice.pending = undefined;
        if (!p) return;
        if (m.type === "error") {
          const e = new Error(`worker for envs ${slice.first}..${slice.first + slice.count - 1}: ${m.message}`);
          e.stack = m.stack;
          p.reject(e);
        } else p.resolve(m);
      });
      const fail = (e: Error) => {
        slice.dead = e;
        slice.pending?.reject(e);
        slice.pending = undefined;
      };
      worker.on("error", (e) => fail(new Error(`worker for envs ${slice.first}..${slice.first + slice.count - 1} crashed: ${e.message}`)));
      worker.on("exit", (code) => {
        if (code !== 0) fail(new Error(`worker for envs ${slice.first}..${slice.first + slice.count - 1} exited with code ${code}`));
        else slice.dead ??= new Error("worker exited");
      });
      slices.push(slice);
    }
    const env = new WorkerVecEnv(undefined as unknown as EnvSpec, slices);
    try {
      const ready = await Promise.all(slices.map((s) => env.request(s, { type: "init", options: { ...options, numEnvs: s.count, firstEnv: s.first } })));
      (env as { spec: EnvSpec }).spec = ready[0].spec;
    } catch (e) {
      await env.close();
      throw e;
    }
    return env;
  }

  async reset(): Promise<{ obs: Float32Array; privileged: Float32Array }> {
    const parts = await Promise.all(this.slices.map((s) => this.request(s, { type: "reset" })));
    return { obs: concat(parts.map((p) => p.obs)), privileged: concat(parts.map((p) => p.privileged)) };
  }

  /** Changes where every env draws its next episodes' parameters (e.g. ADR's current ranges). */
  async setParamSource(src: ParamSourceSpec): Promise<void> {
    await Promise.all(this.slices.map((s) => this.request(s, { type: "params", params: src })));
  }

  async step(actions: Float32Array): Promise<StepBatch> {
    const nA = this.spec.numActions;
    if (actions.length !== this.numEnvs * nA) throw new RangeError(`step: expected ${this.numEnvs * nA} actions, got ${actions.length}`);
    let offset = 0;
    const parts = await Promise.all(
      this.slices.map((s) => {
        const a = actions.slice(offset, offset + s.count * nA);
        offset += s.count * nA;
        return this.request(s, { type: "step", actions: a }, [a.buffer as ArrayBuffer]);
      }),
    );
    const b = parts.map((p) => p.batch as StepBatch);
    return {
      obs: concat(b.map((x) => x.obs)),
      privileged: concat(b.map((x) => x.privileged)),
      reward: concat(b.map((x) => x.reward)),
      terminated: concatU8(b.map((x) => x.terminated)),
      truncated: concatU8(b.map((x) => x.truncated)),
      finalObs: concat(b.map((x) => x.finalObs)),
      finalPrivileged: concat(b.map((x) => x.finalPrivileged)),
      episodes: ([] as EpisodeResult[]).concat(...b.map((x) => x.episodes)),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slices.map(async (s) => {
        if (!s.dead) {
          try {
            await Promise.race([this.request(s, { type: "close" }), new Promise((r) => setTimeout(r, 2000))]);
          } catch {
            /* closing anyway */
          }
        }
        await s.worker.terminate();
      }),
    );
  }

  private request(s: Slice, msg: unknown, transfer: ArrayBuffer[] = []): Promise<any> {
    if (s.dead) return Promise.reject(s.dead);
    if (s.pending) return Promise.reject(new Error("vector env: overlapping requests to one worker"));
    return new Promise((resolve, reject) => {
      s.pending = { resolve, reject };
      s.worker.postMessage(msg, transfer);
    });
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatU8(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
