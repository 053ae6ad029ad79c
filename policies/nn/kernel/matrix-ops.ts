/**
 * The contract between the layers of the training core and a matrix kernel.
 *
 * All matrices are row-major and addressed as (array, element offset, row
 * stride), so a layer can name one time step of a [T, B, H] buffer without
 * creating a subarray (the hot paths allocate nothing). Every array passed
 * must have been allocated from the arena that performs the operation; the
 * WebAssembly kernel reads it by address and copies nothing.
 */

export type Floats = Float32Array | Float64Array;

export type ActivationFn = "tanh" | "elu" | "sigmoid";

/** What the GRU keeps per step for backward, each [rows, H]. */
export interface GruCache<A extends Floats> {
  r: A;
  z: A;
  n: A;
  /** W_hn h + b_hn, the hidden part of the candidate's pre-activation. */
  ghn: A;
}

/** What the LSTM keeps per step for backward. */
export interface LstmCache<A extends Floats> {
  /** Activated gates (i, f, g, o), [rows, 4H]. */
  gates: A;
  /** tanh(c_t), [rows, H]. */
  tanhC: A;
}

/** Which operands are transposed: "nt" is A . B^T, "tn" is A^T . B. */
export type Transpose = "nn" | "nt" | "tn";

export interface MatrixOps<A extends Floats> {
  /**
   * C[m, n] = op(A) . op(B), or C += op(A) . op(B) when `accumulate`.
   * "nn": A is [m, k], B is [k, n]; "nt": A is [m, k], B is [n, k];
   * "tn": A is [k, m], B is [k, n]. lda/ldb/ldc are row strides in elements.
   */
  gemm(
    trans: Transpose, m: number, n: number, k: number,
    a: A, aOff: number, lda: number,
    b: A, bOff: number, ldb: number,
    c: A, cOff: number, ldc: number,
    accumulate: boolean,
  ): void;
  /** C[i, 0..n) = v[vOff .. vOff+n) for every row i < m (bias broadcast). */
  fillRows(c: A, cOff: number, m: number, n: number, ldc: number, v: A, vOff: number): void;
  /** out[outOff + j] += sum over i < m of A[i, j] (bias gradient). */
  addColSums(a: A, aOff: number, m: number, n: number, lda: number, out: A, outOff: number): void;
  /** y[yOff + i] = f(x[xOff + i]) for i < n (y may be x). ELU uses alpha = 1. */
  activate(fn: ActivationFn, x: A, xOff: number, y: A, yOff: number, n: number): void;
  /**
   * GRU gate math of one time step for `batch` rows that start at row `row0`
   * of the sequence buffers (policies/network-spec.ts has the equations):
   * reads gi [row0.., 3H], gh [0.., 3H] and hPrev [hpOff.., H]; writes
   * out [row0.., H] and, given a cache, r, z, n, ghn [row0.., H].
   */
  gruCell(batch: number, H: number, row0: number, gi: A, gh: A, hPrev: A, hpOff: number, out: A, cache: GruCache<A> | null): void;
  /**
   * LSTM gate math of one time step: reads gi [row0.., 4H], gh [0.., 4H] and
   * cPrev [cpOff.., H]; writes the new cell state to cCur [0.., H], h to
   * out [row0.., H] and, given a cache, gates [row0.., 4H] and tanhC [row0.., H].
   */
  lstmCell(batch: number, H: number, row0: number, gi: A, gh: A, cPrev: A, cpOff: number, cCur: A, out: A, cache: LstmCache<A> | null): void;
}
