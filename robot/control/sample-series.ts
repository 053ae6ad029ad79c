/**
 * A growing series of timing samples with percentiles, for per-cycle loop
 * figures (read / inference / write durations, wake-up jitter). Stored in a
 * typed array that doubles when full, so recording a cycle allocates nothing.
 */
export class SampleSeries {
  private data: Float64Array;
  private n = 0;
  private sortedCache: Float64Array | undefined;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(1, capacity));
  }

  get count(): number {
    return this.n;
  }

  push(x: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = x;
    this.sortedCache = undefined;
  }

  /** The p-th percentile (0..100), nearest-rank; NaN when empty. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    this.sortedCache ??= this.data.slice(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return this.sortedCache[rank]!;
  }

  max(): number {
    return this.n === 0 ? NaN : this.percentile(100);
  }

  mean(): number {
    if (this.n === 0) return NaN;
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.data[i]!;
    return s / this.n;
  }
}

/** p50 / p99 / max of a series, rounded to 0.1 (for reports in µs). */
export function summarize(s: SampleSeries): { p50: number; p99: number; max: number } {
  const r = (x: number) => (Number.isNaN(x) ? NaN : Math.round(x * 10) / 10);
  return { p50: r(s.percentile(50)), p99: r(s.percentile(99)), max: r(s.max()) };
}
