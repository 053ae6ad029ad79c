/**
 * `vision eval --randomized`: the exported perception network (vision.onnx,
 * checked against its manifest) on fresh randomized renders of the run's
 * task, drawn from a random-stream family that training and validation never
 * use, so the network has not seen these frames. Same result shape as the
 * recording mode.
 */
import { OnnxPerception } from "../../policies/runtime/onnx-perception.js";
import { FRAME_STREAMS, framePool, type VisionCheckpoint } from "../../policies/perception/vision-runner.js";
import { wrapAngle } from "../../sim/physics/math.js";
import { errorStats, type JointErrorStats } from "./vision-eval.js";

export interface RandomizedEvalResult {
  frames: number;
  seed: number;
  joints: Record<string, JointErrorStats>;
}

export interface RandomizedEvalOptions {
  frames: number;
  seed: number;
  /** Images per ONNX run. */
  batch?: number;
  onProgress?: (done: number) => void;
}

export async function evalVisionRandomized(onnx: string, manifest: string, run: Pick<VisionCheckpoint, "task" | "config">, o: RandomizedEvalOptions): Promise<RandomizedEvalResult> {
  if (!(Number.isInteger(o.frames) && o.frames >= 1)) throw new RangeError(`--frames must be an integer >= 1, got ${o.frames}`);
  const perception = OnnxPerception.load(onnx, manifest);
  const pool = await framePool(run.task, run.config, o.seed, FRAME_STREAMS.evaluation, 0);
  try {
    const names = run.config.network.joints, J = names.length;
    if (perception.bytesPerImage !== pool.sampleBytes) throw new Error(`${onnx}: takes ${perception.bytesPerImage} bytes per image but the run renders ${pool.sampleBytes} (the model is not this run's)`);
    const errors = names.map(() => new Float64Array(o.frames));
    const B = o.batch ?? 32;
    for (let done = 0; done < o.frames; ) {
      const rows = Math.min(B, o.frames - done);
      const batch = await pool.next(rows);
      const { angles } = perception.run(batch.images, rows);
      for (let r = 0; r < rows; r++) for (let j = 0; j < J; j++) errors[j]![done + r] = wrapAngle(angles[r * J + j]! - batch.angles[r * J + j]!);
      done += rows;
      o.onProgress?.(done);
    }
    return { frames: o.frames, seed: o.seed, joints: Object.fromEntries(names.map((n, j) => [n, errorStats(errors[j]!)])) };
  } finally {
    await pool.close();
    perception.dispose();
  }
}
