/**
 * `s2r emulate` as a child process for the ROS 2 tests: started through the
 * CLI module (as `npx s2r` runs it), its output collected, its ready line
 * awaited.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../launch/cli.js", import.meta.url));
const RUNNER = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;

export function spawnEmulator(args: readonly string[]) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, "emulate", ...args], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    /** The ready line (JSON with --json), within `timeoutMs`; throws with the emulator's stderr otherwise. */
    async ready(timeoutMs = 30000): Promise<Record<string, unknown>> {
      const t0 = performance.now();
      while (!out.includes("\n")) {
        if (performance.now() - t0 > timeoutMs || child.exitCode !== null) throw new Error(`s2r emulate: no ready line within ${timeoutMs} ms: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return JSON.parse(out.split("\n")[0]!);
    },
  };
}
