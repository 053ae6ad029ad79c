/**
 * Gradient checking against central finite differences, for float64 modules
 * (createFloat64Arena). Used by the tests of every layer; exported so that a
 * new module can be checked the same way.
 */

export interface CheckedTensor {
  name: string;
  /** Values perturbed one at a time. */
  value: Float64Array;
  /** Analytic gradient of the loss with respect to `value`, as computed by the caller. */
  grad: ArrayLike<number>;
}

export interface GradCheckResult {
  /** Largest |analytic - numeric| / max(|analytic|, |numeric|, floor) over all entries. */
  maxRelError: number;
  /** Where it occurred, e.g. "gru.wHh[17]". */
  worst: string;
  analytic: number;
  numeric: number;
  /** Entries compared. */
  count: number;
}

/**
 * Compares the analytic gradients in `tensors` (computed beforehand for the
 * current values) with (loss(x + h) - loss(x - h)) / 2h for every entry.
 * `loss` must be a deterministic function of the tensors' values. The
 * default step 1e-5 balances truncation (~h^2) against rounding (~1e-16 |loss| / h)
 * error for losses of order 1-10. `floor`
 * keeps the relative error of near-zero gradients from dividing by ~0: it
 * should be about the size of a typical gradient entry (default 1e-3).
 */
export function checkGradients(tensors: CheckedTensor[], loss: () => number, opts: { step?: number; floor?: number } = {}): GradCheckResult {
  const h = opts.step ?? 1e-5, floor = opts.floor ?? 1e-3;
  const result: GradCheckResult = { maxRelError: 0, worst: "", analytic: 0, numeric: 0, count: 0 };
  const analytic = tensors.map((t) => Float64Array.from(t.grad));
  tensors.forEach((t, q) => {
    if (t.grad.length !== t.value.length) throw new RangeError(`checkGradients: ${t.name} has ${t.value.length} values but ${t.grad.length} gradient entries`);
    for (let i = 0; i < t.value.length; i++) {
      const x = t.value[i]!;
      t.value[i] = x + h;
      const up = loss();
      t.value[i] = x - h;
      const down = loss();
      t.value[i] = x;
      const numeric = (up - down) / (2 * h);
      const a = analytic[q]![i]!;
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), floor);
      result.count++;
      if (!(rel <= result.maxRelError)) Object.assign(result, { maxRelError: rel, worst: `${t.name}[${i}]`, analytic: a, numeric });
    }
  });
  return result;
}
