/**
 * What logging camera frames costs a 100 Hz control loop (`s2r bench log
 * --images`): a paced loop logs its joint state, command and timing plus one
 * camera frame per cycle (a 100 fps camera: the worst case), raw
 * (sensor_msgs/Image) or PNG (sensor_msgs/CompressedImage), at 96 x 96 and
 * 320 x 240 rgb8. Measured is what the loop sees: the time of all its logging
 * calls per cycle, chunk seals included (they happen inside those calls),
 * against the same loop without a camera measured in the same run. PNG
 * frames are encoded on CameraLog's worker thread, so the cycle pays a copy.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { CameraLog } from "./camera-log.js";
import { SessionLog } from "./session-log.js";

const RATE_HZ = 100;
const PERIOD_MS = 1000 / RATE_HZ;

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A moving test card, so PNG has realistic work (not a flat frame). */
function frameAt(w: number, h: number, i: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      d[o] = (x * 255) / w;
      d[o + 1] = (y * 255) / h;
      d[o + 2] = ((x + i) >> 3) & 1 ? 200 : 40;
    }
  return d;
}

/** `compressed` undefined: the same loop without a camera, the reference. */
async function runCase(dir: string, w: number, h: number, compressed: "none" | "png" | undefined, seconds: number) {
  const file = join(dir, `img-${w}x${h}-${compressed ?? "no-camera"}.mcap`);
  const log = SessionLog.create(file, { session: "deploy", closeOnExit: false });
  const cam = compressed === undefined ? undefined : new CameraLog(log, { compressed });
  const frames = [0, 1, 2, 3].map((i) => ({ width: w, height: h, encoding: "rgb8", step: w * 3, data: frameAt(w, h, i * 8) }));
  const cycles = Math.round(seconds * RATE_HZ);
  const perCycle = new Float64Array(cycles);
  const perFrame = new Float64Array(cycles);
  const start = performance.now();
  for (let i = 0; i < cycles; i++) {
    const a = performance.now();
    log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [0.1, 3], velocity: [0, 0], effort: [] });
    log.command([1.5]);
    const f0 = performance.now();
    cam?.frame(frames[i % 4]!);
    const f1 = performance.now();
    log.timing({ cycle: i, periodMs: PERIOD_MS, targetPeriodMs: PERIOD_MS, readMs: 0.4, inferMs: 0.2, writeMs: 0.1, deadlineMissed: false });
    perCycle[i] = performance.now() - a;
    perFrame[i] = f1 - f0;
    // Paced like the loop, so seals fall every 0.5 s of wall time and the background writes run between cycles.
    const next = start + (i + 1) * PERIOD_MS;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await cam?.close();
  await log.close();
  const bytes = statSync(file).size;
  const warm = Math.min(20, cycles >> 2);
  const c = perCycle.slice(warm).sort();
  const f = perFrame.slice(warm).sort();
  return {
    frame_ms_p50: +percentile(f, 0.5).toFixed(3),
    cycle_ms_p50: +percentile(c, 0.5).toFixed(3),
    cycle_ms_p99: +percentile(c, 0.99).toFixed(3),
    cycle_ms_max: +c[c.length - 1]!.toFixed(3),
    /** Cycles whose logging alone took more than half the period. */
    cycles_over_half_period: c.filter((x) => x > PERIOD_MS / 2).length,
    mbytes_per_second: +(bytes / seconds / 1e6).toFixed(2),
  };
}

export async function benchImageLog(o: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number>> {
  const seconds = o.quick ? 1.5 : 6;
  const dir = mkdtempSync(join(tmpdir(), "s2r-image-log-bench-"));
  const out: Record<string, number> = { rate_hz: RATE_HZ, seconds_per_case: seconds };
  try {
    const base = await runCase(dir, 1, 1, undefined, seconds);
    o.log(`no camera (reference): ${JSON.stringify(base)}`);
    for (const [k, v] of Object.entries(base)) if (!k.startsWith("frame")) out[`no_camera_${k}`] = v;
    for (const [w, h] of [
      [96, 96],
      [320, 240],
    ] as const) {
      for (const mode of ["none", "png"] as const) {
        const key = `rgb${w}x${h}_${mode === "none" ? "raw" : "png"}`;
        const r = await runCase(dir, w, h, mode, seconds);
        o.log(`${key}: ${JSON.stringify(r)}`);
        for (const [k, v] of Object.entries(r)) out[`${key}_${k}`] = v;
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
