import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig, train } from "../policies/runner.js";
import { readCheckpoint } from "../policies/checkpoint.js";
import { checkpointPolicy, evaluatePolicy } from "../policies/evaluate.js";

/**
 * Wall-clock seconds for the default Furuta training config to reach >= 90 %
 * success on 200 randomized evaluation episodes (deterministic actions).
 * The training window's success rate (stochastic actions) triggers an
 * evaluation; the evaluation's time counts in the total.
 */
export async function benchTrain(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number | string>> {
  const budgetSeconds = o.quick ? 120 : 40 * 60;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-train-"));
  const config = resolveTrainConfig("furuta", {});
  let lastEval = -Infinity;
  let evalSuccess = 0;
  let evaluations = 0;
  const t0 = performance.now();
  const r = await train({
    taskName: "furuta",
    config,
    outDir: dir,
    log: o.log,
    onUpdate: async (u) => {
      if (u.wallSeconds > budgetSeconds) return true;
      // Evaluate when training looks ready, at most once per 100 s of training.
      if (u.successRate < 0.85 || u.wallSeconds - lastEval < 100) return false;
      lastEval = u.wallSeconds;
      const { checkpoint } = readCheckpoint(u.saveCheckpoint());
      const ev = await evaluatePolicy((n) => checkpointPolicy(checkpoint, n), { task: "furuta", taskConfig: config.task, episodes: 200, seed: 777, params: { kind: "task" }, workers: config.run.workers });
      evaluations++;
      evalSuccess = ev.successRate;
      o.log(`after ${u.wallSeconds.toFixed(0)} s / ${u.steps} steps: evaluation success ${(ev.successRate * 100).toFixed(1)} % on 200 randomized episodes`);
      return ev.successRate >= 0.9;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    secondsTo90PercentSuccess: evalSuccess >= 0.9 ? Math.round(seconds) : -1,
    evaluationSuccessRate: evalSuccess,
    evaluations,
    trainingSteps: r.steps,
    trainingStepsPerSecond: Math.round(r.steps / r.wallSeconds),
    budgetSeconds,
    runDir: dir,
  };
}
