import { Worker } from "node:worker_threads";
import { currentBatchPriority } from "../../common/batch-priority.js";
import { setupTask } from "../env/sim-env.js";
import { getTask } from "../tasks/registry.js";
import { LabelledFrames, type LabelledFramesOptions } from "./labelled-frames.js";

export interface LabelledBatch {
  rows: number;
  /** rows x sampleBytes (frames stacked, interleaved per pixel). */
  images: Uint8Array;
  /** rows x joints, rad. */
  angles: Float64Array;
}

export interface LabelledFramePoolOptions {
  task: string;
  /** The task's config as given (partial; the worker applies the task's defaults). */
  taskConfig: unknown;
  frames: Omit<LabelledFramesOptions, "stream">;
  /** Worker threads rendering (0: render in the calling thread). */
  workers: number;
  /** First random stream: worker w draws from stream firstStream + w. */
  firstStream: number;
}

interface Slot {
  worker: Worker;
  pending?: { resolve: (m: any) => void; reject: (e: Error) => void };
  dead?: Error;
}

/**
 * Labelled frames rendered on worker threads while the caller trains: a
 * batch is split between the workers, each rendering its share from its own
 * random stream (fresh looks and poses every call, never a fixed dataset).
 * With 0 workers it renders in the calling thread (tests, validation sets).
 */
export class LabelledFramePool {
  private constructor(
    readonly sampleBytes: number,
    readonly joints: number,
    private readonly slots: Slot[],
    private readonly local: LabelledFrames | undefined,
  ) {}

  static async create(o: LabelledFramePoolOptions): Promise<LabelledFramePool> {
    if (!(Number.isInteger(o.workers) && o.workers >= 0)) throw new RangeError(`labelled frame pool: workers must be an integer >= 0, got ${o.workers}`);
    const J = o.frames.joints.length;
    if (o.workers === 0) {
      const task = getTask(o.task);
      const local = new LabelledFrames(setupTask(task, task.configSchema.parse(o.taskConfig, "task")), { ...o.frames, stream: o.firstStream });
      return new LabelledFramePool(local.sampleBytes, J, [], local);
    }
    const slots: Slot[] = [];
    for (let w = 0; w < o.workers; w++) {
      const worker = new Worker(new URL("./labelled-frames-worker.js", import.meta.url), { workerData: { priority: currentBatchPriority() } });
      const slot: Slot = { worker };
      worker.on("message", (m: any) => {
        const p = slot.pending;
        slot.pending = undefined;
        if (!p) return;
        if (m.type === "error") p.reject(Object.assign(new Error(`render worker ${w}: ${m.message}`), { stack: m.stack }));
        else p.resolve(m);
      });
      const fail = (e: Error) => {
        slot.dead = e;
        slot.pending?.reject(e);
        slot.pending = undefined;
      };
      worker.on("error", (e) => fail(new Error(`render worker ${w} crashed: ${e.message}`)));
      worker.on("exit", (code) => (code !== 0 ? fail(new Error(`render worker ${w} exited with code ${code}`)) : (slot.dead ??= new Error("render worker exited"))));
      slots.push(slot);
    }
    const pool = new LabelledFramePool(0, J, slots, undefined);
    try {
      const ready = await Promise.all(slots.map((s, w) => pool.request(s, { type: "init", task: o.task, taskConfig: o.taskConfig, options: { ...o.frames, stream: o.firstStream + w } })));
      (pool as { sampleBytes: number }).sampleBytes = ready[0].sampleBytes;
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** A batch of `rows` fresh labelled samples. */
  async next(rows: number): Promise<LabelledBatch> {
    const images = new Uint8Array(rows * this.sampleBytes), angles = new Float64Array(rows * this.joints);
    if (this.local) {
      this.local.fill(images, angles, rows);
      return { rows, images, angles };
    }
    const n = this.slots.length;
    const shares = this.slots.map((_, w) => Math.floor(rows / n) + (w < rows % n ? 1 : 0));
    const parts = await Promise.all(this.slots.map((s, w) => (shares[w]! > 0 ? this.request(s, { type: "batch", rows: shares[w] }) : Promise.resolve(undefined))));
    let r = 0;
    parts.forEach((p, w) => {
      if (!p) return;
      images.set(p.images, r * this.sampleBytes);
      angles.set(p.angles, r * this.joints);
      r += shares[w]!;
    });
    return { rows, images, angles };
  }

  async close(): Promise<void> {
    this.local?.dispose();
    await Promise.all(this.slots.map(async (s) => {
      if (!s.dead) await this.request(s, { type: "close" }).catch(() => undefined);
      await s.worker.terminate();
    }));
  }

  private request(slot: Slot, msg: object): Promise<any> {
    if (slot.dead) return Promise.reject(slot.dead);
    if (slot.pending) return Promise.reject(new Error("labelled frame pool: a request is already pending on this worker"));
    return new Promise((resolve, reject) => {
      slot.pending = { resolve, reject };
      slot.worker.postMessage(msg);
    });
  }
}
