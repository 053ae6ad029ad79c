import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig, train } from "../../policies/runner.js";
import { readCheckpoint } from "../../policies/checkpoint.js";
import { exportCheckpoint } from "../../policies/export.js";
import { ConfigError } from "../../common/schema.js";

test("ADR in training: ranges move on boundary outcomes, are logged, saved in the checkpoint, restored on resume and recorded by export", async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-adr-"));
  // Short episodes nobody succeeds in: the boundaries, starting at the task's full ranges, narrow toward nominal.
  const partial = {
    task: { episodeSeconds: 0.2 },
    policy: { arch: "gru", hidden: 8, actorLayers: [8], criticLayers: [8] },
    ppo: { rolloutSteps: 16, chunkLength: 8, minibatches: 2, epochs: 1 },
    run: { numEnvs: 8, workers: 0, totalSteps: 8 * 16 * 6, seed: 2, evalEvery: 0 },
    adr: { enabled: true, initial: 1, bufferSize: 2, boundaryProb: 1, step: 0.5 },
  };
  const config = resolveTrainConfig("pendulum", partial);
  await train({ taskName: "pendulum", config, outDir: dir });
  const { checkpoint } = readCheckpoint(dir);
  const st = checkpoint.adr!;
  assert.deepEqual(st.entries.map((e) => e.target), ["links.pendulum.mass", "joints.pendulum_joint.damping"]);
  const mass = st.entries[0]!;
  assert.ok(mass.high - mass.low < 0.01 - 1e-9, `the mass range (task: 0.045..0.055) narrowed: ${mass.low}..${mass.high}`);

  const rows = readFileSync(join(dir, "metrics.csv"), "utf8").trim().split("\n").map((l) => l.split(","));
  const hi = rows[0]!.indexOf("adrHigh:links.pendulum.mass");
  assert.ok(hi > 0);
  assert.equal(Number(rows[rows.length - 1]![hi]), mass.high);

  // Resume with no further steps: the state comes back exactly (buffers included).
  await train({ taskName: "pendulum", config, outDir: dir, resume: checkpoint });
  assert.deepEqual(readCheckpoint(dir).checkpoint.adr, st);

  const r = exportCheckpoint(checkpoint, dir, join(dir, "policy.onnx"));
  assert.deepEqual(r.manifestData.training.adrRanges, st.entries.map((e) => ({ target: e.target, low: e.low, high: e.high })));

  // A checkpoint without ADR state cannot resume an ADR config; a bad ADR field is named.
  const { adr: _drop, ...noAdr } = checkpoint;
  await assert.rejects(train({ taskName: "pendulum", config, outDir: dir, resume: noAdr }), (e: unknown) => e instanceof ConfigError && e.path === "adr");
  assert.throws(() => resolveTrainConfig("pendulum", { ...partial, adr: { enabled: true, targets: ["links.arm.mass"] } }), (e: unknown) => e instanceof ConfigError && e.path === "adr.targets[0]");
  assert.throws(() => resolveTrainConfig("pendulum", { adr: { boundaryProb: 2 } }), /adr\.boundaryProb/);
  rmSync(dir, { recursive: true, force: true });
});
