import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectPath } from "../common/paths.js";
import { spawnEmulator } from "../robot/emulator/spawn-emulator.js";

const CLI = fileURLToPath(new URL("../launch/cli.js", import.meta.url));

/**
 * End to end, in real time: the shipped Furuta policy deployed with
 * `s2r deploy` over a pseudo-terminal to `s2r emulate` whose parameters are
 * drawn (hidden) from the rig page's ranges. The emulator is told to reveal
 * its encoder zeros so the run does not depend on calibration accuracy (the
 * calibration benchmark measures that separately).
 */
export async function benchDeploy(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, number>> {
  const episodes = o.quick ? 2 : 10;
  const seed = 3;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-deploy-"));
  const link = join(dir, "ttyFURUTA");
  const emu = await spawnEmulator(["furuta", "--link", link, "--seed", String(seed), "--reveal"]);
  try {
    const zero = (emu.ready as { zeroCounts?: Record<string, number> }).zeroCounts;
    if (!zero) throw new Error("the emulator did not reveal its encoder zeros");
    const calib = join(dir, "calib.json");
    writeFileSync(calib, JSON.stringify({ schema: 1, rig: "furuta", method: "emulator reveal (benchmark)", joints: Object.fromEntries(Object.entries(zero).map(([j, z]) => [j, { zeroCounts: z }])) }));
    const policy = projectPath("policies", "pretrained", "furuta", "policy.onnx");
    const args = ["--input-type=module", "-e", `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`,
      "deploy", "--policy", policy, "--rig", "furuta", "--port", link, "--calibration", calib, "--episodes", String(episodes), "--json", "--log", join(dir, "deploy.mcap")];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => o.log(d.trim()));
      child.on("error", reject);
      child.on("exit", () => resolve(text));
    });
    const results = out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { success: boolean; deadlineMisses: number; metrics?: { stopContact?: number } });
    return {
      episodes: results.length,
      successes: results.filter((r) => r.success).length,
      stopContacts: results.filter((r) => r.metrics?.stopContact).length,
      deadlineMisses: results.reduce((n, r) => n + (r.deadlineMisses ?? 0), 0),
      emulatorSeed: seed,
    };
  } finally {
    await emu.stop();
  }
}
