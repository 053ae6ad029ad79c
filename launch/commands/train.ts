import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { deepMerge } from "../../common/schema.js";
import { applyBatchPriorityOption, BATCH_PRIORITY_OPTION } from "../batch-priority-option.js";

export const command: Command = {
  spec: {
    name: "train",
    summary: "",
    positionals: "<task>",
    options: {
      config: { kind: "string", description: "training config (JSON: {task, policy, ppo, run}); absent fields take defaults", value: "FILE" },
      out: { kind: "string", description: "run directory (default runs/<task>-<date>)", value: "DIR" },
      seed: { kind: "integer", description: "random seed (overrides run.seed)", value: "N" },
      steps: { kind: "integer", description: "total environment steps (overrides run.totalSteps)", value: "N" },
      workers: { kind: "integer", description: "worker threads for the environments (overrides run.workers; 0 = main thread)", value: "N" },
      envs: { kind: "integer", description: "parallel environments (overrides run.numEnvs)", value: "N" },
      resume: { kind: "string", description: "continue the run in DIR from its checkpoint", value: "DIR" },
      params: { kind: "string", description: "identified parameters (s2r sysid fit): re-centre the randomization on them", value: "params.json" },
      quiet: { kind: "boolean", description: "no progress bar" },
      ...BATCH_PRIORITY_OPTION,
      ray: { kind: "string", implicit: "local", description: "step the environments on a Ray cluster (ADDRESS as given by `ray start --head`, \"auto\" for the one this machine joined, bare --ray: a local Ray instance); needs scripts/install-ray.sh", value: "ADDRESS" },
      "ray-workers": { kind: "integer", description: "rollout workers on Ray (one CPU each; the envs are split between them in blocks of 16)", default: 2, value: "N" },
    },
    details:
      "Writes DIR/checkpoint.json (atomically), DIR/metrics.csv, DIR/report.html and DIR/config.json. Ctrl-C saves a checkpoint; --resume DIR continues it. " +
      "Every run.evalEvery updates the deterministic policy is evaluated on run.evalEpisodes fixed randomized episodes; the best is kept as DIR/best-checkpoint.json, which eval, export and deploy use. " +
      "The config's adr section turns on automatic domain randomization.",
  },
  async run(args, io) {
    const { readJsonFile } = await import("../../common/json-file.js");
    const { readCheckpoint } = await import("../../policies/checkpoint.js");
    const { resolveTrainConfig, train } = await import("../../policies/runner.js");
    const any = { defaultValue: undefined, parse: (v: unknown) => v };
    let taskName = args.positionals[0];
    let partial: Record<string, unknown> = {};
    let resume;
    let outDir = args.options.out as string | undefined;
    if (args.options.resume) {
      const { checkpoint } = readCheckpoint(args.options.resume as string);
      if (taskName && taskName !== checkpoint.task) throw new UsageError(`s2r train: --resume ${args.options.resume} is a ${checkpoint.task} run, not ${taskName}`);
      taskName = checkpoint.task;
      partial = checkpoint.config as Record<string, unknown>;
      resume = checkpoint;
      outDir ??= args.options.resume as string;
    }
    if (!taskName) throw new UsageError("s2r train: name a task (e.g. furuta); see s2r sim params --help for the tasks");
    if (args.options.config) partial = deepMerge(partial, readJsonFile(args.options.config as string, any));
    const run: Record<string, unknown> = { ...((partial.run as object) ?? {}) };
    if (args.options.seed !== undefined) run.seed = args.options.seed;
    if (args.options.steps !== undefined) run.totalSteps = args.options.steps;
    if (args.options.workers !== undefined) run.workers = args.options.workers;
    if (args.options.envs !== undefined) run.numEnvs = args.options.envs;
    partial = { ...partial, run };
    if (args.options.params) {
      const { recenterFromParamsFile } = await import("../../calibration/recenter.js");
      partial = recenterFromParamsFile(taskName, partial, args.options.params as string);
    }
    const config = resolveTrainConfig(taskName, partial, (args.options.config as string | undefined) ?? undefined);
    outDir ??= join("runs", `${taskName}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    if (!resume && existsSync(join(outDir, "checkpoint.json"))) throw new UsageError(`s2r train: ${outDir} already holds a run; use --resume ${outDir} or another --out`);
    // Before the workers start: they lower themselves to the same level.
    const priority = applyBatchPriorityOption("train", args, io);
    io.err(`s2r train ${taskName}: ${config.policy.arch}${config.policy.osi === "up" ? " + OSI" : ""}, ${config.run.numEnvs} envs on ${args.options.ray !== undefined ? `${args.options["ray-workers"]} Ray` : config.run.workers} workers, ${config.run.totalSteps} steps -> ${outDir}; scheduling ${priority.applied}\n`);
    let rollouts;
    if (args.options.ray !== undefined) {
      const workers = args.options["ray-workers"] as number;
      if (!(workers >= 1)) throw new UsageError(`s2r train: --ray-workers must be >= 1, got ${workers}`);
      // Only a --ray run loads the Ray code (and needs Python).
      const { RayRollouts } = await import("../ray/ray-rollouts.js");
      const address = args.options.ray === "local" ? undefined : (args.options.ray as string);
      const { mkdirSync } = await import("node:fs");
      mkdirSync(outDir, { recursive: true });
      rollouts = RayRollouts.factory({ address, workers, logFile: join(outDir, "ray.log") });
      io.err(`s2r train: rollouts on Ray (${address ?? "a local instance"}); Ray's messages go to ${join(outDir, "ray.log")}\n`);
    }
    const result = await train({
      rollouts,
      taskName,
      config,
      outDir,
      resume,
      signal: io.signal,
      progress: args.options.quiet ? undefined : { stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive },
      log: (l) => io.err(l + "\n"),
    });
    io.err(
      `${result.interrupted ? "interrupted; " : ""}${result.updates} updates, ${result.steps} steps in ${result.wallSeconds.toFixed(0)} s; success rate ${(result.successRate * 100).toFixed(1)} %, mean return ${result.meanReturn.toFixed(2)}\n` +
        `checkpoint: ${result.checkpoint}\nreport: ${join(outDir, "report.html")}\n`,
    );
    return result.interrupted ? 130 : 0;
  },
};
