/**
 * Axis ticks at round numbers (1, 2 or 5 times a power of ten) and labels
 * that print them exactly, without floating-point residue like 0.30000000000000004.
 */

export interface Ticks {
  /** The axis range, widened to whole steps. */
  lo: number;
  hi: number;
  step: number;
  values: number[];
  labels: string[];
}

/** A round step giving about `target` intervals over `span` (between ~0.7x and ~1.5x as many). */
export function niceStep(span: number, target: number): number {
  const rough = span / Math.max(1, target);
  const exp = Math.floor(Math.log10(rough));
  const f = rough / 10 ** exp;
  // Nearest of 1, 2, 5, 10 (thresholds between them), so the count lands near the target either way.
  const nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return Number((nf * 10 ** exp).toPrecision(12));
}

/** Ticks covering [min, max] (which may be equal, or not finite when there is no data). */
export function niceTicks(min: number, max: number, target = 5): Ticks {
  let lo = min;
  let hi = max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  } else if (lo > hi) [lo, hi] = [hi, lo];
  const step = niceStep(hi - lo, target);
  const k0 = Math.floor(lo / step + 1e-9);
  const k1 = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = k0; k <= k1; k++) values.push(clean(k * step, step));
  const labels = formatTicks(values, step);
  return { lo: values[0]!, hi: values[values.length - 1]!, step, values, labels };
}

function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

function clean(v: number, step: number): number {
  const r = Number(v.toFixed(Math.min(20, decimalsOf(step))));
  return r === 0 ? 0 : r; // no "-0"
}

/** Labels for values that are multiples of `step`; exponent form for very large or small magnitudes. */
export function formatTicks(values: number[], step: number): string[] {
  const maxAbs = Math.max(...values.map(Math.abs));
  if (maxAbs >= 1e6 || step < 1e-4) {
    // Mantissa digits enough to tell neighbouring ticks apart.
    const mag = Math.floor(Math.log10(maxAbs || step));
    const digits = Math.max(0, mag - Math.floor(Math.log10(step) + 1e-9));
    return values.map((v) => (v === 0 ? "0" : v.toExponential(Math.min(20, digits)).replace("e+", "e")));
  }
  const d = decimalsOf(step);
  return values.map((v) => v.toFixed(d));
}
