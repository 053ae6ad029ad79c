import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../common/rng.js";
import { ConfigError, type Schema } from "../common/schema.js";
import { canonicalJson, sha256Hex } from "../common/hash.js";
import { Progress } from "../common/progress.js";
import { linePlot, writeHtmlReport } from "../common/report/index.js";
import type { EpisodeResult } from "../sim/env/contract.js";
import { setupTask } from "../sim/env/sim-env.js";
import { getTask } from "../sim/tasks/registry.js";
import type { TaskConfigBase } from "../sim/tasks/task.js";
import { Adr, adrConfigSchema, type AdrConfig } from "../sim/randomization/adr.js";
import type { TaskSetup } from "../sim/env/sim-env.js";
import { createArena } from "./nn/index.js";
import { ActorCritic } from "./actor-critic.js";
import { BEST_CHECKPOINT_FILE, writeCheckpoint, type Checkpoint, type PeriodicEvaluation } from "./checkpoint.js";
import { betterEvaluation, PeriodicEvaluator } from "./periodic-eval.js";
import { NonFiniteError, Ppo, type UpdateStats } from "./ppo.js";
import { RolloutStorage } from "./rollout-storage.js";
import { localRollouts, type RolloutSourceFactory } from "./rollout-source.js";
import { policyConfigSchema, ppoConfigSchema, runConfigSchema, type PolicyConfig, type PpoConfig, type RunConfig } from "./train-config.js";

/** The whole training config: the task's own (validated by the task) plus policy, PPO and run settings. */
export interface TrainConfig {
  task: TaskConfigBase;
  policy: PolicyConfig;
  ppo: PpoConfig;
  run: RunConfig;
  /** Automatic domain randomization over the task's uniform ranges (off by default). */
  adr: AdrConfig;
}

/** ADR bound to the task's randomization: its uniform per-episode entries, with their ranges and distributions. */
function createAdr(setup: TaskSetup, adr: AdrConfig): Adr {
  const spec = setup.config.randomization;
  const sources = setup.randomizer.privilegedRanges().map((r) => ({ ...r, distribution: spec.find((e) => e.target === r.name)?.distribution ?? "uniform" }));
  return new Adr(adr, sources, "adr");
}

/** Validates a partial training config (from a file and flags) for a task and fills every default. */
export function resolveTrainConfig(taskName: string, partial: unknown, source?: string): TrainConfig {
  const task = getTask(taskName);
  const p = (partial ?? {}) as Record<string, unknown>;
  if (typeof p !== "object" || Array.isArray(p)) throw new ConfigError("", "expected an object with task, policy, ppo and run sections", source);
  for (const k of Object.keys(p)) {
    if (!["task", "policy", "ppo", "run", "adr"].includes(k)) throw new ConfigError(k, "unknown section (known: task, policy, ppo, run, adr)", source);
  }
  const wrap = <T>(schema: Schema<T>, v: unknown, path: string): T => {
    try {
      return schema.parse(v, path);
    } catch (e) {
      if (e instanceof ConfigError && source) throw new ConfigError(e.path, e.problem, source);
      throw e;
    }
  };
  const cfg: TrainConfig = {
    task: wrap(task.configSchema, p.task, "task"),
    policy: wrap(policyConfigSchema, p.policy, "policy"),
    ppo: wrap(ppoConfigSchema, p.ppo, "ppo"),
    run: wrap(runConfigSchema, p.run, "run"),
    adr: wrap(adrConfigSchema, p.adr, "adr"),
  };
  // Load the robot and bind the randomization to its parameter table now, so an unknown target fails here, by name.
  try {
    const setup = setupTask(task, cfg.task);
    if (cfg.adr.enabled) createAdr(setup, cfg.adr);
  } catch (e) {
    if (e instanceof ConfigError && e.path.startsWith("adr")) throw new ConfigError(e.path, e.problem, source);
    if (e instanceof ConfigError) throw new ConfigError(`task.${e.path}`, e.problem, source);
    throw e;
  }
  if (cfg.ppo.rolloutSteps % cfg.ppo.chunkLength !== 0) throw new ConfigError("ppo.chunkLength", `must divide ppo.rolloutSteps (${cfg.ppo.rolloutSteps}), got ${cfg.ppo.chunkLength}`, source);
  if (cfg.policy.osi === "up" && cfg.run.numEnvs % cfg.ppo.osiMinibatches !== 0) throw new ConfigError("ppo.osiMinibatches", `must divide run.numEnvs (${cfg.run.numEnvs}), got ${cfg.ppo.osiMinibatches}`, source);
  const chunks = cfg.run.numEnvs * (cfg.ppo.rolloutSteps / cfg.ppo.chunkLength);
  if (chunks % cfg.ppo.minibatches !== 0) throw new ConfigError("ppo.minibatches", `must divide the ${chunks} chunks per rollout (run.numEnvs x rolloutSteps / chunkLength)`, source);
  return cfg;
}

