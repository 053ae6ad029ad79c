import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { canonicalJson, sha256Hex } from "../../common/hash.js";
import { Progress } from "../../common/progress.js";
import { linePlot, writeHtmlReport } from "../../common/report/index.js";
import { ConfigError } from "../../common/schema.js";
import { getTask } from "../../sim/tasks/registry.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { LabelledFramePool, type LabelledBatch } from "../../sim/render/labelled-frame-pool.js";
import { encodePng } from "../../sim/render/png.js";
import { wrapAngle } from "../../sim/physics/math.js";
import { channelsOf } from "./perception-config.js";
import { PerceptionNet } from "./perception-net.js";
import { validationGrid } from "./validation-grid.js";
import { parseVisionTrainConfig, type VisionTrainConfig } from "./vision-train-config.js";

/**
 * The `s2r vision train` loop: fresh randomized renders from the worker pool
 * every batch (the next batch renders while this one trains), Adam on the
 * (sin, cos) loss with a cosine learning-rate decay, a held-out validation
 * set from its own random stream, metrics.csv, report.html with the
 * validation grid, and atomic checkpoints (also on Ctrl-C) that --resume
 * continues.
 */

export const VISION_CHECKPOINT_FILE = "vision-checkpoint.json";

/** Random streams: training workers, validation and `vision eval --randomized` never share one. */
export const FRAME_STREAMS = { training: 0, validation: 1 << 20, evaluation: 2 << 20 } as const;

export interface VisionHistoryRow {
  frames: number;
  seconds: number;
  framesPerSec: number;
  learningRate: number;
  trainLoss: number;
  /** Per joint, on the validation set. */
  valRmseDeg: number[];
}

export interface VisionCheckpoint {
  schema: 1;
  kind: "s2r-vision-checkpoint";
  task: string;
  config: VisionTrainConfig;
  configHash: string;
  /** Resumed segments so far: each draws training frames from new random streams. */
  segment: number;
  frames: number;
  updates: number;
  wallSeconds: number;
  history: VisionHistoryRow[];
  network: object;
  optimizer: object;
  savedAt: string;
}

export interface VisionTrainOptions {
  taskName: string;
  config: VisionTrainConfig;
  outDir: string;
  resume?: VisionCheckpoint;
  signal?: AbortSignal;
  progress?: { stream: { write(t: string): unknown; columns?: number }; interactive: boolean };
  log?: (line: string) => void;
}

export interface VisionTrainResult {
  frames: number;
  updates: number;
  wallSeconds: number;
  valRmseDeg: Record<string, number>;
  framesPerSec: number;
  interrupted: boolean;
  checkpoint: string;
}

export function resolveVisionTrainConfig(taskName: string, partial: unknown, path = "config"): VisionTrainConfig {
  const config = parseVisionTrainConfig(partial, path);
  const task = getTask(taskName);
  // Binding the task's randomization to its tables checks every target (with near-name suggestions) before any worker starts.
  setupTask(task, task.configSchema.parse(config.task, `${path}.task`));
  if (config.network.joints.length === 0) throw new ConfigError(`${path}.network.joints`, "no joints to estimate");
  return config;
}

