/**
 * Soak: the shipped Furuta policy deployed against `s2r emulate` over a
 * pseudo-terminal, episode after episode in one deploy session, for
 * `--minutes` minutes (default 60; quick 2). In this process, as `s2r deploy`
 * runs it (runDeploySession, warmed policy, one session log), so the memory
 * sampled is the deploy's own: RSS, V8 heap used, and the WebAssembly
 * memories instantiated after the bench started (the policy core's kernel).
 *
 * Reports, after a warm-up (the first 20 % of the run, at least one minute):
 * the growth per minute of each (least-squares slope over the per-minute
 * samples), loop tick jitter p99 and read+infer+write p99 in the first and
 * last 10 minutes (the first and last third for runs under 30 minutes), and
 * whether every episode the session ran is in the log (its "episode N
 * started" and "episode N: ..." events, read back with readSessionLog).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../common/paths.js";

/**
 * Live WebAssembly memories created from here on (the policy core's arenas
 * make theirs with `new WebAssembly.Memory`): held weakly, so a disposed and
 * collected arena stops counting, and a leaked one keeps counting.
 */
function trackWasmMemories(): () => number {
  const live: WeakRef<WebAssembly.Memory>[] = [];
  const Original = WebAssembly.Memory;
  class Tracked extends Original {
    constructor(descriptor: WebAssembly.MemoryDescriptor) {
      super(descriptor);
      live.push(new WeakRef(this));
    }
  }
  (WebAssembly as { Memory: unknown }).Memory = Tracked;
  return () => live.reduce((n, r) => n + (r.deref()?.buffer.byteLength ?? 0), 0);
}

export interface SoakSample {
  minute: number;
  rssMiB: number;
  heapUsedMiB: number;
  wasmMiB: number;
  episodes: number;
}

