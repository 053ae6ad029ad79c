import { availableParallelism } from "node:os";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";

export const command: Command = {
  spec: {
    name: "sweep",
    summary: "",
    positionals: "<task>",
    options: {
      grid: { kind: "string", description: "grid file (JSON): config paths to lists of values, e.g. {\"ppo.learningRate\": [0.001, 0.0003], \"run.seed\": [1, 2]}; one trial per combination", value: "FILE" },
      seeds: { kind: "integer", description: "one trial per seed 1..N (the grid {\"run.seed\": [1..N]})", value: "N" },
      config: { kind: "string", description: "base training config (JSON) every trial starts from", value: "FILE" },
      steps: { kind: "integer", description: "total environment steps per trial (overrides run.totalSteps)", value: "N" },
      out: { kind: "string", description: "sweep directory (default runs/sweep-<task>-<date>)", value: "DIR" },
      parallel: { kind: "integer", description: "trials at a time without --ray (default: one per core)", value: "N" },
      ray: { kind: "string", implicit: "local", description: "run the trials on Ray Tune (ADDRESS of a cluster, \"auto\", or bare --ray: a local instance); needs scripts/install-ray.sh", value: "ADDRESS" },
      asha: { kind: "boolean", description: "with --ray: stop trailing trials early (ASHA over updates, on --metric)" },
      metric: { kind: "string", description: "metrics.csv column that ranks trials", default: "successRate", value: "NAME" },
      mode: { kind: "string", description: "max or min", default: "max", value: "max|min" },
    },
    details:
      "Each trial is one `s2r train` run in DIR/<trial>/run (its output in DIR/<trial>/train.log). Writes DIR/results.csv and DIR/report.html: one row per trial with its overrides, final and best success rate, return and time. Without --ray the trials run here, one per core, and no Python is needed. Trials train on the main thread (run.workers 0) unless the config says otherwise.",
  },
  async run(args, io) {
    const { readJsonFile } = await import("../../common/json-file.js");
    const { planTrials, parseGrid, seedsGrid } = await import("../sweep/plan.js");
    const { collectResults, writeResultsTable } = await import("../sweep/results-table.js");
    const { resolveTrainConfig } = await import("../../policies/runner.js");
    const any = { defaultValue: undefined, parse: (v: unknown) => v };
    const task = args.positionals[0];
    if (!task) throw new UsageError("s2r sweep: name a task (e.g. furuta)");
    const gridFile = args.options.grid as string | undefined;
    const seeds = args.options.seeds as number | undefined;
    if ((gridFile === undefined) === (seeds === undefined)) throw new UsageError("s2r sweep: give exactly one of --grid FILE or --seeds N");
    if (seeds !== undefined && !(seeds >= 1)) throw new UsageError(`s2r sweep: --seeds must be >= 1, got ${seeds}`);
    const mode = args.options.mode as string;
    if (mode !== "max" && mode !== "min") throw new UsageError(`s2r sweep: --mode must be max or min, got ${mode}`);
    if (args.options.asha && args.options.ray === undefined) throw new UsageError("s2r sweep: --asha needs --ray (early stopping is Ray Tune's)");
    const grid = gridFile ? parseGrid(readJsonFile(gridFile, any), gridFile) : seedsGrid(seeds!);
    const base = args.options.config ? (readJsonFile(args.options.config as string, any) as Record<string, unknown>) : {};
    const run = { workers: 0, ...((base.run as object) ?? {}), ...(args.options.steps !== undefined ? { totalSteps: args.options.steps } : {}) };
    const out = (args.options.out as string | undefined) ?? join("runs", `sweep-${task}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`);
    mkdirSync(out, { recursive: true });
    const s2r = [process.execPath, fileURLToPath(new URL("../../../bin/s2r.js", import.meta.url))];
    const trials = planTrials({ task, base: { ...base, run }, grid, out, s2r });
    const metric = args.options.metric as string;
    io.err(`s2r sweep ${task}: ${trials.length} trials -> ${out}\n`);
    if (args.options.ray !== undefined) {
      const { runTuneSweep } = await import("../ray/tune-sweep.js");
      const address = args.options.ray === "local" ? undefined : (args.options.ray as string);
      let asha;
      if (args.options.asha) {
        const c = resolveTrainConfig(task, { ...base, run });
        const maxT = Math.ceil(c.run.totalSteps / (c.ppo.rolloutSteps * c.run.numEnvs));
        asha = { maxT, gracePeriod: Math.max(1, Math.floor(maxT / 4)) };
      }
      io.err(`on Ray Tune (${address ?? "a local instance"})${asha ? `, ASHA over ${asha.maxT} updates` : ""}; Tune's messages go to ${join(out, "tune.log")}\n`);
      await runTuneSweep(trials, { address, out, metric, mode, asha, signal: io.signal });
    } else {
      const { runLocalSweep } = await import("../sweep/local-sweep.js");
      const parallel = (args.options.parallel as number | undefined) ?? availableParallelism();
      io.err(`here, ${parallel} at a time; each trial's output in its train.log\n`);
      const { Progress } = await import("../../common/progress.js");
      const progress = new Progress({ total: trials.length, label: `sweep ${task}`, stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive, unit: "trials" });
      const counts: Record<string, number> = {};
      try {
        await runLocalSweep(trials, {
          parallel,
          signal: io.signal,
          onTrialEnd: (_t, status, done) => {
            counts[status] = (counts[status] ?? 0) + 1;
            progress.update(done, counts);
          },
        });
      } finally {
        progress.done(counts);
      }
    }
    const results = collectResults(trials);
    const { csv, html } = writeResultsTable(out, `s2r sweep ${task}`, results);
    const ranked = results.filter((r) => Number.isFinite(r[metric as "successRate"] as number));
    ranked.sort((a, b) => (mode === "max" ? 1 : -1) * (((b as any)[metric] ?? 0) - ((a as any)[metric] ?? 0)));
    if (ranked[0]) io.err(`best: ${ranked[0].trial} ${JSON.stringify(ranked[0].overrides)} successRate ${ranked[0].successRate}\n`);
    io.err(`results: ${csv}\nreport: ${html}\n`);
    io.out(JSON.stringify({ trials: results.map(({ history, ...r }) => r) }) + "\n");
    const failed = results.filter((r) => r.status === "failed" || r.status === "not run").length;
    return io.signal?.aborted ? 130 : failed ? 1 : 0;
  },
};
