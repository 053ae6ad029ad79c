import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Trial } from "../sweep/plan.js";
import { rayEnv, requireRay } from "./paths.js";

export interface TuneSweepOptions {
  /** Cluster address; absent: a local Ray instance. */
  address?: string;
  out: string;
  metric: string;
  mode: "max" | "min";
  /** ASHA early stopping over updates (Tune's training_iteration): stop trials that trail at maxT / 4, / 2, ... */
  asha?: { maxT: number; gracePeriod: number };
  signal?: AbortSignal;
}

/**
 * Runs the trials on Ray Tune (s2r_ray.sweep): one function trainable per
 * trial, each spawning its `s2r train` and streaming its metrics.csv to Tune,
 * one CPU each, with ASHA if asked. Tune's and Ray's messages go to out/tune.log.
 */
export async function runTuneSweep(trials: Trial[], o: TuneSweepOptions): Promise<void> {
  const python = requireRay();
  const planFile = join(o.out, "tune-plan.json");
  writeFileSync(
    planFile,
    JSON.stringify({ address: o.address ?? null, name: "tune", storage: resolve(o.out), metric: o.metric, mode: o.mode, asha: o.asha ?? null, trials: trials.map((t) => ({ name: t.name, dir: resolve(t.dir), command: t.command, totalSteps: t.totalSteps })) }, null, 2),
  );
  const log = openSync(join(o.out, "tune.log"), "a");
  const p = spawn(python, ["-m", "s2r_ray.sweep", planFile], { stdio: ["ignore", log, log], env: rayEnv(), detached: true });
  closeSync(log);
  const stop = () => p.kill("SIGINT");
  o.signal?.addEventListener("abort", stop);
  const code = await new Promise<number>((res, rej) => {
    p.on("error", (e) => rej(new Error(`s2r sweep: cannot run ${python}: ${e.message}`)));
    p.on("exit", (c, sig) => res(c ?? (sig ? 128 : -1)));
  });
  o.signal?.removeEventListener("abort", stop);
  if (code !== 0 && !o.signal?.aborted) throw new Error(`s2r sweep: Ray Tune exited with code ${code}; see ${join(o.out, "tune.log")}`);
}
