/**
 * Reduces a long series to what a plot of a given width can show, keeping
 * its visual envelope: each bucket of consecutive points contributes its
 * first, lowest, highest and last point (in their original order), so spikes
 * survive. Non-finite points split the series into separately drawn runs
 * (gaps in the plot).
 */

/** Consecutive finite points; each run is drawn as one polyline. */
export interface Run {
  x: number[];
  y: number[];
}

export function finiteRuns(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number): Run[] {
  const n = Math.min(x.length, y.length);
  const bucket = Math.max(1, Math.ceil((n * 4) / Math.max(4, maxPoints)));
  const runs: Run[] = [];
  let i = 0;
  while (i < n) {
    while (i < n && !(Number.isFinite(x[i]!) && Number.isFinite(y[i]!))) i++;
    const start = i;
    while (i < n && Number.isFinite(x[i]!) && Number.isFinite(y[i]!)) i++;
    if (i > start) runs.push(bucket === 1 ? copyRun(x, y, start, i) : envelope(x, y, start, i, bucket));
  }
  return runs;
}

function copyRun(x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number): Run {
  const rx: number[] = [];
  const ry: number[] = [];
  for (let i = start; i < end; i++) {
    rx.push(x[i]!);
    ry.push(y[i]!);
  }
  return { x: rx, y: ry };
}

function envelope(x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number, bucket: number): Run {
  const rx: number[] = [];
  const ry: number[] = [];
  for (let b = start; b < end; b += bucket) {
    const e = Math.min(end, b + bucket);
    let lo = b;
    let hi = b;
    for (let i = b + 1; i < e; i++) {
      if (y[i]! < y[lo]!) lo = i;
      if (y[i]! > y[hi]!) hi = i;
    }
    const picks = [b, lo, hi, e - 1].sort((p, q) => p - q);
    let last = -1;
    for (const p of picks) {
      if (p === last) continue;
      rx.push(x[p]!);
      ry.push(y[p]!);
      last = p;
    }
  }
  return { x: rx, y: ry };
}