export interface TrainOptions {
  taskName: string;
  config: TrainConfig;
  outDir: string;
  resume?: Checkpoint;
  signal?: AbortSignal;
  /** Progress bar output (stderr in the CLI). */
  progress?: { stream: { write(t: string): unknown; columns?: number }; interactive: boolean };
  log?: (line: string) => void;
  /** Where rollouts come from (default: this machine's envs, run.workers threads); launch/ray supplies remote workers. */
  rollouts?: RolloutSourceFactory;
  /**
   * Called after every update with the run directory's latest figures; may save a
   * checkpoint and evaluate. Resolving true stops training (e.g. a target reached).
   */
  onUpdate?: (u: { update: number; steps: number; wallSeconds: number; successRate: number; meanReturn: number; episodes: number; saveCheckpoint: () => string; evaluation?: PeriodicEvaluation }) => boolean | Promise<boolean>;
}

export interface TrainResult {
  updates: number;
  steps: number;
  wallSeconds: number;
  successRate: number;
  meanReturn: number;
  interrupted: boolean;
  checkpoint: string;
  /** Wall-clock seconds at which the success window first reached run.stopAtSuccess, or -1. */
  secondsToTarget: number;
  /** Every periodic deterministic evaluation of this session, and the best of the run (also in DIR/best-checkpoint.json). */
  evaluations: PeriodicEvaluation[];
  best?: PeriodicEvaluation;
}

interface MetricsRow {
  update: number;
  steps: number;
  wallSeconds: number;
  stepsPerSecond: number;
  meanReturn: number;
  successRate: number;
  episodeLength: number;
  episodes: number;
  stats: UpdateStats;
  /** The periodic deterministic evaluation made after this update, if any. */
  evaluation?: { successRate: number; meanReturn: number; osiError: number };
  /** ADR's ranges after this update, and how far they reach (0 nominal, 1 hard limit, mean of both sides), when the run uses ADR. */
  adr?: { target: string; low: number; high: number }[];
  adrReach?: number[];
}

