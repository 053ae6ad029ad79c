import type { ActivationFn, Floats, GruCache, LstmCache, MatrixOps, Transpose } from "./matrix-ops.js";

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Plain TypeScript kernel. It is the fallback when the WebAssembly SIMD
 * kernel is missing or unsupported, the kernel of the float64 arena used by
 * gradient checks (exact Math.exp / Math.tanh), and the reference the
 * WebAssembly kernel is tested against. Loop orders keep the innermost loop
 * contiguous in memory.
 */
export const jsMatrixOps: MatrixOps<Floats> = {
  gemm(trans: Transpose, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate) {
    if (trans === "nt") {
      // Dot products, four columns at a time so that each A value is loaded once for four products.
      for (let i = 0; i < m; i++) {
        const ai = aOff + i * lda;
        const ci = cOff + i * ldc;
        let j = 0;
        for (; j + 4 <= n; j += 4) {
          const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let p = 0; p < k; p++) {
            const x = a[ai + p]!;
            s0 += x * b[b0 + p]!;
            s1 += x * b[b1 + p]!;
            s2 += x * b[b2 + p]!;
            s3 += x * b[b3 + p]!;
          }
          c[ci + j] = accumulate ? c[ci + j]! + s0 : s0;
          c[ci + j + 1] = accumulate ? c[ci + j + 1]! + s1 : s1;
          c[ci + j + 2] = accumulate ? c[ci + j + 2]! + s2 : s2;
          c[ci + j + 3] = accumulate ? c[ci + j + 3]! + s3 : s3;
        }
        for (; j < n; j++) {
          const bj = bOff + j * ldb;
          let s = 0;
          for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
          c[ci + j] = accumulate ? c[ci + j]! + s : s;
        }
      }
      return;
    }
    // "nn" and "tn" differ only in how A(i, p) is addressed. Rows go in pairs
    // so that each B value loaded serves two rows of C.
    const aRow = trans === "nn" ? lda : 1;
    const aCol = trans === "nn" ? 1 : lda;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const c0 = cOff + i * ldc, c1 = c0 + ldc;
      if (!accumulate) {
        c.fill(0, c0, c0 + n);
        c.fill(0, c1, c1 + n);
      }
      for (let p = 0; p < k; p++) {
        const x0 = a[aOff + i * aRow + p * aCol]!, x1 = a[aOff + (i + 1) * aRow + p * aCol]!;
        const bp = bOff + p * ldb;
        for (let j = 0; j < n; j++) {
          const bv = b[bp + j]!;
          c[c0 + j] += x0 * bv;
          c[c1 + j] += x1 * bv;
        }
      }
    }
    for (; i < m; i++) {
      const ci = cOff + i * ldc;
      if (!accumulate) c.fill(0, ci, ci + n);
      for (let p = 0; p < k; p++) {
        const x = a[aOff + i * aRow + p * aCol]!;
        const bp = bOff + p * ldb;
        for (let j = 0; j < n; j++) c[ci + j] += x * b[bp + j]!;
      }
    }
  },

  fillRows(c, cOff, m, n, ldc, v, vOff) {
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * ldc;
      for (let j = 0; j < n; j++) c[ci + j] = v[vOff + j]!;
    }
  },

  addColSums(a, aOff, m, n, lda, out, outOff) {
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * lda;
      for (let j = 0; j < n; j++) out[outOff + j] += a[ai + j]!;
    }
  },

  activate(fn: ActivationFn, x, xOff, y, yOff, n) {
    if (fn === "tanh") for (let i = 0; i < n; i++) y[yOff + i] = Math.tanh(x[xOff + i]!);
    else if (fn === "sigmoid") for (let i = 0; i < n; i++) y[yOff + i] = sigmoid(x[xOff + i]!);
    else {
      for (let i = 0; i < n; i++) {
        const v = x[xOff + i]!;
        y[yOff + i] = v > 0 ? v : Math.expm1(v);
      }
    }
  },

  gruCell(batch, H, row0, gi, gh, hPrev, hpOff, out, cache: GruCache<Floats> | null) {
    const H3 = 3 * H;
    for (let b = 0; b < batch; b++) {
      const gio = (row0 + b) * H3, gho = b * H3, ho = (row0 + b) * H, hpo = hpOff + b * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gi[gio + j]! + gh[gho + j]!);
        const z = sigmoid(gi[gio + H + j]! + gh[gho + H + j]!);
        const hn = gh[gho + 2 * H + j]!;
        const n = Math.tanh(gi[gio + 2 * H + j]! + r * hn);
        out[ho + j] = (1 - z) * n + z * hPrev[hpo + j]!;
        if (cache) {
          cache.r[ho + j] = r;
          cache.z[ho + j] = z;
          cache.n[ho + j] = n;
          cache.ghn[ho + j] = hn;
        }
      }
    }
  },

  lstmCell(batch, H, row0, gi, gh, cPrev, cpOff, cCur, out, cache: LstmCache<Floats> | null) {
    const H4 = 4 * H;
    for (let b = 0; b < batch; b++) {
      const go = (row0 + b) * H4, gho = b * H4, ho = (row0 + b) * H, cpo = cpOff + b * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gi[go + j]! + gh[gho + j]!);
        const f = sigmoid(gi[go + H + j]! + gh[gho + H + j]!);
        const g = Math.tanh(gi[go + 2 * H + j]! + gh[gho + 2 * H + j]!);
        const o = sigmoid(gi[go + 3 * H + j]! + gh[gho + 3 * H + j]!);
        const c = f * cPrev[cpo + j]! + i * g;
        const tc = Math.tanh(c);
        cCur[b * H + j] = c;
        out[ho + j] = o * tc;
        if (cache) {
          cache.gates[go + j] = i;
          cache.gates[go + H + j] = f;
          cache.gates[go + 2 * H + j] = g;
          cache.gates[go + 3 * H + j] = o;
          cache.tanhC[ho + j] = tc;
        }
      }
    }
  },
};
