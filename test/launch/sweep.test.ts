import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expandGrid, parseGrid } from "../../launch/sweep/plan.js";
import { ConfigError } from "../../common/schema.js";

const s2r = fileURLToPath(new URL("../../../bin/s2r.js", import.meta.url));

test("a grid expands to every combination, first path slowest; a bad grid names the field", () => {
  assert.deepEqual(expandGrid({ "ppo.learningRate": [1, 2], "run.seed": [5, 6] }), [
    { "ppo.learningRate": 1, "run.seed": 5 },
    { "ppo.learningRate": 1, "run.seed": 6 },
    { "ppo.learningRate": 2, "run.seed": 5 },
    { "ppo.learningRate": 2, "run.seed": 6 },
  ]);
  assert.throws(() => parseGrid({ "ppo.learningRate": [] }, "g.json"), (e: Error) => e instanceof ConfigError && /ppo\.learningRate/.test(e.message));
  assert.throws(() => parseGrid({ learningRate: [1] }, "g.json"), /dotted path/);
});

test("a local sweep (no Python) runs 2 seeds, one per core, and writes its table; a bad value fails before any trial runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-sweep-"));
  try {
    const cfg = join(dir, "cfg.json");
    writeFileSync(cfg, JSON.stringify({ policy: { arch: "mlp", osi: "none", actorLayers: [16], criticLayers: [16] }, ppo: { rolloutSteps: 32, chunkLength: 16, minibatches: 2, epochs: 1 }, run: { numEnvs: 16, totalSteps: 2 * 32 * 16 } }));
    // S2R_PYTHON pointing nowhere: the local path must not need Python at all.
    const env = { ...process.env, S2R_PYTHON: "/nonexistent/python" };
    const r = spawnSync(process.execPath, [s2r, "sweep", "pendulum", "--seeds", "2", "--config", cfg, "--out", join(dir, "s")], { encoding: "utf8", env });
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(dir, "s", "results.csv"), "utf8").trim().split("\n");
    assert.deepEqual(lines.map((l) => l.split(",").slice(0, 5).join(",")), ["trial,status,run.seed,updates,steps", "trial-000,completed,1,2,1024", "trial-001,completed,2,2,1024"]);
    const out = JSON.parse(r.stdout) as { trials: { status: string }[] };
    assert.equal(out.trials.length, 2);
    const grid = join(dir, "grid.json");
    writeFileSync(grid, JSON.stringify({ "ppo.clipRatio": [0.2, -1] }));
    const bad = spawnSync(process.execPath, [s2r, "sweep", "pendulum", "--grid", grid, "--config", cfg, "--out", join(dir, "bad")], { encoding: "utf8", env });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /ppo\.clipRatio.*trial-001/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--ray without Ray installed is a clear error saying how to install it", () => {
  const r = spawnSync(process.execPath, [s2r, "train", "pendulum", "--ray", "--steps", "1000", "--out", join(tmpdir(), `s2r-noray-${process.pid}`)], { encoding: "utf8", env: { ...process.env, S2R_PYTHON: "/nonexistent/python" } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /install-ray\.sh/);
  rmSync(join(tmpdir(), `s2r-noray-${process.pid}`), { recursive: true, force: true });
});
