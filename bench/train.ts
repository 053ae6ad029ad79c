import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig, train } from "../policies/runner.js";
import { readCheckpoint, readPolicyCheckpoint } from "../policies/checkpoint.js";
import { checkpointPolicy, evaluatePolicy } from "../policies/evaluate.js";

const EVAL_EPISODES = 200;
const EVAL_SEED = 777;

/**
 * Wall-clock seconds for the default Furuta training config to reach >= 90 %
 * success on 200 randomized evaluation episodes (deterministic actions).
 * The training window's success rate (stochastic actions) or the run's own
 * periodic deterministic evaluation triggers an evaluation; the evaluation's
 * time counts in the total.
 *
 * With `seeds`, the default config runs once per seed (1..seeds) for twice
 * the 10-minute bar: each seed reports its time to 90 % and the
 * deterministic success, on the same 200 episodes, of what a user gets at the
 * end (the run's best checkpoint) and of the last weights.
 */
export async function benchTrain(o: { quick: boolean; log: (l: string) => void; seeds?: number }): Promise<Record<string, unknown>> {
  if (o.seeds !== undefined) return benchSeeds(o.seeds, o);
  const r = await timeTo90(1, o.quick ? 120 : 40 * 60, true, o.log);
  return {
    secondsTo90: r.secondsTo90,
    secondsTo90PercentSuccess: r.secondsTo90,
    evaluationSuccessRate: r.lastEvaluation,
    evaluations: r.evaluations,
    trainingSteps: r.steps,
    trainingStepsPerSecond: r.stepsPerSecond,
    budgetSeconds: r.budgetSeconds,
    runDir: r.runDir,
  };
}

async function benchSeeds(seeds: number, o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, unknown>> {
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new RangeError(`bench train: --seeds must be an integer >= 1, got ${seeds}`);
  const bar = o.quick ? 60 : 600;
  const rows = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await timeTo90(seed, 2 * bar, false, (l) => o.log(`seed ${seed}: ${l}`));
    const config = resolveTrainConfig("furuta", { run: { seed } });
    const evalOf = async (file: string) => {
      const ck = readCheckpoint(file).checkpoint;
      return (await evaluatePolicy((n) => checkpointPolicy(ck, n), { task: "furuta", taskConfig: config.task, episodes: EVAL_EPISODES, seed: EVAL_SEED, params: { kind: "task" }, workers: config.run.workers })).successRate;
    };
    const finalSuccess = await evalOf(readPolicyCheckpoint(r.runDir).file);
    const lastSuccess = await evalOf(readCheckpoint(r.runDir).file);
    const row = { seed, secondsTo90: r.secondsTo90, finalSuccess, lastWeightsSuccess: lastSuccess, trainingSteps: r.steps, trainingStepsPerSecond: r.stepsPerSecond, runDir: r.runDir };
    o.log(JSON.stringify(row));
    rows.push(row);
  }
  return {
    seeds: rows,
    allReached90WithinBar: rows.every((r) => r.secondsTo90 >= 0 && r.secondsTo90 <= bar),
    maxSecondsTo90: Math.max(...rows.map((r) => (r.secondsTo90 < 0 ? Infinity : r.secondsTo90))),
    minFinalSuccess: Math.min(...rows.map((r) => r.finalSuccess)),
    barSeconds: bar,
    budgetSeconds: 2 * bar,
  };
}

async function timeTo90(seed: number, budgetSeconds: number, stopAt90: boolean, log: (l: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-train-"));
  const config = resolveTrainConfig("furuta", { run: { seed } });
  let lastEval = -Infinity;
  let lastEvaluation = 0;
  let evaluations = 0;
  let secondsTo90 = -1;
  const t0 = performance.now();
  const r = await train({
    taskName: "furuta",
    config,
    outDir: dir,
    log,
    onUpdate: async (u) => {
      if (u.wallSeconds > budgetSeconds) return true;
      if (secondsTo90 >= 0) return false;
      // Evaluate when training looks ready (stochastic window or the run's own deterministic evaluation), at most once per 100 s.
      const ready = u.successRate >= 0.85 || (u.evaluation?.successRate ?? 0) >= 0.85;
      if (!ready || u.wallSeconds - lastEval < 100) return false;
      lastEval = u.wallSeconds;
      const { checkpoint } = readCheckpoint(u.saveCheckpoint());
      const ev = await evaluatePolicy((n) => checkpointPolicy(checkpoint, n), { task: "furuta", taskConfig: config.task, episodes: EVAL_EPISODES, seed: EVAL_SEED, params: { kind: "task" }, workers: config.run.workers });
      evaluations++;
      lastEvaluation = ev.successRate;
      log(`after ${u.wallSeconds.toFixed(0)} s / ${u.steps} steps: evaluation success ${(ev.successRate * 100).toFixed(1)} % on ${EVAL_EPISODES} randomized episodes`);
      if (ev.successRate >= 0.9) secondsTo90 = Math.round((performance.now() - t0) / 1000);
      return stopAt90 && ev.successRate >= 0.9;
    },
  });
  return { secondsTo90, lastEvaluation, evaluations, steps: r.steps, stepsPerSecond: Math.round(r.steps / r.wallSeconds), budgetSeconds, runDir: dir };
}