export function readVisionCheckpoint(dirOrFile: string): { file: string; checkpoint: VisionCheckpoint } {
  const file = existsSync(join(dirOrFile, VISION_CHECKPOINT_FILE)) ? join(dirOrFile, VISION_CHECKPOINT_FILE) : dirOrFile;
  let ck: VisionCheckpoint;
  try {
    ck = JSON.parse(readFileSync(file, "utf8")) as VisionCheckpoint;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === "EISDIR" ? `no ${VISION_CHECKPOINT_FILE} in this directory (is it a vision train run?)` : `cannot read (${code ?? (e as Error).message})`}`);
  }
  if (ck?.kind !== "s2r-vision-checkpoint") throw new ConfigError(`${file}: kind`, `expected "s2r-vision-checkpoint", got ${JSON.stringify(ck?.kind)}`);
  return { file, checkpoint: ck };
}

/** Labelled frames for a trained config from one random-stream family (validation, evaluation) in the calling thread. */
export async function framePool(taskName: string, config: VisionTrainConfig, seed: number, firstStream: number, workers: number): Promise<LabelledFramePool> {
  const n = config.network;
  return LabelledFramePool.create({
    task: taskName, taskConfig: config.task, workers, firstStream,
    frames: { width: n.inputWidth, height: n.inputHeight, encoding: n.encoding, framesStacked: n.framesStacked, joints: n.joints, maxSpeed: config.frames.maxSpeed, randomized: config.frames.randomized, camera: config.frames.camera, seed },
  });
}

/** Per-joint angle errors (rad, wrapped) of a network on a labelled batch; `predicted` receives the angles. */
export function batchErrors(net: PerceptionNet, batch: LabelledBatch, chunk = 64, predicted = new Float64Array(batch.angles.length)): Float64Array[] {
  const J = net.config.joints.length;
  const ctx = net.newContext({ maxRows: chunk });
  const errors = Array.from({ length: J }, () => new Float64Array(batch.rows));
  const bytes = net.inputBytesPerSample;
  for (let r0 = 0; r0 < batch.rows; r0 += chunk) {
    const rows = Math.min(chunk, batch.rows - r0);
    const out = net.forward(ctx, batch.images.subarray(r0 * bytes, (r0 + rows) * bytes), rows);
    const a = net.anglesOf(out.joints, rows);
    predicted.set(a, r0 * J);
    for (let r = 0; r < rows; r++) for (let j = 0; j < J; j++) errors[j]![r0 + r] = wrapAngle(a[r * J + j]! - batch.angles[(r0 + r) * J + j]!);
  }
  return errors;
}

/** A metrics.csv row; figures missing from a row read back from JSON (null) are written as NaN. */
const csvRow = (r: VisionHistoryRow) => {
  const f = (v: number | null, fmt: (x: number) => string) => (typeof v === "number" && Number.isFinite(v) ? fmt(v) : "NaN");
  return `${r.frames},${f(r.seconds, (x) => x.toFixed(1))},${f(r.framesPerSec, (x) => x.toFixed(1))},${f(r.learningRate, (x) => x.toExponential(3))},${f(r.trainLoss, (x) => x.toExponential(4))},${r.valRmseDeg.map((v) => f(v, (x) => x.toFixed(3))).join(",")}\n`;
};

const rmseDeg = (e: Float64Array) => Math.sqrt(e.reduce((s, x) => s + x * x, 0) / Math.max(1, e.length)) * (180 / Math.PI);

export async function trainVision(o: VisionTrainOptions): Promise<VisionTrainResult> {
  const { config, outDir, taskName } = o;
  const t = config.training;
  const log = o.log ?? (() => {});
  mkdirSync(outDir, { recursive: true });
  const configHash = sha256Hex(canonicalJson(config));
  writeFileAtomic(join(outDir, "config.json"), JSON.stringify({ taskName, config }, null, 2) + "\n");
  const net = PerceptionNet.create(config.network, { seed: t.seed });
  const adam = net.newAdam({ lr: t.learningRate });
  const state = { frames: 0, updates: 0, wallSeconds: 0, segment: 0, history: [] as VisionHistoryRow[] };
  if (o.resume) {
    if (JSON.stringify(o.resume.config.network) !== JSON.stringify(config.network)) throw new ConfigError("network", "the checkpoint's network differs from the config's");
    net.setState(o.resume.network, "checkpoint.network");
    adam.setState(o.resume.optimizer, "checkpoint.optimizer");
    Object.assign(state, { frames: o.resume.frames, updates: o.resume.updates, wallSeconds: o.resume.wallSeconds, segment: o.resume.segment + 1, history: [...o.resume.history] });
  }
  const metricsFile = join(outDir, "metrics.csv");
  // On resume the file is rewritten from the checkpoint's history: rows logged after the checkpoint belong to a lost segment.
  writeFileAtomic(metricsFile, `frames,seconds,frames_per_sec,learning_rate,train_loss,${config.network.joints.map((j) => `val_rmse_deg_${j}`).join(",")}\n${state.history.map(csvRow).join("")}`);

  const validation = await framePool(taskName, config, t.seed, FRAME_STREAMS.validation, 0);
  const valSet = await validation.next(t.validationFrames);
  await validation.close();
  const pool = await framePool(taskName, config, t.seed, FRAME_STREAMS.training + state.segment * 1024, t.workers);
  const ctx = net.newContext({ maxRows: t.batchSize, backward: true });
  const progress = o.progress ? new Progress({ total: t.totalFrames, label: "vision train", unit: "frames", ...o.progress }) : undefined;
  const started = performance.now();
  const secondsNow = () => state.wallSeconds + (performance.now() - started) / 1000;
  const predicted = new Float64Array(valSet.angles.length);
  let lastVal = state.history.at(-1)?.valRmseDeg ?? config.network.joints.map(() => NaN);
  let windowFrames = 0, windowStart = performance.now(), windowLoss = 0, windowSteps = 0, framesPerSec = 0;
  let nextVal = state.frames === 0 ? 0 : Math.ceil(state.frames / t.validateEvery) * t.validateEvery;
  let nextCheckpoint = state.frames + t.checkpointEvery;
  let interrupted = false;
  const checkpointFile = join(outDir, VISION_CHECKPOINT_FILE);

  const validate = () => {
    const errors = batchErrors(net, valSet, 64, predicted);
    lastVal = errors.map(rmseDeg);
    const now = performance.now();
    framesPerSec = windowFrames > 0 ? windowFrames / ((now - windowStart) / 1000) : framesPerSec;
    const row: VisionHistoryRow = { frames: state.frames, seconds: secondsNow(), framesPerSec, learningRate: adam.lr, trainLoss: windowSteps ? windowLoss / windowSteps : NaN, valRmseDeg: lastVal };
    state.history.push(row);
    appendFileSync(metricsFile, csvRow(row));
    windowFrames = 0; windowLoss = 0; windowSteps = 0; windowStart = now;
  };
  const save = () => {
    const ck: VisionCheckpoint = {
      schema: 1, kind: "s2r-vision-checkpoint", task: taskName, config, configHash, segment: state.segment,
      frames: state.frames, updates: state.updates, wallSeconds: secondsNow(), history: state.history,
      network: net.getState(), optimizer: adam.getState(), savedAt: new Date().toISOString(),
    };
    writeFileAtomic(checkpointFile, JSON.stringify(ck));
    writeVisionReport(outDir, taskName, config, state.history, valSet, predicted);
  };

  try {
    let pending = state.frames < t.totalFrames ? pool.next(Math.min(t.batchSize, t.totalFrames - state.frames)) : undefined;
    while (pending) {
      if (state.frames >= nextVal) {
        validate();
        nextVal += t.validateEvery;
      }
      // Let signals (Ctrl-C) and worker messages through between steps: the step itself is synchronous.
      await new Promise((r) => setImmediate(r));
      const batch = await pending;
      const after = state.frames + batch.rows;
      pending = after < t.totalFrames && !o.signal?.aborted ? pool.next(Math.min(t.batchSize, t.totalFrames - after)) : undefined;
      adam.lr = t.finalLearningRate + 0.5 * (t.learningRate - t.finalLearningRate) * (1 + Math.cos((Math.PI * state.frames) / t.totalFrames));
      const step = net.trainStep(ctx, adam, batch.images, batch.angles, batch.rows, t.maxGradNorm);
      if (!Number.isFinite(step.loss)) throw new Error(`vision train: the loss became ${step.loss} at ${state.frames} frames (lower training.learningRate)`);
      state.frames = after;
      state.updates++;
      windowFrames += batch.rows; windowLoss += step.loss; windowSteps++;
      progress?.update(state.frames, { "val rmse deg": lastVal.map((v) => v.toFixed(2)).join("/"), loss: step.loss.toExponential(2) });
      if (state.frames >= nextCheckpoint) {
        save();
        nextCheckpoint += t.checkpointEvery;
      }
      if (o.signal?.aborted) {
        interrupted = true;
        if (pending) await pending.catch(() => undefined);
        break;
      }
    }
    validate();
    save();
  } finally {
    progress?.done();
    await pool.close();
    net.dispose();
  }
  log(`vision train: ${state.frames} frames; validation RMSE ${config.network.joints.map((j, i) => `${j} ${lastVal[i]!.toFixed(2)} deg`).join(", ")}`);
  return {
    frames: state.frames, updates: state.updates, wallSeconds: secondsNow(), interrupted, checkpoint: checkpointFile,
    valRmseDeg: Object.fromEntries(config.network.joints.map((j, i) => [j, lastVal[i]!])),
    framesPerSec: state.history.at(-1)?.framesPerSec ?? 0,
  };
}

/** report.html: validation error per joint over training, the loss, and the validation grid (predicted red, true green). */
function writeVisionReport(outDir: string, taskName: string, config: VisionTrainConfig, h: VisionHistoryRow[], valSet: LabelledBatch, predicted: Float64Array): void {
  const n = config.network, J = n.joints.length;
  const x = h.map((r) => r.frames);
  const count = Math.min(32, valSet.rows);
  const grid = validationGrid(valSet.images, { width: n.inputWidth, height: n.inputHeight, channels: channelsOf(n.encoding) as 1 | 3, framesStacked: n.framesStacked }, valSet.angles, predicted, J, count);
  const png = encodePng(grid.pixels, grid.width, grid.height, 3);
  writeFileAtomic(join(outDir, "validation-grid.png"), png);
  const image = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width * 2}" height="${grid.height * 2}"><image width="${grid.width * 2}" height="${grid.height * 2}" style="image-rendering:pixelated" href="data:image/png;base64,${png.toString("base64")}"/></svg>`;
  const last = h.at(-1);
  writeHtmlReport(join(outDir, "report.html"), {
    title: `vision train ${taskName}`,
    sections: [
      {
        heading: "Validation error",
        text: `${valSet.rows} held-out randomized frames (own random stream). ${last ? `At ${last.frames} frames: ${n.joints.map((j, i) => `${j} ${last.valRmseDeg[i]!.toFixed(2)} deg RMSE`).join(", ")}; ${last.framesPerSec.toFixed(0)} frames/s.` : ""}`,
        plots: [
          linePlot({ title: "Validation RMSE per joint", xLabel: "frames trained", yLabel: "deg", series: n.joints.map((j, i) => ({ name: j, x, y: h.map((r) => r.valRmseDeg[i]!) })) }),
          linePlot({ title: "Training loss (sin/cos MSE)", xLabel: "frames trained", yLabel: "loss", series: [{ name: "loss", x, y: h.map((r) => r.trainLoss) }] }),
        ],
      },
      { heading: "Validation frames", text: `Newest frame of each sample; one dial per joint (${n.joints.join(", ")}): true angle green, estimate red. Also validation-grid.png.`, plots: [image] },
      { heading: "Config", text: JSON.stringify({ network: config.network, frames: config.frames, training: config.training }, null, 2) },
    ],
  });
}