/** Least-squares slope of y over x (units of y per unit of x); 0 for fewer than 2 points. */
export function slope(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/** The p-th percentile (0..100) of the values by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const MiB = 1024 * 1024;
const round = (v: number, d = 3) => Number(v.toFixed(d));

export async function benchSoak(o: { quick: boolean; minutes?: number; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const minutes = o.minutes ?? (o.quick ? 2 : 60);
  if (!(minutes >= 1)) throw new RangeError(`bench soak: --minutes must be >= 1, got ${minutes}`);
  const { spawnEmulator } = await import("../robot/emulator/spawn-emulator.js");
  const { loadRigConfig } = await import("../robot/rigs/rig-config.js");
  const { readManifest, verifyManifestAgainstOnnx } = await import("../policies/manifest.js");
  const { bindPolicyToRig } = await import("../robot/control/policy-binding.js");
  const { loadLoopPolicy } = await import("../policies/runtime/loop-policy.js");
  const { DynamixelRig } = await import("../robot/rigs/dynamixel-rig.js");
  const { SessionLog } = await import("../robot/log/session-log.js");
  const { runDeploySession } = await import("../robot/control/deploy-session.js");
  const { readSessionLog } = await import("../robot/log/read-session-log.js");
  const { readJsonFile } = await import("../common/json-file.js");

  const wasmBytes = trackWasmMemories();
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-soak-"));
  const link = join(dir, "ttyFURUTA");
  // Encoder zeros revealed: the soak measures the deploy path, not calibration accuracy.
  const emu = await spawnEmulator(["furuta", "--link", link, "--seed", "3", "--reveal"]);
  const rig = loadRigConfig("furuta");
  const onnxPath = projectPath("policies", "pretrained", "furuta", "policy.onnx");
  const manifestPath = projectPath("policies", "pretrained", "furuta", "policy.json");
  const manifest = readManifest(manifestPath);
  verifyManifestAgainstOnnx(manifest, onnxPath);
  const exported = readJsonFile(projectPath("policies", "pretrained", "furuta", "config.json"), { defaultValue: undefined, parse: (v) => v }) as { task?: unknown } | undefined;
  const binding = bindPolicyToRig(manifest, rig, { taskConfig: exported?.task });
  const zero = (emu.ready as { zeroCounts?: Record<string, number> }).zeroCounts;
  if (!zero) {
    await emu.stop();
    throw new Error("the emulator did not reveal its encoder zeros");
  }
  const calibration = { schema: 1, rig: rig.name, joints: Object.fromEntries(Object.entries(zero).map(([j, z]) => [j, { zeroCounts: z, direction: 1 as const }])) };
  writeFileSync(join(dir, "calib.json"), JSON.stringify(calibration));
  const loaded = await loadLoopPolicy(onnxPath, manifestPath, "auto");
  const hw = await DynamixelRig.open(emu.link, rig, calibration);
  o.log(`${minutes} min of deploy episodes (${binding.taskConfig.episodeSeconds} s each at ${(1 / binding.periodSec).toFixed(0)} Hz), policy on ${loaded.why}; logs in ${dir}`);

  const started = performance.now();
  const samples: SoakSample[] = [];
  const episodes: { minute: number; session: number; episode: number; jitterP99: number; cycleP99: number; success: boolean; reason: string }[] = [];
  const sessions: { file: string; end: string; episodes: number }[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    const s: SoakSample = { minute: round((performance.now() - started) / 60000, 2), rssMiB: round(m.rss / MiB), heapUsedMiB: round(m.heapUsed / MiB), wasmMiB: round(wasmBytes() / MiB), episodes: episodes.length };
    samples.push(s);
    o.log(`minute ${s.minute.toFixed(1)}/${minutes}: ${s.episodes} episodes, RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapUsedMiB.toFixed(1)} MiB, wasm ${s.wasmMiB.toFixed(1)} MiB`);
  };
  sample();
  const sampler = setInterval(sample, 60_000);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), minutes * 60_000);
  try {
    // A session the stack stops (a late-cycle storm on a loaded machine, say) is counted and a new one started, as an operator would.
    let barren = 0;
    while (!stop.signal.aborted) {
      const n = sessions.length + 1;
      const file = join(dir, `soak-${n}.mcap`);
      const log = SessionLog.create(file, { session: "deploy", metadata: { bench: "soak", minutes: String(minutes), session_number: String(n), policy_runtime: loaded.why } });
      const before = episodes.length;
      const result = await runDeploySession({
        hardware: hw,
        policy: loaded.policy,
        binding,
        rig,
        log,
        // Far more than fit: the timer ends the session between or within episodes.
        episodes: 1_000_000,
        episodeSeconds: binding.taskConfig.episodeSeconds,
        signal: stop.signal,
        onEpisode: (r) => {
          const t = r.timingMicros;
          episodes.push({ minute: (performance.now() - started) / 60000, session: n, episode: r.episode, jitterP99: t.jitter.p99, cycleP99: t.read.p99 + t.infer.p99 + t.write.p99, success: r.success, reason: r.reason });
        },
      });
      sessions.push({ file, end: `${result.reason}: ${result.message}`, episodes: episodes.length - before });
      if (result.reason !== "interrupted") o.log(`session ${n} stopped (${result.reason}): ${result.message}; starting another`);
      barren = episodes.length === before ? barren + 1 : 0;
      if (barren >= 3) throw new Error(`three deploy sessions in a row ran no episode; the last: ${result.reason}: ${result.message}`);
    }
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
    sample();
    loaded.policy.dispose();
    await hw.close();
    await emu.stop();
  }

  // Every episode the sessions ran must be in their logs: its start and its outcome.
  const missing: string[] = [];
  let closedCleanly = 0;
  for (const [i, s] of sessions.entries()) {
    const begun = new Set<number>();
    const ended = new Set<number>();
    const contents = await readSessionLog(s.file, {
      topics: ["/events"],
      onMessage: (m) => {
        const msg = String(m.decode().msg);
        const b = /^episode (\d+) started$/.exec(msg);
        if (b) begun.add(Number(b[1]));
        const e = /^episode (\d+): (success|no success) /.exec(msg);
        if (e) ended.add(Number(e[1]));
      },
    });
    if (contents.closedCleanly) closedCleanly++;
    for (const e of episodes.filter((x) => x.session === i + 1)) if (!begun.has(e.episode) || !ended.has(e.episode)) missing.push(`session ${i + 1} episode ${e.episode}`);
  }

  const warmup = Math.max(1, minutes * 0.2);
  const after = samples.filter((s) => s.minute >= warmup);
  const growth = (k: "rssMiB" | "heapUsedMiB" | "wasmMiB") => round(slope(after.map((s) => s.minute), after.map((s) => s[k])), 4);
  const window = minutes >= 30 ? 10 : minutes / 3;
  const first = episodes.filter((e) => e.minute <= window);
  const last = episodes.filter((e) => e.minute >= minutes - window);
  // Per-episode p99s pooled by window: the window's p99 is the 99th percentile of its episodes' p99s.
  const p99 = (list: typeof episodes, k: "jitterP99" | "cycleP99") => percentile(list.map((e) => e[k]), 99);
  const out: Record<string, unknown> = {
    minutes,
    episodes: episodes.length,
    successes: episodes.filter((e) => e.success).length,
    sessions: sessions.length,
    sessionEnds: sessions.map((x) => `${x.episodes} episodes, ${x.end}`),
    warmupMinutes: round(warmup, 2),
    rssMiBStart: after[0]?.rssMiB,
    rssMiBEnd: samples.at(-1)?.rssMiB,
    rssGrowthMiBPerMin: growth("rssMiB"),
    heapGrowthMiBPerMin: growth("heapUsedMiB"),
    wasmMiBEnd: samples.at(-1)?.wasmMiB,
    wasmGrowthMiBPerMin: growth("wasmMiB"),
    windowMinutes: round(window, 2),
    jitterP99MicrosFirst: p99(first, "jitterP99"),
    jitterP99MicrosLast: p99(last, "jitterP99"),
    cycleP99MicrosFirst: p99(first, "cycleP99"),
    cycleP99MicrosLast: p99(last, "cycleP99"),
    episodesInLog: episodes.length - missing.length,
    missingFromLog: missing,
    logsClosedCleanly: `${closedCleanly}/${sessions.length}`,
    samples,
    logs: dir,
  };
  return out;
}