/**
 * The training loop, separate from the algorithm: rollouts on the vector env
 * (worker threads), PPO updates, metrics (CSV), a report with plots, atomic
 * checkpoints, Ctrl-C (the signal) saving one, and resuming.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const { config: cfg, outDir } = o;
  const log = o.log ?? (() => {});
  const task = getTask(o.taskName);
  const setup = setupTask(task, cfg.task);
  const spec = setup.spec;
  const N = cfg.run.numEnvs;
  const T = cfg.ppo.rolloutSteps;
  mkdirSync(outDir, { recursive: true });
  const configJson = JSON.parse(canonicalJson(cfg)) as Record<string, unknown>;
  const configHash = sha256Hex(canonicalJson(cfg));
  writeFileSync(join(outDir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");

  const arena = createArena();
  const model = new ActorCritic(arena, spec, cfg.policy, cfg.run.seed);
  const storage = new RolloutStorage({ T, N, obs: spec.numObs, priv: spec.numPrivileged, act: spec.numActions, state: model.stateSize, chunkLength: cfg.ppo.chunkLength });
  const ppo = new Ppo(model, cfg.ppo, storage);
  const rng = Rng.derive(cfg.run.seed, 0x7a1);
  let update = 0, steps = 0, priorWall = 0, totalEpisodes = 0;
  let best: PeriodicEvaluation | undefined;
  const adr = cfg.adr.enabled ? createAdr(setup, cfg.adr) : undefined;
  if (o.resume) {
    if (adr) {
      if (!o.resume.adr) throw new ConfigError("adr", "the config enables ADR but the checkpoint has no ADR state (its run did not use ADR)");
      adr.setState(o.resume.adr, "checkpoint.adr");
    }
    model.setState(o.resume.model, "checkpoint.model");
    ppo.restoreOptimizers(o.resume.optimizer, o.resume.osiOptimizer);
    best = o.resume.bestEvaluation;
    rng.setState(o.resume.rng);
    ({ update, steps, wallSeconds: priorWall, episodes: totalEpisodes } = o.resume.progress);
    log(`resuming at update ${update}, ${steps} steps`);
  }

  // A resumed run starts fresh episodes from a stream of its own, so it never replays the first run's.
  const envSeed = cfg.run.seed * 1000003 + update;
  if (adr && o.rollouts) throw new ConfigError("adr", "automatic domain randomization runs on local rollouts only for now (not with --ray)");
  const rollouts = await (o.rollouts ?? localRollouts)({ taskName: o.taskName, config: cfg, model, envSeed, log, ...(adr ? { params: adr.paramSource() } : {}) });

  const metricsFile = join(outDir, "metrics.csv");
  const privNames = spec.privilegedNames;
  if (!o.resume || !existsSync(metricsFile)) {
    const osiCols = [...(model.osi ? privNames.map((n) => `osiErr:${n}`) : []), ...(adr ? adr.ranges().flatMap((r) => [`adrLow:${r.target}`, `adrHigh:${r.target}`]) : [])];
    appendFileSync(metricsFile, ["update", "steps", "wallSeconds", "stepsPerSecond", "meanReturn", "successRate", "episodeLength", "episodes", "policyLoss", "valueLoss", "osiLoss", "entropy", "approxKl", "clipFraction", "gradNorm", "learningRate", "actionStd", "explainedVariance", "evalSuccess", "evalReturn", "evalOsiError", ...osiCols].join(",") + "\n");
  }
  const history: MetricsRow[] = [];
  const window: EpisodeResult[] = [];
  const progress = o.progress ? new Progress({ total: cfg.run.totalSteps, label: `train ${o.taskName}`, stream: o.progress.stream, interactive: o.progress.interactive, unit: "steps" }) : undefined;

  const t0 = performance.now();
  let interrupted = false;
  let secondsToTarget = -1;
  let lastCheckpoint = "";
  const wall = () => priorWall + (performance.now() - t0) / 1000;

  const evaluator = cfg.run.evalEvery > 0 ? new PeriodicEvaluator(model, { task: o.taskName, taskConfig: cfg.task, episodes: cfg.run.evalEpisodes, seed: cfg.run.evalSeed, workers: cfg.run.workers }) : undefined;
  const evaluations: PeriodicEvaluation[] = [];
  let lastEvaluated = -1;
  // The deterministic policy on the fixed evaluation episodes; the best so far becomes DIR/best-checkpoint.json.
  const evaluateNow = async (): Promise<{ successRate: number; meanReturn: number; osiError: number } | undefined> => {
    if (!evaluator || lastEvaluated === update) return undefined;
    lastEvaluated = update;
    let out;
    try {
      out = await evaluator.evaluate({ update, steps }, o.signal);
    } catch (e) {
      // Ctrl-C during an evaluation: no figure, but the run still saves its checkpoint.
      if (o.signal?.aborted) {
        interrupted = true;
        return undefined;
      }
      throw e;
    }
    const { evaluation, result } = out;
    evaluations.push(evaluation);
    const osiErrors = Object.values(result.osiError);
    log(`update ${update}: deterministic evaluation ${(evaluation.successRate * 100).toFixed(1)} % success on ${evaluation.episodes} fixed randomized episodes${best ? ` (best ${(best.successRate * 100).toFixed(1)} % at update ${best.update})` : ""}`);
    if (betterEvaluation(evaluation, best)) {
      best = evaluation;
      writeCheckpoint(outDir, buildCheckpoint(evaluation), BEST_CHECKPOINT_FILE);
    }
    return { successRate: evaluation.successRate, meanReturn: evaluation.meanReturn, osiError: osiErrors.length ? mean(osiErrors) : NaN };
  };

  const buildCheckpoint = (evaluation?: PeriodicEvaluation): Checkpoint => {
    for (const p of model.params()) {
      for (const x of p.value) if (!Number.isFinite(x)) throw new NonFiniteError(`parameter ${p.name} is not finite; refusing to write a checkpoint`);
    }
    const recent = summarize(window);
    return {
      schema: 1,
      kind: "s2r-checkpoint",
      task: o.taskName,
      config: configJson,
      configHash,
      envSpec: spec,
      privileged: setup.randomizer.privilegedRanges(),
      model: model.getState(),
      ...ppo.optimizerState(),
      rng: rng.getState(),
      progress: { update, steps, wallSeconds: wall(), episodes: totalEpisodes, successRate: recent.successRate, meanReturn: recent.meanReturn },
      savedAt: new Date().toISOString(),
      ...(evaluation ? { evaluation } : {}),
      ...(best ? { bestEvaluation: best } : {}),
      ...(adr ? { adr: adr.getState() } : {}),
    };
  };

  const saveCheckpoint = (): string => {
    lastCheckpoint = writeCheckpoint(outDir, buildCheckpoint());
    writeTrainingReport(join(outDir, "report.html"), o.taskName, history, privNames, model.osi !== undefined);
    return lastCheckpoint;
  };

  try {
    while (steps < cfg.run.totalSteps) {
      const lastValues = new Float32Array(N);
      const rollout = await rollouts.collect(storage, rng, lastValues, o.signal);
      for (const e of rollout.episodes) {
        window.push(e);
        if (window.length > cfg.run.statsWindow) window.shift();
      }
      totalEpisodes += rollout.episodes.length;
      if (rollout.interrupted) {
        interrupted = true;
        break;
      }
      if (adr && adr.observe(rollout.episodes)) {
        // The next episodes of every env draw from the moved ranges.
        await rollouts.setParamSource!(adr.paramSource());
      }
      const stats = ppo.update(lastValues, rng);
      model.obsNorm.update(storage.obs, T * N);
      update++;
      steps += T * N;
      const recent = summarize(window);
      const evaluation = evaluator && update % cfg.run.evalEvery === 0 ? await evaluateNow() : undefined;
      if (interrupted) break;
      const row: MetricsRow = { update, steps, wallSeconds: wall(), stepsPerSecond: steps / Math.max(1e-9, wall()), meanReturn: recent.meanReturn, successRate: recent.successRate, episodeLength: recent.meanLength, episodes: totalEpisodes, stats, ...(evaluation ? { evaluation } : {}) };
      if (adr) {
        row.adr = adr.ranges();
        row.adrReach = adr.reach().map((g) => (g.low + g.high) / 2);
      }
      history.push(row);
      appendFileSync(metricsFile, csvRow(row, model.osi !== undefined) + "\n");
      progress?.update(steps, {
        return: recent.meanReturn.toFixed(1),
        success: `${(recent.successRate * 100).toFixed(0)}%`,
        ...(model.osi ? { osiErr: mean(stats.osiAbsError).toFixed(3) } : {}),
      });
      if (secondsToTarget < 0 && window.length >= Math.min(cfg.run.statsWindow, N) && recent.successRate >= cfg.run.stopAtSuccess) {
        secondsToTarget = wall();
        log(`success rate ${(recent.successRate * 100).toFixed(1)}% reached the target after ${secondsToTarget.toFixed(0)} s`);
        break;
      }
      if (update % cfg.run.checkpointEvery === 0) saveCheckpoint();
      const lastEvaluation = evaluation ? evaluations[evaluations.length - 1] : undefined;
      if (o.onUpdate && (await o.onUpdate({ update, steps, wallSeconds: wall(), successRate: recent.successRate, meanReturn: recent.meanReturn, episodes: totalEpisodes, saveCheckpoint, ...(lastEvaluation ? { evaluation: lastEvaluation } : {}) }))) {
        if (secondsToTarget < 0) secondsToTarget = wall();
        break;
      }
    }
    // The end of a run is a candidate too (an interrupted run saves at once, without evaluating).
    if (!interrupted && update > 0) await evaluateNow();
    saveCheckpoint();
  } finally {
    progress?.done();
    await rollouts.close();
    arena.dispose();
  }
  const recent = summarize(window);
  return { updates: update, steps, wallSeconds: wall(), successRate: recent.successRate, meanReturn: recent.meanReturn, interrupted, checkpoint: lastCheckpoint, secondsToTarget, evaluations, ...(best ? { best } : {}) };
}

function summarize(window: EpisodeResult[]): { successRate: number; meanReturn: number; meanLength: number } {
  if (window.length === 0) return { successRate: 0, meanReturn: 0, meanLength: 0 };
  let s = 0, r = 0, l = 0;
  for (const e of window) {
    s += e.success ? 1 : 0;
    r += e.return;
    l += e.length;
  }
  return { successRate: s / window.length, meanReturn: r / window.length, meanLength: l / window.length };
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : 0;
}

function csvRow(r: MetricsRow, osi: boolean): string {
  const s = r.stats;
  const e = r.evaluation;
  const cells = [r.update, r.steps, r.wallSeconds.toFixed(2), r.stepsPerSecond.toFixed(0), r.meanReturn, r.successRate, r.episodeLength, r.episodes, s.policyLoss, s.valueLoss, s.osiLoss, s.entropy, s.approxKl, s.clipFraction, s.gradNorm, s.learningRate, s.actionStd, s.explainedVariance, e ? e.successRate : "", e ? e.meanReturn : "", e && Number.isFinite(e.osiError) ? e.osiError : "", ...(osi ? Array.from(s.osiAbsError) : []), ...(r.adr ? r.adr.flatMap((g) => [g.low, g.high]) : [])];
  return cells.map((c) => (typeof c === "number" ? (Number.isInteger(c) ? String(c) : c.toPrecision(6)) : c)).join(",");
}

function writeTrainingReport(file: string, taskName: string, h: MetricsRow[], privNames: readonly string[], osi: boolean): void {
  const x = h.map((r) => r.steps);
  const series = (name: string, y: number[]) => ({ name, x, y });
  const plots = [
    linePlot({ title: "Episode return (recent window)", xLabel: "environment steps", yLabel: "return", series: [series("mean return", h.map((r) => r.meanReturn))] }),
    linePlot({
      title: "Success: training (stochastic) vs evaluation (deterministic)",
      xLabel: "environment steps",
      yLabel: "fraction",
      series: [series("training (stochastic)", h.map((r) => r.successRate)), { name: "evaluation (deterministic)", x: h.filter((r) => r.evaluation).map((r) => r.steps), y: h.filter((r) => r.evaluation).map((r) => r.evaluation!.successRate) }],
      yRange: [0, 1],
    }),
    linePlot({ title: "Losses", xLabel: "environment steps", yLabel: "loss", series: [series("value", h.map((r) => r.stats.valueLoss)), series("policy", h.map((r) => r.stats.policyLoss)), ...(osi ? [series("OSI", h.map((r) => r.stats.osiLoss))] : [])] }),
    linePlot({ title: "Exploration and step size", xLabel: "environment steps", yLabel: "value", series: [series("action std", h.map((r) => r.stats.actionStd)), series("learning rate x 100", h.map((r) => r.stats.learningRate * 100)), series("explained variance", h.map((r) => r.stats.explainedVariance))] }),
  ];
  const adrLast = h[h.length - 1]?.adr;
  if (adrLast) {
    plots.push(
      linePlot({
        title: "ADR reach (0 nominal, 1 hard limits)",
        xLabel: "environment steps",
        yLabel: "reach",
        series: adrLast.map((g, k) => series(g.target, h.map((r) => r.adrReach?.[k] ?? 0))),
        yRange: [0, 1],
      }),
    );
  }
  if (osi) {
    plots.push(
      linePlot({
        title: "OSI error per parameter (mean |estimate - truth|, normalized units: 1 = half the randomization range)",
        xLabel: "environment steps",
        yLabel: "error",
        series: privNames.map((n, k) => series(n, h.map((r) => r.stats.osiAbsError[k]!))),
      }),
    );
  }
  const last = h[h.length - 1];
  writeHtmlReport(file, {
    title: `s2r train ${taskName}`,
    sections: [
      {
        heading: "Summary",
        text: last
          ? `${last.update} updates, ${last.steps} steps in ${last.wallSeconds.toFixed(0)} s (${last.stepsPerSecond.toFixed(0)} steps/s). Recent success rate ${(last.successRate * 100).toFixed(1)} %, mean return ${last.meanReturn.toFixed(2)}.`
          : "No update completed yet.",
      },
      { heading: "Training curves", plots },
    ],
  });
}
