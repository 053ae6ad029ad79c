import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { projectPath } from "../../common/paths.js";
import { BATCH_NICE, readThreadScheduling, type ThreadScheduling } from "../../common/batch-priority.js";

const linux = process.platform === "linux";

test("a worker thread lowers only itself: SCHED_IDLE and nice 10 on its thread, the main thread untouched", { skip: !linux && "Linux only" }, async () => {
  const before = readThreadScheduling().find((t) => t.tid === process.pid)!;
  const url = new URL("../../common/batch-priority.js", import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads");
     import(${JSON.stringify(url)}).then((m) => { const r = m.lowerThisThread("idle"); parentPort.postMessage({ tid: m.currentThreadId(), r }); });
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  try {
    const { tid, r } = await new Promise<{ tid: number; r: { problem?: string } }>((res, rej) => {
      worker.once("message", res);
      worker.once("error", rej);
    });
    assert.equal(r.problem, undefined);
    assert.notEqual(tid, process.pid);
    const threads = readThreadScheduling();
    const w = threads.find((t) => t.tid === tid)!;
    assert.equal(w.policy, "SCHED_IDLE");
    assert.ok(w.nice >= BATCH_NICE, `worker nice ${w.nice}`);
    const main = threads.find((t) => t.tid === process.pid)!;
    assert.deepEqual({ policy: main.policy, nice: main.nice }, { policy: before.policy, nice: before.nice });
  } finally {
    await worker.terminate();
  }
});

/** Starts `s2r train` with worker threads, reads every thread's scheduling once the workers run, then stops it. */
async function trainThreads(extra: string[]): Promise<ThreadScheduling[]> {
  const dir = mkdtempSync(join(tmpdir(), "s2r-batch-priority-"));
  const child = spawn(process.execPath, [projectPath("bin", "s2r.js"), "train", "pendulum", "--workers", "2", "--envs", "32", "--steps", "10000000", "--quiet", "--out", join(dir, "run"), ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  try {
    // The train line is printed after the lowering, before the workers start; then wait for the two worker threads to appear.
    const deadline = Date.now() + 60_000;
    let baseline = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`s2r train exited early (${child.exitCode}): ${err}`);
      if (Date.now() > deadline) throw new Error(`s2r train did not start its workers within 60 s: ${err}`);
      if (/s2r train pendulum: /.test(err)) {
        const n = readThreadScheduling(child.pid!).length;
        if (baseline === 0) baseline = n;
        else if (n >= baseline + 2) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    return readThreadScheduling(child.pid!);
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

test("s2r train lowers every thread of its process, worker threads included, to SCHED_BATCH and nice 10", { skip: !linux && "Linux only", timeout: 120_000 }, async () => {
  const threads = await trainThreads([]);
  const notLowered = threads.filter((t) => t.policy !== "SCHED_BATCH" || t.nice < BATCH_NICE);
  assert.deepEqual(notLowered, [], `threads not lowered: ${JSON.stringify(notLowered)}`);
});

test("s2r train --priority normal leaves its threads as started", { skip: !linux && "Linux only", timeout: 120_000 }, async () => {
  const own = readThreadScheduling().find((t) => t.tid === process.pid)!;
  const threads = await trainThreads(["--priority", "normal"]);
  const changed = threads.filter((t) => t.policy !== own.policy || t.nice !== own.nice);
  assert.deepEqual(changed, [], `threads changed: ${JSON.stringify(changed)}`);
});
