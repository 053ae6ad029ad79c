import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { deepMerge } from "../../common/schema.js";
import { applyBatchPriorityOption, BATCH_PRIORITY_OPTION } from "../batch-priority-option.js";

export const command: Command = {
  spec: {
    name: "vision train",
    summary: "",
    positionals: "<task>",
    options: {
      config: { kind: "string", description: "config (JSON: {task, network, frames, training}); absent fields take defaults", value: "FILE" },
      out: { kind: "string", description: "run directory (default runs/vision-<task>-<date>)", value: "DIR" },
      frames: { kind: "integer", description: "images to train on (overrides training.totalFrames)", value: "N" },
      workers: { kind: "integer", description: "render worker threads (overrides training.workers; 0 = the training thread)", value: "N" },
      seed: { kind: "integer", description: "random seed (overrides training.seed)", value: "N" },
      resume: { kind: "string", description: "continue the run in DIR from its checkpoint (fresh frames from new random streams)", value: "DIR" },
      quiet: { kind: "boolean", description: "no progress bar" },
      ...BATCH_PRIORITY_OPTION,
    },
    details: `Trains the perception network to map camera frames (by default the last two, so
velocity is observable) to each joint's sin and cos, on images rendered on worker
threads during training with the task's visual randomization: every batch is new.
Writes DIR/vision-checkpoint.json (atomically; Ctrl-C saves one), DIR/metrics.csv,
DIR/report.html (validation error per joint, the validation frames with estimate
and truth drawn) and DIR/config.json. Then \`s2r export DIR\` writes vision.onnx.`,
  },
  async run(args, io) {
    const { readJsonFile } = await import("../../common/json-file.js");
    const { readVisionCheckpoint, resolveVisionTrainConfig, trainVision } = await import("../../policies/perception/vision-runner.js");
    const any = { defaultValue: undefined, parse: (v: unknown) => v };
    let taskName = args.positionals[0];
    let partial: Record<string, unknown> = {};
    let resume;
    let outDir = args.options.out as string | undefined;
    if (args.options.resume) {
      const { checkpoint } = readVisionCheckpoint(args.options.resume as string);
      if (taskName && taskName !== checkpoint.task) throw new UsageError(`s2r vision train: --resume ${args.options.resume} is a ${checkpoint.task} run, not ${taskName}`);
      taskName = checkpoint.task;
      partial = checkpoint.config as unknown as Record<string, unknown>;
      resume = checkpoint;
      outDir ??= args.options.resume as string;
    }
    if (!taskName) throw new UsageError("s2r vision train: name a task (e.g. furuta)");
    if (args.options.config) partial = deepMerge(partial, readJsonFile(args.options.config as string, any));
    const training: Record<string, unknown> = { ...((partial.training as object) ?? {}) };
    if (args.options.frames !== undefined) training.totalFrames = args.options.frames;
    if (args.options.workers !== undefined) training.workers = args.options.workers;
    if (args.options.seed !== undefined) training.seed = args.options.seed;
    partial = { ...partial, training };
    const config = resolveVisionTrainConfig(taskName, partial, (args.options.config as string | undefined) ?? "config");
    outDir ??= join("runs", `vision-${taskName}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    if (!resume && existsSync(join(outDir, "vision-checkpoint.json"))) throw new UsageError(`s2r vision train: ${outDir} already holds a run; use --resume ${outDir} or another --out`);
    const priority = applyBatchPriorityOption("vision train", args, io);
    const n = config.network;
    io.err(`s2r vision train ${taskName}: ${n.inputWidth}x${n.inputHeight} ${n.encoding} x ${n.framesStacked} frame(s) -> ${n.joints.join(", ")}; ${config.training.totalFrames} frames, batch ${config.training.batchSize}, ${config.training.workers} render worker(s) -> ${outDir}; scheduling ${priority.applied}\n`);
    const result = await trainVision({
      taskName, config, outDir, resume, signal: io.signal,
      progress: args.options.quiet ? undefined : { stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive },
      log: (l) => io.err(l + "\n"),
    });
    io.err(`${result.interrupted ? "interrupted; " : ""}${result.frames} frames, ${result.updates} updates in ${result.wallSeconds.toFixed(0)} s (${result.framesPerSec.toFixed(0)} frames/s)\ncheckpoint: ${result.checkpoint}\nreport: ${join(outDir, "report.html")}\n`);
    return result.interrupted ? 130 : 0;
  },
};
