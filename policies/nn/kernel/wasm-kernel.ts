import { jsMatrixOps } from "./js-kernel.js";
import type { MatrixOps } from "./matrix-ops.js";

/** The exports of build/nn-kernel.wasm (see nn-kernel.wat for their contracts). */
interface KernelExports {
  gemm_nn: GemmFn;
  gemm_nt: GemmFn;
  gemm_tn(m: number, n: number, k: number, pa: number, lda: number, pb: number, ldb: number, pc: number, ldc: number, acc: number, pack: number): void;
  fill_rows(pc: number, m: number, n: number, ldc: number, pv: number): void;
  add_col_sums(pa: number, m: number, n: number, lda: number, pout: number): void;
  tanh: MapFn;
  elu: MapFn;
  sigmoid: MapFn;
  gru_cell(batch: number, H: number, pgi: number, pgh: number, php: number, pout: number, pr: number, pz: number, pn: number, pghn: number, keep: number): void;
  lstm_cell(batch: number, H: number, pgi: number, pgh: number, pcp: number, pcc: number, pout: number, pgates: number, ptc: number, keep: number): void;
}
type MapFn = (px: number, py: number, n: number) => void;
type GemmFn = (m: number, n: number, k: number, pa: number, lda: number, pb: number, ldb: number, pc: number, ldc: number, acc: number) => void;

/**
 * The kernel's scratch: gemm_tn packs 4-row tiles of A into 4 KiB here. It
 * sits at byte 64 (a zero pointer means "no packing" to the kernel); the
 * arena never hands out these first bytes.
 */
const PACK_AT = 64;
export const WASM_RESERVED_BYTES = PACK_AT + 4096;

const REQUIRED_EXPORTS = ["gemm_nn", "gemm_nt", "gemm_tn", "fill_rows", "add_col_sums", "tanh", "elu", "sigmoid", "gru_cell", "lstm_cell"] as const;

/** Names the first export the compiled module lacks, or undefined when complete. */
export function missingExport(module: WebAssembly.Module): string | undefined {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return REQUIRED_EXPORTS.find((n) => !names.has(n));
}

/**
 * Instantiates the kernel over one memory and returns float32 ops that pass
 * byte addresses (views are into that memory; the arena has checked them).
 */
export function instantiateWasmOps(module: WebAssembly.Module, memory: WebAssembly.Memory): MatrixOps<Float32Array> {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  const { gemm_nn, gemm_nt, gemm_tn, fill_rows, add_col_sums, gru_cell, lstm_cell } = ex;
  const maps = { tanh: ex.tanh, elu: ex.elu, sigmoid: ex.sigmoid };
  const js = jsMatrixOps as MatrixOps<Float32Array>;
  return {
    gemm(trans, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate) {
      const pa = a.byteOffset + 4 * aOff, pb = b.byteOffset + 4 * bOff, pc = c.byteOffset + 4 * cOff, acc = accumulate ? 1 : 0;
      // Exact arities: V8's fast JS-to-WebAssembly call path needs them.
      if (trans === "nn") gemm_nn(m, n, k, pa, lda, pb, ldb, pc, ldc, acc);
      else if (trans === "nt") gemm_nt(m, n, k, pa, lda, pb, ldb, pc, ldc, acc);
      else gemm_tn(m, n, k, pa, lda, pb, ldb, pc, ldc, acc, PACK_AT);
    },
    fillRows(c, cOff, m, n, ldc, v, vOff) {
      fill_rows(c.byteOffset + 4 * cOff, m, n, ldc, v.byteOffset + 4 * vOff);
    },
    addColSums(a, aOff, m, n, lda, out, outOff) {
      add_col_sums(a.byteOffset + 4 * aOff, m, n, lda, out.byteOffset + 4 * outOff);
    },
    activate(fn, x, xOff, y, yOff, n) {
      maps[fn](x.byteOffset + 4 * xOff, y.byteOffset + 4 * yOff, n);
    },
    // The fused cells work four hidden units at a time; other widths use the TypeScript loops.
    gruCell(batch, H, row0, gi, gh, hPrev, hpOff, out, cache) {
      if (H % 4 !== 0) return js.gruCell(batch, H, row0, gi, gh, hPrev, hpOff, out, cache);
      const o = 4 * row0 * H;
      gru_cell(
        batch, H, gi.byteOffset + 3 * o, gh.byteOffset, hPrev.byteOffset + 4 * hpOff, out.byteOffset + o,
        cache ? cache.r.byteOffset + o : 0, cache ? cache.z.byteOffset + o : 0,
        cache ? cache.n.byteOffset + o : 0, cache ? cache.ghn.byteOffset + o : 0, cache ? 1 : 0,
      );
    },
    lstmCell(batch, H, row0, gi, gh, cPrev, cpOff, cCur, out, cache) {
      if (H % 4 !== 0) return js.lstmCell(batch, H, row0, gi, gh, cPrev, cpOff, cCur, out, cache);
      const o = 4 * row0 * H;
      lstm_cell(
        batch, H, gi.byteOffset + 4 * o, gh.byteOffset, cPrev.byteOffset + 4 * cpOff, cCur.byteOffset, out.byteOffset + o,
        cache ? cache.gates.byteOffset + 4 * o : 0, cache ? cache.tanhC.byteOffset + o : 0, cache ? 1 : 0,
      );
    },
  };
}
