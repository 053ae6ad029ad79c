import type { Rng } from "../../common/rng.js";
import type { Floats } from "./kernel/matrix-ops.js";

/**
 * Deterministic weight initialisation from an Rng (common/rng.ts), so a
 * network is a pure function of its seed.
 */

export type InitKind = "uniform" | "orthogonal";

/** Entries drawn from U(-bound, bound) (PyTorch's default for Linear/GRU/LSTM uses bound = 1/sqrt(fan)). */
export function initUniform(rng: Rng, into: Floats, bound: number): void {
  for (let i = 0; i < into.length; i++) into[i] = rng.uniform(-bound, bound);
}

/**
 * A [rows, cols] matrix with orthonormal rows or columns (whichever are
 * fewer), times `gain`: the QR of a Gaussian matrix by modified Gram-Schmidt,
 * as in Saxe et al. and the orthogonal init common in PPO implementations.
 */
export function initOrthogonal(rng: Rng, into: Floats, rows: number, cols: number, gain: number): void {
  if (into.length !== rows * cols) throw new RangeError(`initOrthogonal: array of ${into.length} for a [${rows}, ${cols}] matrix`);
  const n = Math.max(rows, cols), m = Math.min(rows, cols);
  // q holds m column vectors of length n (column j at q[j*n ...]).
  const q = new Float64Array(n * m);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < m; j++) {
    const cj = j * n;
    for (let p = 0; p < j; p++) {
      const cp = p * n;
      let d = 0;
      for (let i = 0; i < n; i++) d += q[cp + i]! * q[cj + i]!;
      for (let i = 0; i < n; i++) q[cj + i] -= d * q[cp + i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[cj + i]! * q[cj + i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[cj + i] /= norm;
  }
  // rows >= cols: W[i][j] = column j, entry i; otherwise W is the transpose.
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) into[r * cols + c] = gain * (rows >= cols ? q[c * n + r]! : q[r * n + c]!);
  }
}
