/**
 * The small dense linear algebra system identification needs: symmetric
 * eigendecomposition (CMA-ES's covariance, the Fisher information's null
 * directions) and a symmetric positive-definite solve (Gauss-Newton steps).
 * Matrices are row-major Float64Arrays of n*n; n is at most a few dozen here,
 * so clarity wins over blocking or LAPACK-grade tricks.
 */

/** Eigenvalues (ascending) and eigenvectors (column k of `vectors` belongs to `values[k]`). */
export interface SymmetricEigen {
  values: Float64Array;
  /** Row-major n*n; column k is the unit eigenvector of values[k]. */
  vectors: Float64Array;
}

/**
 * Cyclic Jacobi rotations on a symmetric matrix (the input is not changed).
 * Slow (O(n^3) per sweep, a handful of sweeps) but unconditionally stable and
 * accurate for small eigenvalues, which is what the identifiability analysis
 * looks at.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  if (matrix.length !== n * n) throw new RangeError(`symmetricEigen: expected ${n * n} entries for a ${n}x${n} matrix, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new RangeError(`symmetricEigen: entry ${i} is ${a[i]}`);
  // Symmetrize: callers build their matrices by accumulation, so tiny asymmetries are rounding.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = m;
      a[j * n + i] = m;
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j]! ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]!;
  });
  return { values, vectors };
}

/**
 * Solves A x = b for symmetric positive-definite A by Cholesky; returns
 * undefined when A is not (numerically) positive definite, so the caller can
 * damp more (Levenberg-Marquardt) instead of failing.
 */
export function solveSpd(A: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array | undefined {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/** y = M x for row-major n*n M. */
export function matVec(M: ArrayLike<number>, x: ArrayLike<number>, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += M[i * n + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}
