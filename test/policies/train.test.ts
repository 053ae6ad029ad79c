import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig, train } from "../../policies/runner.js";
import { readCheckpoint } from "../../policies/checkpoint.js";
import { evaluatePolicy, checkpointPolicy } from "../../policies/evaluate.js";
import { NonFiniteError } from "../../policies/ppo.js";
import { ConfigError } from "../../common/schema.js";

const tmp = () => mkdtempSync(join(tmpdir(), "s2r-train-"));

test("PPO solves the pendulum swing-up within a small budget", async () => {
  const dir = tmp();
  const config = resolveTrainConfig("pendulum", {
    policy: { arch: "mlp" },
    ppo: { rolloutSteps: 64, chunkLength: 16 },
    run: { numEnvs: 32, workers: 0, totalSteps: 120_000, seed: 3, checkpointEvery: 1000 },
  });
  const r = await train({ taskName: "pendulum", config, outDir: dir });
  assert.ok(r.steps >= 120_000);
  const { checkpoint } = readCheckpoint(dir);
  const ev = await evaluatePolicy((n) => checkpointPolicy(checkpoint, n), { task: "pendulum", taskConfig: config.task, episodes: 20, seed: 99, params: { kind: "task" }, workers: 0 });
  assert.ok(ev.successRate >= 0.8, `deterministic success rate ${ev.successRate} after ${r.steps} steps`);
  rmSync(dir, { recursive: true, force: true });
});

test("the OSI loss falls on the Furuta task; resume continues from the saved state", async () => {
  const dir = tmp();
  // Two widely randomized parameters the history shows clearly (the arm's response to the previous
  // voltage, the pendulum's swing), so that a few updates are enough to see the OSI learn.
  const partial = {
    task: {
      randomization: [
        { target: "actuators.arm.km", distribution: "uniform", mode: "scale", low: 0.5, high: 1.5 },
        { target: "links.pendulum.scale", distribution: "uniform", mode: "scale", low: 0.7, high: 1.3 },
      ],
    },
    policy: { arch: "gru", osi: "up", hidden: 32, osiHidden: 32, actorLayers: [32], criticLayers: [64] },
    ppo: { rolloutSteps: 32, chunkLength: 16, minibatches: 2, epochs: 3 },
    run: { numEnvs: 16, workers: 0, totalSteps: 16 * 32 * 20, seed: 5, checkpointEvery: 4 },
  };
  const config = resolveTrainConfig("furuta", partial);
  const r1 = await train({ taskName: "furuta", config, outDir: dir });
  assert.equal(r1.updates, 20);
  const rows = readFileSync(join(dir, "metrics.csv"), "utf8").trim().split("\n");
  const header = rows[0]!.split(",");
  const osiCol = header.indexOf("osiLoss");
  const osi = rows.slice(1).map((l) => Number(l.split(",")[osiCol]));
  assert.ok(osi.every(Number.isFinite));
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(osi.slice(-3)) < 0.8 * mean(osi.slice(0, 3)), `OSI loss did not fall: ${osi.map((x) => x.toFixed(3)).join(" ")}`);
  assert.ok(header.some((h) => h.startsWith("osiErr:actuators.arm.km")), "per-parameter OSI error columns");
  assert.ok(existsSync(join(dir, "report.html")));

  const { checkpoint: saved } = readCheckpoint(dir);
  assert.equal(saved.progress.update, 20);
  // Resume: the model starts exactly from the checkpoint, the counters continue, the metrics file grows.
  const cfg2 = resolveTrainConfig("furuta", { ...partial, run: { ...partial.run, totalSteps: 16 * 32 * 22 } });
  let firstWeights: unknown;
  const r2 = await train({ taskName: "furuta", config: cfg2, outDir: dir, resume: saved, log: () => {} });
  assert.equal(r2.updates, 22);
  assert.equal(r2.steps, 16 * 32 * 22);
  const { checkpoint: after } = readCheckpoint(dir);
  assert.equal(after.progress.update, 22);
  assert.ok(after.progress.wallSeconds >= saved.progress.wallSeconds);
  assert.equal(readFileSync(join(dir, "metrics.csv"), "utf8").trim().split("\n").length, 1 + 22);
  void firstWeights;
  rmSync(dir, { recursive: true, force: true });
});

test("a resumed run starts from the checkpoint's weights, optimizer and random state", async () => {
  const dir = tmp();
  const partial = { policy: { arch: "lstm", hidden: 16, actorLayers: [16], criticLayers: [16] }, ppo: { rolloutSteps: 16, chunkLength: 8, minibatches: 2, epochs: 1 }, run: { numEnvs: 4, workers: 0, totalSteps: 64, seed: 2 } };
  await train({ taskName: "pendulum", config: resolveTrainConfig("pendulum", partial), outDir: dir });
  const { checkpoint } = readCheckpoint(dir);
  // Zero more steps: resuming and saving again must reproduce the same model, optimizer and rng exactly.
  await train({ taskName: "pendulum", config: resolveTrainConfig("pendulum", partial), outDir: dir, resume: checkpoint });
  const { checkpoint: again } = readCheckpoint(dir);
  assert.deepEqual(again.model, checkpoint.model);
  assert.deepEqual(again.optimizer, checkpoint.optimizer);
  assert.deepEqual(again.rng, checkpoint.rng);
  rmSync(dir, { recursive: true, force: true });
});

test("a malformed config names the bad field", () => {
  assert.throws(() => resolveTrainConfig("furuta", { ppo: { clipRatio: -0.2 } }), (e: unknown) => e instanceof ConfigError && e.path === "ppo.clipRatio");
  assert.throws(() => resolveTrainConfig("furuta", { policy: { arch: "transformer" } }), /policy\.arch: expected one of "mlp", "gru", "lstm"/);
  assert.throws(() => resolveTrainConfig("furuta", { task: { randomization: [{ target: "links.pendulum.mas", low: 0.9, high: 1.1 }] } }), /randomization\[0\]\.target/);
  assert.throws(() => resolveTrainConfig("furuta", { task: { controlDt: 0.5 } }), /task\.controlDt: expected a number/);
  assert.throws(() => resolveTrainConfig("furuta", { optimiser: {} }), /optimiser: unknown section/);
  assert.throws(() => resolveTrainConfig("furuta", { ppo: { rolloutSteps: 100, chunkLength: 32 } }), /ppo\.chunkLength: must divide/);
});

test("a NaN-producing setting stops with a clear error and writes no NaN checkpoint", async () => {
  const dir = tmp();
  // A reward weight of 1e308 overflows to Infinity: values and losses become non-finite.
  const config = resolveTrainConfig("pendulum", { task: { reward: { angle: 1e308 } }, policy: { arch: "mlp" }, ppo: { rolloutSteps: 16, chunkLength: 16, minibatches: 1 }, run: { numEnvs: 4, workers: 0, totalSteps: 640 } });
  await assert.rejects(train({ taskName: "pendulum", config, outDir: dir }), (e: unknown) => e instanceof NonFiniteError && /non-finite/.test((e as Error).message));
  assert.equal(existsSync(join(dir, "checkpoint.json")), false, "no checkpoint may be written from a diverged run");
  rmSync(dir, { recursive: true, force: true });
});
