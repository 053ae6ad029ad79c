import { arrayOf, bool, ConfigError, int, num, obj, str, type Infer } from "../../common/schema.js";
import type { EpisodeResult } from "../env/contract.js";
import type { AdrParamSourceSpec } from "../env/param-source.js";

/**
 * Automatic domain randomization (OpenAI et al. 2019, "Solving Rubik's Cube
 * with a Robot Hand"), as data: every uniform, per-episode entry of the
 * task's randomization gets a range that starts narrow around its nominal
 * value and moves each boundary on the policy's success *at that boundary*:
 *
 *  - each episode, with probability `boundaryProb`, one entry (chosen
 *    uniformly) and one of its sides is pinned to that side's boundary; the
 *    other ADR entries are drawn uniformly from their current ranges;
 *  - the outcome (task success, 0 or 1) of a pinned episode goes to that
 *    boundary's buffer; once it holds `bufferSize` outcomes, their mean p is
 *    compared with the thresholds: p >= highThreshold widens the boundary by
 *    `step`, p <= lowThreshold narrows it by `step`, and the buffer empties;
 *  - a boundary never goes beyond its hard limit nor past the nominal value.
 *
 * Figures are in units of the task entry's half-range (`step: 0.1` on a
 * +-20 % entry moves a boundary by 2 % of nominal); the ranges themselves are
 * in the parameter table's units. Entries that are not uniform (normal,
 * loguniform, per-step noise) keep the task's own distribution.
 */
export const adrConfigSchema = obj({
  enabled: bool(false),
  /** Probability that an episode pins one boundary (p_b). */
  boundaryProb: num(0.5, { min: 0, max: 1 }),
  /** Outcomes per boundary before a decision (m). */
  bufferSize: int(16, { min: 1 }),
  /** At or below this boundary success rate, the boundary narrows (t_L). */
  lowThreshold: num(0.5, { min: 0, max: 1 }),
  /** At or above this boundary success rate, the boundary widens (t_H). */
  highThreshold: num(0.8, { min: 0, max: 1 }),
  /** Boundary move per decision, in units of the task entry's half-range (delta). */
  step: num(0.1, { min: 0, exclusiveMin: true }),
  /** Initial half-width around nominal, in units of the task entry's half-range (0: nominal only). */
  initial: num(0, { min: 0 }),
  /**
   * Hard limits: the task's range widened about its centre by this factor
   * (1.5 takes +-20 % to +-30 %), never changing the sign of a range that
   * does not cross zero (a latency stays >= 0).
   */
  limit: num(1.5, { min: 0, exclusiveMin: true }),
  /** Targets under ADR (default: every uniform per-episode entry). */
  targets: arrayOf(str(undefined), []),
});

export type AdrConfig = Infer<typeof adrConfigSchema>;

/** One randomized parameter as the task's randomizer draws it (Randomizer.privilegedRanges()), with its distribution. */
export interface AdrEntrySource {
  name: string;
  nominal: number;
  low: number;
  high: number;
  distribution: string;
}

export interface AdrEntryState {
  target: string;
  low: number;
  high: number;
  /** Outcomes (1 success, 0 failure) gathered at each boundary since its last decision. */
  lowBuffer: number[];
  highBuffer: number[];
}

export interface AdrState {
  kind: "adr";
  entries: AdrEntryState[];
}

interface Entry extends AdrEntryState {
  /** Hard limits and the nominal value the range never leaves. */
  minLow: number;
  maxHigh: number;
  nominal: number;
  stepSize: number;
}

export class Adr {
  private readonly entries: Entry[];

  constructor(
    readonly config: AdrConfig,
    sources: readonly AdrEntrySource[],
    path = "adr",
  ) {
    if (config.lowThreshold > config.highThreshold) throw new ConfigError(`${path}.lowThreshold`, `must be <= highThreshold (${config.highThreshold}), got ${config.lowThreshold}`);
    const wanted = config.targets.length ? config.targets : sources.filter((s) => s.distribution === "uniform").map((s) => s.name);
    this.entries = wanted.map((target, i) => {
      const s = sources.find((x) => x.name === target);
      if (!s) throw new ConfigError(`${path}.targets[${i}]`, `${target} is not randomized per episode by the task (randomized: ${sources.map((x) => x.name).join(", ")})`);
      if (s.distribution !== "uniform") throw new ConfigError(`${path}.targets[${i}]`, `${target} is drawn from a ${s.distribution} distribution; ADR moves the boundaries of uniform ranges only`);
      const center = (s.low + s.high) / 2, half = (s.high - s.low) / 2;
      let minLow = center - config.limit * half, maxHigh = center + config.limit * half;
      if (s.low >= 0) minLow = Math.max(0, minLow);
      if (s.high <= 0) maxHigh = Math.min(0, maxHigh);
      // The range grows from the nominal value (clamped into the task's range: a latency of nominal 0 grows upward only).
      const nominal = Math.min(Math.max(s.nominal, s.low), s.high);
      const w = config.initial * half;
      return {
        target, nominal, minLow, maxHigh, stepSize: config.step * half,
        low: Math.max(minLow, Math.min(nominal, nominal - w)),
        high: Math.min(maxHigh, Math.max(nominal, nominal + w)),
        lowBuffer: [], highBuffer: [],
      };
    });
  }

