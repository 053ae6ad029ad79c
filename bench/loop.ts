/**
 * The control loop in real time: 200 Hz for 60 s (quick: 5 s) with an ONNX
 * policy (random weights, GRU-64 actor + OSI head, shaped like a trained
 * UP-OSI policy) against `s2r emulate` over a pseudo-terminal, logging every
 * cycle to a session log, exactly as `s2r deploy` runs an episode.
 * Jitter is how late each tick woke (PeriodicTimer); a deadline miss is a
 * cycle whose write finished more than a period after its tick.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest } from "../policies/manifest.js";
import { OnnxPolicy } from "../policies/runtime/onnx-policy.js";
import { runControlLoop } from "../robot/control/control-loop.js";
import { bindPolicyToRig } from "../robot/control/policy-binding.js";
import { writeRandomPolicy } from "../robot/control/random-policy.js";
import { rigSafetyLayer } from "../robot/control/rig-safety.js";
import { warmingTimer } from "../robot/control/warm-policy.js";
import { spawnEmulator } from "../robot/emulator/spawn-emulator.js";
import { SessionLog } from "../robot/log/session-log.js";
import { DynamixelRig } from "../robot/rigs/dynamixel-rig.js";
import { loadRigConfig } from "../robot/rigs/rig-config.js";
import { DEFAULT_RT_PRIORITY, releaseRealtimePriority, requestRealtimePriority } from "../robot/realtime.js";
import { UNLIMITED_DEADLINES } from "../robot/control/deadline-policy.js";

const RATE_HZ = 200;

export async function benchLoop(o: { quick: boolean; log?: (line: string) => void } = { quick: false }): Promise<Record<string, number>> {
  const log = o.log ?? (() => {});
  const seconds = o.quick ? 5 : 60;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-loop-"));
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "bus")]).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  let policy: OnnxPolicy | undefined;
  try {
    // A benchmark measures the tail instead of stopping on it: answers may take up to 1 s (each late one is a counted miss).
    const base = loadRigConfig("furuta");
    const rig = { ...base, bus: { ...base.bus, timeoutMs: 1000, retries: 0 } };
    const files = writeRandomPolicy(dir, { task: rig.task, seed: 1, controlPeriodSec: 1 / RATE_HZ });
    const binding = bindPolicyToRig(readManifest(files.manifestPath), rig);
    policy = await OnnxPolicy.load(files.onnxPath, files.manifestPath);
    const calibration = { schema: 1, rig: rig.name, joints: Object.fromEntries(rig.devices.map((d) => [d.joint, { zeroCounts: 0, direction: 1 as const }])) };
    const hw = await DynamixelRig.open(emu.link, rig, calibration);
    // As s2r deploy does (and s2r emulate for itself and its pty relay): the loop's thread under SCHED_FIFO when permitted.
    const realtime = requestRealtimePriority(DEFAULT_RT_PRIORITY);
    const session = SessionLog.create(join(dir, "loop.mcap"), { session: "deploy", metadata: { bench: "loop" } });
    log(`${seconds} s at ${RATE_HZ} Hz, random-weight GRU-64 + OSI policy, logging every cycle; loop ${realtime.scheduling}, emulator ${String(emu.ready.scheduling)}${realtime.problem ? ` (${realtime.problem})` : ""}`);
    await hw.activate();
    const r = await runControlLoop({
      hardware: hw,
      policy,
      observation: binding.observation,
      actions: binding.actions,
      safety: rigSafetyLayer(rig, hw.jointNames, hw.commandNames),
      log: session,
      periodSec: binding.periodSec,
      maxCycles: seconds * RATE_HZ,
      // Count every miss; do not stop on them.
      deadlines: UNLIMITED_DEADLINES,
      osi: binding.osi,
      // Warmed before each tick, as deploy does.
      ticker: warmingTimer(binding.periodSec, policy),
    });
    await session.close();
    await hw.close();
    if (r.fault) throw new Error(`the loop stopped early (${r.reason}) after ${r.cycles} cycles: ${r.message}${emu.stderr() ? `; emulator: ${emu.stderr().trim()}` : ""}`);
    const t = r.timingMicros;
    return {
      periodJitterP50Micros: t.jitter.p50,
      periodJitterP99Micros: t.jitter.p99,
      periodJitterMaxMicros: t.jitter.max,
      deadlineMisses: r.deadlineMisses,
      cycles: r.cycles,
      rateHz: RATE_HZ,
      realtime: realtime.granted ? 1 : 0,
      periodP99Micros: t.period.p99,
      readP50Micros: t.read.p50,
      readP99Micros: t.read.p99,
      readMaxMicros: t.read.max,
      inferP50Micros: t.infer.p50,
      inferP99Micros: t.infer.p99,
      inferMaxMicros: t.infer.max,
      writeP50Micros: t.write.p50,
      writeP99Micros: t.write.p99,
      writeMaxMicros: t.write.max,
    };
  } finally {
    releaseRealtimePriority();
    policy?.dispose();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
