/**
 * Reply delays of a real bus, for the emulator: a USB serial adapter answers
 * a Sync Read in about a millisecond most of the time, a few milliseconds at
 * the 99th percentile, and now and then 10-15 ms (an FTDI adapter's latency
 * timer, a kernel thread waiting for a busy core). Tests and benchmarks that
 * only ever see the emulator's prompt pipe would never meet those tails.
 *
 * The shape is given by three figures, `p50=1ms,p99=5ms,max=15ms`: delays are
 * log-normal with that median and 99th percentile, cut at `max`; on top, a
 * fraction `stall` of the replies (default 0.2 %) are stalls drawn uniformly
 * between p99 and max. Seeded: the same seed gives the same delays.
 *
 * Also a config file (`--bus-latency FILE.json`):
 *   {"p50Ms": 1, "p99Ms": 5, "maxMs": 15, "stall": 0.002}
 */
import { readJsonFile } from "../../common/json-file.js";
import { Rng } from "../../common/rng.js";
import { ConfigError, num, obj, type Infer } from "../../common/schema.js";

export const busLatencySchema = obj({
  p50Ms: num(undefined, { min: 0, exclusiveMin: true }),
  p99Ms: num(undefined, { min: 0, exclusiveMin: true }),
  maxMs: num(undefined, { min: 0, exclusiveMin: true }),
  /** Fraction of replies that stall (uniform between p99 and max). */
  stall: num(0.002, { min: 0, max: 1 }),
});

export type BusLatencySpec = Infer<typeof busLatencySchema>;

/** z of the 99th percentile of a standard normal. */
const Z99 = 2.3263478740408408;

function checkSpec(s: BusLatencySpec, path: string, file?: string): BusLatencySpec {
  if (!(s.p99Ms >= s.p50Ms)) throw new ConfigError(`${path}p99`, `must be >= p50 (${s.p50Ms} ms), got ${s.p99Ms} ms`, file);
  if (!(s.maxMs >= s.p99Ms)) throw new ConfigError(`${path}max`, `must be >= p99 (${s.p99Ms} ms), got ${s.maxMs} ms`, file);
  return s;
}

/** "p50=1ms,p99=5ms,max=15ms[,stall=0.002]" (units ms or us; ms when none), or the path of a .json config. */
export function parseBusLatency(text: string): BusLatencySpec {
  if (text.endsWith(".json")) {
    const s = readJsonFile(text, busLatencySchema);
    return checkSpec(s, "", text);
  }
  const fields: Record<string, number> = {};
  for (const part of text.split(",")) {
    const m = /^\s*(p50|p99|max|stall)\s*=\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*(ms|us|µs)?\s*$/i.exec(part);
    if (!m) throw new ConfigError("bus-latency", `cannot read ${JSON.stringify(part)}: expected p50=1ms,p99=5ms,max=15ms (optionally stall=0.002), or a .json file`);
    const key = m[1]!.toLowerCase();
    if (key in fields || `${key}Ms` in fields) throw new ConfigError(`bus-latency.${key}`, "given twice");
    const value = Number(m[2]);
    if (key === "stall") {
      if (m[3]) throw new ConfigError("bus-latency.stall", "is a fraction of the replies, without a unit");
      fields.stall = value;
    } else fields[`${key}Ms`] = m[3] && m[3].toLowerCase() !== "ms" ? value / 1000 : value;
  }
  for (const k of ["p50", "p99", "max"]) if (!(`${k}Ms` in fields)) throw new ConfigError(`bus-latency.${k}`, "required (e.g. p50=1ms,p99=5ms,max=15ms)");
  return checkSpec(busLatencySchema.parse(fields, "bus-latency"), "bus-latency.");
}

/** Draws reply delays of the given shape, in ms. */
export class BusLatency {
  private readonly mu: number;
  private readonly sigma: number;
  private readonly rng: Rng;

  constructor(
    readonly spec: BusLatencySpec,
    seed: number,
  ) {
    this.mu = Math.log(spec.p50Ms);
    this.sigma = Math.log(spec.p99Ms / spec.p50Ms) / Z99;
    this.rng = Rng.derive(seed, 0x1a7e);
  }

  /** The next reply's delay, ms. */
  nextMs(): number {
    const s = this.spec;
    if (this.rng.next() < s.stall) return this.rng.uniform(s.p99Ms, s.maxMs);
    return Math.min(s.maxMs, Math.exp(this.mu + this.sigma * this.rng.normal()));
  }

  describe(): string {
    const s = this.spec;
    return `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms, ${(100 * s.stall).toFixed(2)} % stalls`;
  }
}
