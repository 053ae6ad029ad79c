/**
 * Runs `s2r emulate` as a child process (its own event loop and core, as it
 * would be beside a real deployment) and waits for its ready line. Used by
 * the end-to-end tests and the bus/loop benchmarks; the CLI module is taken
 * from the same build as this file.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface SpawnedEmulator {
  readonly child: ChildProcess;
  readonly link: string;
  /** The ready line, parsed (emulate --json). */
  readonly ready: Record<string, unknown>;
  /** JSON lines printed after the ready line so far (torque changes, fault injections: `{event, atMs, ...}`). */
  events(): Record<string, unknown>[];
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code / signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (clean shutdown) or another signal; resolves on exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const CLI = fileURLToPath(new URL("../../launch/cli.js", import.meta.url));
const RUNNER = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;

/** `args` are emulate's own: e.g. ["furuta", "--link", path, "--seed", "3"]. --json is added. */
export async function spawnEmulator(args: string[], options: { timeoutMs?: number } = {}): Promise<SpawnedEmulator> {
  const linkAt = args.indexOf("--link");
  if (linkAt < 0 || !args[linkAt + 1]) throw new RangeError("spawnEmulator: --link PATH is required");
  const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, "emulate", ...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  const events: Record<string, unknown>[] = [];
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = "";
    let seenReady = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`s2r emulate did not become ready within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (seenReady) {
          if (line.startsWith("{")) events.push(JSON.parse(line) as Record<string, unknown>);
          continue;
        }
        seenReady = true;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`s2r emulate printed an unexpected ready line: ${line}`));
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`s2r emulate exited (${signal ?? code}) before it was ready: ${err.trim()}`));
    });
  });
  return {
    child,
    link: String(ready.link),
    ready,
    events: () => events,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
