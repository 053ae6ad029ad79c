import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig, train } from "../../policies/runner.js";
import { BEST_CHECKPOINT_FILE, readCheckpoint, readPolicyCheckpoint } from "../../policies/checkpoint.js";
import { checkpointPolicy, evaluatePolicy } from "../../policies/evaluate.js";
import { betterEvaluation } from "../../policies/periodic-eval.js";

test("training keeps the checkpoint with the best deterministic evaluation, and eval/export read it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-best-"));
  const partial = {
    policy: { arch: "mlp" },
    ppo: { rolloutSteps: 64, chunkLength: 16 },
    run: { numEnvs: 16, workers: 0, totalSteps: 16 * 64 * 12, seed: 4, evalEvery: 3, evalEpisodes: 6, evalSeed: 21 },
  } as const;
  const config = resolveTrainConfig("pendulum", partial);
  const r = await train({ taskName: "pendulum", config, outDir: dir });
  // Every 3 updates, and the end (update 12 is both).
  assert.deepEqual(r.evaluations.map((e) => e.update), [3, 6, 9, 12]);
  const best = r.evaluations.reduce<(typeof r.evaluations)[number] | undefined>((b, e) => (betterEvaluation(e, b) ? e : b), undefined)!;
  assert.deepEqual(r.best, best);

  // The metrics file carries each evaluation on its update's row.
  const rows = readFileSync(join(dir, "metrics.csv"), "utf8").trim().split("\n").map((l) => l.split(","));
  const col = rows[0]!.indexOf("evalSuccess");
  assert.ok(col > 0 && rows[0]!.includes("explainedVariance"));
  const evalRows = rows.slice(1).filter((c) => c[col] !== "");
  assert.deepEqual(evalRows.map((c) => Number(c[0])), [3, 6, 9, 12]);

  // The best checkpoint holds the weights that were evaluated: the same fixed episodes give the same figures.
  assert.ok(existsSync(join(dir, BEST_CHECKPOINT_FILE)));
  const { file, checkpoint } = readPolicyCheckpoint(dir);
  assert.equal(file, join(dir, BEST_CHECKPOINT_FILE));
  assert.deepEqual(checkpoint.evaluation, best);
  assert.equal(checkpoint.progress.update, best.update);
  const again = await evaluatePolicy((n) => checkpointPolicy(checkpoint, n), { task: "pendulum", taskConfig: config.task, episodes: 6, seed: 21, params: { kind: "task" }, workers: 0 });
  assert.equal(again.successRate, best.successRate);
  assert.ok(Math.abs(again.meanReturn - best.meanReturn) < 1e-9, `${again.meanReturn} vs ${best.meanReturn}`);

  // The latest checkpoint (for --resume) is the end of training and remembers the best.
  const { checkpoint: latest } = readCheckpoint(dir);
  assert.equal(latest.progress.update, 12);
  assert.deepEqual(latest.bestEvaluation, best);

  // A resumed run compares against the best so far: a worse evaluation never replaces it.
  const cfg2 = resolveTrainConfig("pendulum", { ...partial, run: { ...partial.run, totalSteps: 16 * 64 * 13 } });
  const r2 = await train({ taskName: "pendulum", config: cfg2, outDir: dir, resume: latest });
  assert.equal(r2.evaluations.length, 1);
  const after = readPolicyCheckpoint(dir).checkpoint.evaluation!;
  assert.deepEqual(after, betterEvaluation(r2.evaluations[0]!, best) ? r2.evaluations[0] : best);
  rmSync(dir, { recursive: true, force: true });
});

test("betterEvaluation ranks by deterministic success, then mean return", () => {
  const e = (successRate: number, meanReturn: number) => ({ update: 1, steps: 1, successRate, meanReturn, episodes: 10, seed: 1 });
  assert.ok(betterEvaluation(e(0.5, 0), undefined));
  assert.ok(betterEvaluation(e(0.6, -5), e(0.5, 10)));
  assert.ok(!betterEvaluation(e(0.5, 1), e(0.5, 2)));
  assert.ok(betterEvaluation(e(0.5, 3), e(0.5, 2)));
});
