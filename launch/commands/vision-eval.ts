import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { Progress } from "../../common/progress.js";
import { ConfigError } from "../../common/schema.js";
import { evalVisionRecording, type VisionEvalResult } from "../../calibration/vision/vision-eval.js";
import { readCameraFile } from "../../sim/sensors/camera-file.js";
import { loadPerceptionEstimator } from "../vision/load-perception.js";

export const command: Command = {
  spec: {
    name: "vision eval",
    summary: "",
    positionals: "<model> [<recording.mcap>]",
    options: {
      "image-topic": { kind: "string", description: "Image topic (sensor_msgs/Image, CompressedImage, foxglove.RawImage); default: the only one", value: "TOPIC" },
      "joint-topic": { kind: "string", description: "sensor_msgs/JointState topic labelling the frames; default: the only one", value: "TOPIC" },
      camera: { kind: "string", description: "The recording's camera as a camera_calibration YAML (+ mount block); overrides its camera_info", value: "FILE" },
      json: { kind: "boolean", description: "Print the result as JSON" },
      randomized: { kind: "boolean", description: "Instead of a recording: fresh randomized renders of the model's training run (random streams training never used)" },
      frames: { kind: "integer", description: "with --randomized: frames to render", default: 1000, value: "N" },
      seed: { kind: "integer", description: "with --randomized: random seed", default: 1, value: "S" },
    },
    details: `Measures the perception network's angle error on a recording whose joint states
come from encoders (MCAP as rosbag2 or \`s2r record\` writes it): each frame is paired
with the joint states at its header stamp (linearly interpolated, angles unwrapped),
cropped and resized to the network's input, and the error per joint is wrapped to
+-180 deg. The recording's camera_info (or --camera) is compared with the model's
camera and every difference is reported. <model> is a run directory holding vision.onnx
and vision.json, or the .onnx file with its .json beside it.
With --randomized (no recording), the model is scored on --frames fresh renders of its
\`vision train\` run's task with the run's visual randomization (the run directory,
or the one named in vision.json's training.run, must hold vision-checkpoint.json).`,
  },
  async run(args, io) {
    const [model, recording, ...extra] = args.positionals;
    if (args.options.randomized) {
      if (!model || recording) throw new UsageError("s2r vision eval --randomized: needs a model and no recording (s2r vision eval runs/vision --randomized)");
      return runRandomized(model, args, io);
    }
    if (!model || !recording) throw new UsageError("s2r vision eval: needs a model and a recording (s2r vision eval runs/vision rec.mcap)");
    if (extra.length) throw new UsageError(`s2r vision eval: unexpected ${extra.join(" ")}`);
    let camera;
    try {
      camera = args.options.camera ? readCameraFile(args.options.camera as string).intrinsics : undefined;
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`s2r vision eval: --camera ${e.message}`);
      throw e;
    }
    let estimator;
    try {
      estimator = await loadPerceptionEstimator(model);
    } catch (e) {
      io.err(`s2r vision eval: ${(e as Error).message}\n`);
      return 1;
    }
    const progress = new Progress({ label: "vision eval", stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive, unit: "frames" });
    let result: VisionEvalResult;
    try {
      result = await evalVisionRecording(recording, estimator, {
        imageTopic: args.options["image-topic"] as string | undefined,
        jointTopic: args.options["joint-topic"] as string | undefined,
        camera,
        onProgress: (done) => progress.update(done),
      });
    } catch (e) {
      io.err(`s2r vision eval: ${(e as Error).message}\n`);
      return 1;
    } finally {
      progress.done();
      estimator.dispose?.();
    }
    io.out(args.options.json ? JSON.stringify(result, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n" : formatVisionEval(result));
    return 0;
  },
};

async function runRandomized(model: string, args: Parameters<Command["run"]>[0], io: Parameters<Command["run"]>[1]): Promise<number> {
  const { existsSync } = await import("node:fs");
  const { perceptionFiles } = await import("../vision/load-perception.js");
  const { readVisionManifest } = await import("../../policies/perception/vision-export.js");
  const { readVisionCheckpoint, VISION_CHECKPOINT_FILE } = await import("../../policies/perception/vision-runner.js");
  const { evalVisionRandomized } = await import("../../calibration/vision/vision-eval-randomized.js");
  const { join } = await import("node:path");
  const files = perceptionFiles(model);
  for (const f of [files.onnx, files.manifest]) if (!existsSync(f)) throw new UsageError(`s2r vision eval: ${f} not found (train with \`s2r vision train\`, then \`s2r export DIR\`)`);
  const runDir = existsSync(join(model, VISION_CHECKPOINT_FILE)) ? model : readVisionManifest(files.manifest).training.run;
  if (!existsSync(join(runDir, VISION_CHECKPOINT_FILE))) throw new UsageError(`s2r vision eval --randomized: no ${VISION_CHECKPOINT_FILE} in ${runDir} (the model's training run): its task and randomization are needed`);
  const { checkpoint } = readVisionCheckpoint(runDir);
  const frames = args.options.frames as number, seed = args.options.seed as number;
  const progress = new Progress({ total: frames, label: "vision eval", stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive, unit: "frames" });
  let result;
  try {
    result = await evalVisionRandomized(files.onnx, files.manifest, checkpoint, { frames, seed, onProgress: (d) => progress.update(d) });
  } catch (e) {
    io.err(`s2r vision eval: ${(e as Error).message}\n`);
    return 1;
  } finally {
    progress.done();
  }
  if (args.options.json) io.out(JSON.stringify(result, null, 2) + "\n");
  else {
    io.out(`${checkpoint.task}: ${result.frames} fresh randomized frames (seed ${result.seed})\n`);
    for (const [n, s] of Object.entries(result.joints)) io.out(`  ${n}: rmse ${s.rmseDeg.toFixed(2)} deg, p95 ${s.p95Deg.toFixed(2)} deg, max ${s.maxDeg.toFixed(2)} deg\n`);
  }
  return 0;
}

export function formatVisionEval(r: VisionEvalResult): string {
  const lines = [`${r.recording}: ${r.frames} frames on ${r.imageTopic} labelled by ${r.jointTopic}${r.unpaired ? ` (${r.unpaired} frames without joint states around them, not scored)` : ""}`];
  const rows = Object.entries(r.joints).map(([n, s]) => [n, s.rmseDeg, s.p95Deg, s.maxDeg, s.meanDeg].map((v) => (typeof v === "number" ? v.toFixed(2) : v)));
  rows.unshift(["joint", "rmse deg", "p95 deg", "max deg", "mean deg"]);
  const w = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((x) => x[i]!.length)));
  for (const row of rows) lines.push("  " + row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  "));
  const cam = r.camera;
  if (cam.differences.length === 0) lines.push(`camera: matches the model's (${cam.source}${cam.topic ? ` ${cam.topic}` : ""})`);
  else {
    lines.push(`camera (${cam.source}${cam.topic ? ` ${cam.topic}` : ""}) differs from the model's:`);
    for (const d of cam.differences) lines.push(`  ${d}`);
  }
  if (r.truncation) lines.push(`recording truncated: ${r.truncation}`);
  return lines.join("\n") + "\n";
}