  /** The current ranges, in the parameter table's units. */
  ranges(): { target: string; low: number; high: number }[] {
    return this.entries.map((e) => ({ target: e.target, low: e.low, high: e.high }));
  }

  /** What the environments draw from now (boundary sampling included). */
  paramSource(): AdrParamSourceSpec {
    return { kind: "adr", ranges: this.ranges(), boundaryProb: this.config.boundaryProb };
  }

  /**
   * Takes finished episodes (their `metrics.adrBoundary`: -1 for none, else
   * 2 k for entry k's low side, 2 k + 1 for its high side) and moves the
   * boundaries whose buffers filled. Returns whether any range changed.
   */
  observe(episodes: readonly EpisodeResult[]): boolean {
    let changed = false;
    for (const ep of episodes) {
      const b = ep.metrics.adrBoundary;
      if (b === undefined || b < 0) continue;
      const e = this.entries[b >> 1];
      if (!e) throw new RangeError(`ADR: episode of env ${ep.env} reports boundary ${b}, but there are ${this.entries.length} ADR entries`);
      if (this.record(e, (b & 1) === 1, ep.success ? 1 : 0)) changed = true;
    }
    return changed;
  }

  /** Adds one outcome at a boundary; decides when the buffer is full. Returns whether the range changed. */
  record(e: AdrEntryState | number, high: boolean, outcome: number): boolean {
    const entry = typeof e === "number" ? this.entries[e]! : (e as Entry);
    const buf = high ? entry.highBuffer : entry.lowBuffer;
    buf.push(outcome);
    if (buf.length < this.config.bufferSize) return false;
    const p = buf.reduce((s, x) => s + x, 0) / buf.length;
    buf.length = 0;
    const before = high ? entry.high : entry.low;
    const dir = p >= this.config.highThreshold ? 1 : p <= this.config.lowThreshold ? -1 : 0;
    if (dir === 0) return false;
    if (high) entry.high = Math.min(entry.maxHigh, Math.max(entry.nominal, entry.high + dir * entry.stepSize));
    else entry.low = Math.max(entry.minLow, Math.min(entry.nominal, entry.low - dir * entry.stepSize));
    return (high ? entry.high : entry.low) !== before;
  }

  /** Per entry, how far each boundary reaches from nominal, in units of the hard limit's distance (0 nominal, 1 at the limit). */
  reach(): { target: string; low: number; high: number }[] {
    return this.entries.map((e) => ({
      target: e.target,
      low: e.nominal > e.minLow ? (e.nominal - e.low) / (e.nominal - e.minLow) : 1,
      high: e.maxHigh > e.nominal ? (e.high - e.nominal) / (e.maxHigh - e.nominal) : 1,
    }));
  }

  getState(): AdrState {
    return { kind: "adr", entries: this.entries.map((e) => ({ target: e.target, low: e.low, high: e.high, lowBuffer: [...e.lowBuffer], highBuffer: [...e.highBuffer] })) };
  }

  /** Restores ranges and buffers; the entries must be the ones this config puts under ADR, and the ranges within their limits. */
  setState(state: unknown, where = "adr"): void {
    const s = state as AdrState;
    if (!s || typeof s !== "object" || s.kind !== "adr" || !Array.isArray(s.entries)) throw new ConfigError(where, 'expected {"kind": "adr", "entries": [...]}');
    if (s.entries.length !== this.entries.length) throw new ConfigError(`${where}.entries`, `holds ${s.entries.length} entries, this config puts ${this.entries.length} under ADR`);
    const decoded = s.entries.map((x, i) => {
      const e = this.entries[i]!, p = `${where}.entries[${i}]`;
      if (x?.target !== e.target) throw new ConfigError(`${p}.target`, `expected ${e.target}, got ${JSON.stringify(x?.target)}`);
      for (const k of ["low", "high"] as const) if (typeof x[k] !== "number" || !Number.isFinite(x[k])) throw new ConfigError(`${p}.${k}`, `expected a number, got ${JSON.stringify(x[k])}`);
      const tol = 1e-9 * Math.max(1, Math.abs(e.maxHigh), Math.abs(e.minLow));
      if (x.low < e.minLow - tol || x.low > e.nominal + tol) throw new ConfigError(`${p}.low`, `expected a number in [${e.minLow}, ${e.nominal}], got ${x.low}`);
      if (x.high > e.maxHigh + tol || x.high < e.nominal - tol) throw new ConfigError(`${p}.high`, `expected a number in [${e.nominal}, ${e.maxHigh}], got ${x.high}`);
      for (const k of ["lowBuffer", "highBuffer"] as const) {
        if (!Array.isArray(x[k]) || x[k].some((v) => v !== 0 && v !== 1)) throw new ConfigError(`${p}.${k}`, "expected an array of 0 and 1");
      }
      return x;
    });
    decoded.forEach((x, i) => {
      const e = this.entries[i]!;
      e.low = x.low;
      e.high = x.high;
      e.lowBuffer = [...x.lowBuffer];
      e.highBuffer = [...x.highBuffer];
    });
  }
}
