import { spawn } from "node:child_process";
import { openSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Trial } from "./plan.js";

/**
 * Runs a sweep's trials on this machine, `parallel` at a time (one per core by
 * default), each an `s2r train` child process logging to its train.log. Writes
 * each trial's status.json as it ends; Ctrl-C (the signal) stops the running
 * trials (each saves its checkpoint) and starts no more.
 */
export async function runLocalSweep(trials: Trial[], o: { parallel: number; signal?: AbortSignal; onTrialEnd?: (t: Trial, status: string, done: number) => void }): Promise<void> {
  let next = 0, done = 0;
  const runOne = (t: Trial) =>
    new Promise<void>((resolve) => {
      const log = openSync(join(t.dir, "train.log"), "w");
      const p = spawn(t.command[0]!, t.command.slice(1), { stdio: ["ignore", log, log] });
      closeSync(log);
      const stop = () => p.kill("SIGINT");
      o.signal?.addEventListener("abort", stop);
      p.on("exit", (code, sig) => {
        o.signal?.removeEventListener("abort", stop);
        const status = code === 0 ? "completed" : code === 130 || sig === "SIGINT" ? "interrupted" : "failed";
        writeFileSync(join(t.dir, "status.json"), JSON.stringify({ status, ...(status === "failed" ? { error: `exit ${sig ?? code}; see train.log` } : {}) }) + "\n");
        o.onTrialEnd?.(t, status, ++done);
        resolve();
      });
    });
  const lane = async () => {
    while (next < trials.length && !o.signal?.aborted) await runOne(trials[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, trials.length)) }, lane));
}
