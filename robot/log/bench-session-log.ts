/**
 * What logging costs a control loop: time per logged message on each standard
 * channel (CDR encode + copy into the open chunk), the synchronous part of
 * sealing a chunk (what the flush timer takes from the loop), and the file
 * size per second for a 500 Hz Furuta deployment. Run through `s2r bench`.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SessionLog } from "./session-log.js";

const RATE_HZ = 500;

function stats(samples: number[]): { mean: number; p99: number } {
  const s = Float64Array.from(samples).sort();
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { mean, p99: s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]! };
}

export async function benchSessionLog(o: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number>> {
  const seconds = o.quick ? 2 : 20;
  const cycles = seconds * RATE_HZ;
  const cyclesPerChunk = RATE_HZ / 2; // the default 0.5 s flush interval
  const dir = mkdtempSync(join(tmpdir(), "s2r-log-bench-"));
  const file = join(dir, "bench.mcap");
  o.log(`${cycles} cycles of a ${RATE_HZ} Hz Furuta loop (${seconds} s of data), sealed every ${cyclesPerChunk} cycles; timing only the logging calls`);
  try {
    // Logged time advances as in a real 500 Hz loop; the calls themselves run back to back.
    let t = BigInt(Date.now()) * 1_000_000n;
    const log = SessionLog.create(file, { session: "deploy", metadata: { bench: "session-log" }, closeOnExit: false, flushIntervalMs: 1000 });
    const names = ["arm_joint", "pendulum_joint"];
    const osiNames = ["Lr", "mr", "Jr", "Dr", "Lp", "mp"];
    const obs = new Float64Array(6);
    const per = { jointState: [] as number[], command: [] as number[], policy: [] as number[], timing: [] as number[] };
    const seal: number[] = [];
    for (let i = 0; i < cycles; i++) {
      t += 2_000_000n;
      obs[0] = Math.sin(i * 0.01);
      let a = performance.now();
      log.jointState({ name: names, position: [obs[0], 0.1], velocity: [0.2, 0.3], effort: [0.01] }, t);
      let b = performance.now();
      per.jointState.push((b - a) * 1000);
      a = b;
      log.command([1.5], t);
      b = performance.now();
      per.command.push((b - a) * 1000);
      a = b;
      log.policy({ observation: obs, action: [0.3], value: 1.2, osiNames, osiEstimate: [0.085, 0.095, 2.3e-4, 5e-4, 0.129, 0.024] }, t);
      b = performance.now();
      per.policy.push((b - a) * 1000);
      a = b;
      log.timing({ cycle: i, periodMs: 2, targetPeriodMs: 2, readMs: 0.4, inferMs: 0.2, writeMs: 0.1, deadlineMissed: false }, t);
      b = performance.now();
      per.timing.push((b - a) * 1000);
      if ((i + 1) % cyclesPerChunk === 0) {
        a = performance.now();
        const done = log.flush();
        seal.push(performance.now() - a);
        await done;
      }
    }
    const closeStart = performance.now();
    await log.close();
    const closeMs = performance.now() - closeStart;
    const bytes = statSync(file).size;
    const r: Record<string, number> = {};
    for (const [k, v] of Object.entries(per)) {
      const s = stats(v.slice(Math.min(200, v.length >> 2))); // skip JIT warm-up
      r[`${k}_us_mean`] = +s.mean.toFixed(2);
      r[`${k}_us_p99`] = +s.p99.toFixed(2);
    }
    o.log(`seal ms: ${seal.map((x) => x.toFixed(2)).join(" ")}`);
    const ss = stats(seal);
    r.seal_ms_mean = +ss.mean.toFixed(3);
    r.seal_ms_p99 = +ss.p99.toFixed(3);
    r.close_ms = +closeMs.toFixed(2);
    r.bytes_per_second_500hz = Math.round(bytes / seconds);
    r.bytes_per_cycle = Math.round(bytes / cycles);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
