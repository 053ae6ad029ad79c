import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkRay } from "../../launch/ray/paths.js";
import { LocalRayCluster } from "../../launch/ray/local-cluster.js";

/**
 * s2r on a Ray cluster of two single-CPU nodes on this machine (one cluster
 * shared by every check): distributed training gives the local run's result
 * bit for bit, a rollout worker killed mid-training is restarted and the run
 * completes, and a sweep on Ray Tune completes with its table. Skipped, with
 * the reason, where Ray is not installed (scripts/install-ray.sh; CI runs it).
 */
const ray = checkRay();
const skip = ray.ok ? false : `Ray is not available: ${ray.reason}`;
const s2r = fileURLToPath(new URL("../../../bin/s2r.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "s2r-ray-"));
let cluster: LocalRayCluster | undefined;

before(async () => {
  if (!skip) cluster = await LocalRayCluster.start({ nodes: 2, cpus: 1 });
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A small GRU + OSI run: 32 envs (two physics blocks, one per worker). */
function configFile(name: string, run: Record<string, unknown>, ppo: Record<string, unknown> = {}): string {
  const f = join(dir, `${name}.json`);
  writeFileSync(
    f,
    JSON.stringify({
      policy: { hidden: 16, actorLayers: [16], criticLayers: [16], osiHidden: 16 },
      ppo: { rolloutSteps: 32, chunkLength: 16, minibatches: 2, epochs: 2, ...ppo },
      run: { numEnvs: 32, workers: 0, seed: 3, ...run },
    }),
  );
  return f;
}

function runS2r(args: string[], onStart?: (pid: number) => void): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [s2r, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => resolve({ code: code ?? -1, stderr }));
    onStart?.(p.pid!);
  });
}

const checkpoint = (d: string) => JSON.parse(readFileSync(join(d, "checkpoint.json"), "utf8"));
/** metrics.csv without the wall-clock columns (wallSeconds, stepsPerSecond). */
const metrics = (d: string) =>
  readFileSync(join(d, "metrics.csv"), "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(",").filter((_, i) => i !== 2 && i !== 3).join(","));

/** Pids of this run's Node rollout workers (their command line names the run). */
function workerPids(runDir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (cmd.some((a) => a.endsWith("rollout-worker.js")) && cmd.includes(runDir)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

test("2 Ray workers on 2 single-CPU nodes give the local run's weights and metrics, bit for bit", { skip, timeout: 300_000 }, async () => {
  const cfg = configFile("identical", { totalSteps: 3 * 32 * 32 });
  const local = join(dir, "local"), remote = join(dir, "ray");
  // Side by side: the local run fits in the Ray run's start-up.
  const [l, r] = await Promise.all([
    runS2r(["train", "furuta", "--config", cfg, "--out", local, "--quiet"]),
    runS2r(["train", "furuta", "--config", cfg, "--out", remote, "--quiet", "--ray", cluster!.address, "--ray-workers", "2"]),
  ]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /2 rollout workers on 2 node\(s\)/);
  const a = checkpoint(local), b = checkpoint(remote);
  assert.equal(b.progress.update, 3);
  assert.deepEqual(b.model, a.model);
  assert.deepEqual(b.optimizer, a.optimizer);
  assert.deepEqual(b.rng, a.rng);
  assert.deepEqual(metrics(remote), metrics(local));
});

test("a rollout worker killed mid-training is restarted by Ray, its rollout redone, and training completes", { skip, timeout: 300_000 }, async () => {
  // Longer rollouts (256 steps x 32 envs), so the kill lands while the workers step.
  const updates = 4;
  const cfg = configFile("kill", { totalSteps: updates * 256 * 32 }, { rolloutSteps: 256, chunkLength: 32 });
  const out = join(dir, "kill");
  let killed = 0;
  const r = await runS2r(["train", "furuta", "--config", cfg, "--out", out, "--quiet", "--ray", cluster!.address, "--ray-workers", "2"], () => {
    const poll = setInterval(() => {
      const rows = existsSync(join(out, "metrics.csv")) ? readFileSync(join(out, "metrics.csv"), "utf8").trim().split("\n").length - 1 : 0;
      const pids = workerPids(out);
      if (rows >= 1 && pids.length === 2) {
        clearInterval(poll);
        process.kill(pids[1]!, "SIGKILL");
        killed = pids[1]!;
      }
    }, 50);
    poll.unref();
  });
  assert.ok(killed > 0, "a worker was killed");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /was restarted by Ray .*its rollout was redone/);
  assert.equal(checkpoint(out).progress.update, updates);
  assert.equal(metrics(out).length, updates + 1);
});

test("a 4-trial sweep on Ray Tune (ASHA on) completes with its results table", { skip, timeout: 300_000 }, async () => {
  const cfg = configFile("sweep", { totalSteps: 3 * 32 * 32 });
  const grid = join(dir, "grid.json");
  writeFileSync(grid, JSON.stringify({ "ppo.learningRate": [0.001, 0.0003], "run.seed": [1, 2] }));
  const out = join(dir, "sweep");
  const r = await runS2r(["sweep", "furuta", "--grid", grid, "--config", cfg, "--out", out, "--ray", cluster!.address, "--asha"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n");
  assert.equal(lines[0], "trial,status,ppo.learningRate,run.seed,updates,steps,successRate,bestSuccessRate,meanReturn,wallSeconds");
  assert.equal(lines.length, 5);
  for (const l of lines.slice(1)) assert.match(l, /^trial-00\d,(completed|stopped),/);
  // Trial 0 (lr 0.001, seed 1) ran to the end or was stopped by ASHA; either way its metrics reached Tune's table.
  assert.ok(existsSync(join(out, "report.html")));
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /trial-003/);
});
