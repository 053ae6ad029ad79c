import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { rayEnv, requireRay } from "./paths.js";

/**
 * A Ray cluster of `nodes` nodes with `cpus` CPUs each on this machine, on
 * 127.0.0.1 (ray.cluster_utils.Cluster, run by s2r_ray.cluster): what the
 * tests and `s2r bench ray` use to stand for several machines.
 */
export class LocalRayCluster {
  private constructor(
    readonly address: string,
    private readonly proc: ChildProcess,
  ) {}

  static async start(o: { nodes: number; cpus: number; logFile?: string; timeoutMs?: number }): Promise<LocalRayCluster> {
    const python = requireRay();
    const proc = spawn(python, ["-m", "s2r_ray.cluster", "--nodes", String(o.nodes), "--cpus", String(o.cpus)], { stdio: ["pipe", "pipe", "pipe"], env: rayEnv(), detached: true });
    const errLines: string[] = [];
    proc.stderr!.on("data", (d: Buffer) => {
      errLines.push(d.toString());
      if (errLines.length > 200) errLines.shift();
    });
    const timeoutMs = o.timeoutMs ?? 180_000;
    const address = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`local Ray cluster: not up within ${timeoutMs / 1000} s:\n${errLines.join("").slice(-2000)}`)), timeoutMs);
      createInterface({ input: proc.stdout! }).once("line", (l) => {
        clearTimeout(t);
        resolve((JSON.parse(l) as { address: string }).address);
      });
      proc.once("exit", (code) => {
        clearTimeout(t);
        reject(new Error(`local Ray cluster exited (code ${code}) before it was up:\n${errLines.join("").slice(-2000)}`));
      });
    });
    return new LocalRayCluster(address, proc);
  }

  /** Shuts every node down (the helper does on stdin's end). */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const gone = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc.kill("SIGTERM"), 30_000);
    await gone;
    clearTimeout(t);
  }
}
