import { jsMatrixOps } from "./kernel/js-kernel.js";
import type { ActivationFn, Floats, GruCache, LstmCache, MatrixOps, Transpose } from "./kernel/matrix-ops.js";

/**
 * An arena is one block of memory plus the matrix kernel bound to it. Every
 * parameter, gradient and activation buffer of the layers is a view into an
 * arena (`alloc`), so that the WebAssembly kernel works on them in place:
 * nothing is copied into or out of WebAssembly memory per call.
 *
 * Allocation is a bump pointer with stack-like `mark`/`release` and `reset`.
 * The capacity is fixed when the arena is created: growing a
 * WebAssembly.Memory detaches every view into it, which would silently empty
 * every Float32Array the layers hold. The default (256 MiB) costs nothing
 * until touched, since untouched pages are never committed by the OS.
 *
 * Arenas come from a kernel (`getKernel().createArena()`, float32, WebAssembly
 * or TypeScript kernel) or from `createFloat64Arena()` (float64, TypeScript
 * kernel; for gradient checks against finite differences). Modules whose
 * outputs feed each other (normalizer output -> GRU -> MLP) must live in one
 * arena: an operand from another arena is refused, since the kernel can only
 * address its own memory.
 */

export interface ArenaOptions {
  /** Capacity in MiB (default 256). */
  capacityMiB?: number;
}

/** What an arena needs from a kernel: its memory and its raw (unchecked) ops. */
export interface ArenaBackend<A extends Floats> {
  kernel: "wasm" | "js";
  buffer: ArrayBuffer;
  bytesPerElement: 4 | 8;
  view(buffer: ArrayBuffer, byteOffset: number, length: number): A;
  ops: MatrixOps<A>;
  /** Bytes at the start of the memory the kernel keeps for itself (scratch); never handed out. */
  reservedBytes?: number;
  /** Releases what the backend holds (the WebAssembly instance). */
  dispose?(): void;
}

export const DEFAULT_ARENA_MIB = 256;
/** Allocations start on cache-line boundaries (also aligns SIMD loads). */
const ALIGN = 64;

export function arenaCapacityBytes(opts: ArenaOptions | undefined, maxMiB: number): number {
  const mib = opts?.capacityMiB ?? DEFAULT_ARENA_MIB;
  if (!Number.isFinite(mib) || mib <= 0 || mib > maxMiB) {
    throw new RangeError(`arena capacityMiB: expected a number in (0, ${maxMiB}], got ${mib}`);
  }
  return Math.ceil((mib * 1048576) / 65536) * 65536;
}

export class Arena<A extends Floats = Float32Array> implements MatrixOps<A> {
  readonly kernel: "wasm" | "js";
  readonly precision: "f32" | "f64";
  readonly capacityBytes: number;
  private buffer: ArrayBuffer | null;
  private readonly bytesPer: number;
  private readonly view: ArenaBackend<A>["view"];
  private readonly raw: MatrixOps<A>;
  private readonly backendDispose: (() => void) | undefined;
  private readonly base: number;
  private top: number;

  constructor(backend: ArenaBackend<A>) {
    this.kernel = backend.kernel;
    this.buffer = backend.buffer;
    this.bytesPer = backend.bytesPerElement;
    this.precision = backend.bytesPerElement === 4 ? "f32" : "f64";
    this.capacityBytes = backend.buffer.byteLength;
    this.view = backend.view;
    this.raw = backend.ops;
    this.backendDispose = backend.dispose?.bind(backend);
    this.base = this.top = Math.ceil((backend.reservedBytes ?? 0) / ALIGN) * ALIGN;
  }

  get usedBytes(): number {
    return this.top;
  }

  /** A zero-filled array of n elements. Throws when the arena is full. */
  alloc(n: number): A {
    const buffer = this.live();
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`arena.alloc: expected a non-negative integer length, got ${n}`);
    const bytes = n * this.bytesPer;
    const start = this.top;
    const end = start + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > this.capacityBytes) {
      throw new RangeError(
        `arena.alloc: out of memory: ${n} elements (${fmtMiB(bytes)}) requested, ${fmtMiB(this.top)} of ` +
          `${fmtMiB(this.capacityBytes)} in use; create the arena with a larger capacityMiB`,
      );
    }
    this.top = end;
    const a = this.view(buffer, start, n);
    a.fill(0); // memory below a released mark may hold old values
    return a;
  }

  /** The current allocation point, for `release`. */
  mark(): number {
    this.live();
    return this.top;
  }

  /** Frees everything allocated since `mark` (views made since then must no longer be used). */
  release(mark: number): void {
    this.live();
    if (!Number.isInteger(mark) || mark < this.base || mark > this.top || mark % ALIGN !== 0) {
      throw new RangeError(`arena.release: ${mark} is not a mark of this arena (in use: ${this.top} bytes)`);
    }
    this.top = mark;
  }

  /** Frees everything (all views made so far must no longer be used). */
  reset(): void {
    this.live();
    this.top = this.base;
  }

  /** Drops the memory; every later call throws. */
  dispose(): void {
    if (this.buffer === null) return;
    this.buffer = null;
    this.top = 0;
    this.backendDispose?.();
  }

  get disposed(): boolean {
    return this.buffer === null;
  }

  /** True when `x` is a view into this arena's memory. */
  owns(x: Floats): boolean {
    return this.buffer !== null && x.buffer === this.buffer && x.BYTES_PER_ELEMENT === this.bytesPer;
  }

  gemm(
    trans: Transpose, m: number, n: number, k: number,
    a: A, aOff: number, lda: number,
    b: A, bOff: number, ldb: number,
    c: A, cOff: number, ldc: number,
    accumulate: boolean,
  ): void {
    this.live();
    const tA = trans === "tn", tB = trans === "nt";
    if (!(trans === "nn" || tA || tB)) throw new RangeError(`gemm: unknown transpose "${trans}" (nn, nt or tn)`);
    if (m === 0 || n === 0) return;
    this.operand("gemm", "C", c, cOff, m, n, ldc);
    if (k === 0) {
      // An empty sum: C = 0, or C unchanged when accumulating.
      if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
      return;
    }
    this.operand("gemm", "A", a, aOff, tA ? k : m, tA ? m : k, lda);
    this.operand("gemm", "B", b, bOff, tB ? n : k, tB ? k : n, ldb);
    this.raw.gemm(trans, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
  }

  fillRows(c: A, cOff: number, m: number, n: number, ldc: number, v: A, vOff: number): void {
    this.live();
    if (m === 0 || n === 0) return;
    this.operand("fillRows", "C", c, cOff, m, n, ldc);
    this.operand("fillRows", "v", v, vOff, 1, n, n);
    this.raw.fillRows(c, cOff, m, n, ldc, v, vOff);
  }

  addColSums(a: A, aOff: number, m: number, n: number, lda: number, out: A, outOff: number): void {
    this.live();
    if (m === 0 || n === 0) return;
    this.operand("addColSums", "A", a, aOff, m, n, lda);
    this.operand("addColSums", "out", out, outOff, 1, n, n);
    this.raw.addColSums(a, aOff, m, n, lda, out, outOff);
  }

  activate(fn: ActivationFn, x: A, xOff: number, y: A, yOff: number, n: number): void {
    this.live();
    if (fn !== "tanh" && fn !== "elu" && fn !== "sigmoid") throw new RangeError(`activate: unknown function "${fn}" (tanh, elu or sigmoid)`);
    if (n === 0) return;
    this.operand("activate", "x", x, xOff, 1, n, n);
    this.operand("activate", "y", y, yOff, 1, n, n);
    this.raw.activate(fn, x, xOff, y, yOff, n);
  }

  gruCell(batch: number, H: number, row0: number, gi: A, gh: A, hPrev: A, hpOff: number, out: A, cache: GruCache<A> | null): void {
    this.live();
    if (batch === 0) return;
    const r0 = row0 * H;
    this.operand("gruCell", "gi", gi, 3 * r0, batch, 3 * H, 3 * H);
    this.operand("gruCell", "gh", gh, 0, batch, 3 * H, 3 * H);
    this.operand("gruCell", "hPrev", hPrev, hpOff, batch, H, H);
    this.operand("gruCell", "out", out, r0, batch, H, H);
    if (cache) {
      // Spelled out: a loop over a literal array of keys would allocate on every step.
      this.operand("gruCell", "cache.r", cache.r, r0, batch, H, H);
      this.operand("gruCell", "cache.z", cache.z, r0, batch, H, H);
      this.operand("gruCell", "cache.n", cache.n, r0, batch, H, H);
      this.operand("gruCell", "cache.ghn", cache.ghn, r0, batch, H, H);
    }
    this.raw.gruCell(batch, H, row0, gi, gh, hPrev, hpOff, out, cache);
  }

  lstmCell(batch: number, H: number, row0: number, gi: A, gh: A, cPrev: A, cpOff: number, cCur: A, out: A, cache: LstmCache<A> | null): void {
    this.live();
    if (batch === 0) return;
    const r0 = row0 * H;
    this.operand("lstmCell", "gi", gi, 4 * r0, batch, 4 * H, 4 * H);
    this.operand("lstmCell", "gh", gh, 0, batch, 4 * H, 4 * H);
    this.operand("lstmCell", "cPrev", cPrev, cpOff, batch, H, H);
    this.operand("lstmCell", "cCur", cCur, 0, batch, H, H);
    this.operand("lstmCell", "out", out, r0, batch, H, H);
    if (cache) {
      this.operand("lstmCell", "cache.gates", cache.gates, 4 * r0, batch, 4 * H, 4 * H);
      this.operand("lstmCell", "cache.tanhC", cache.tanhC, r0, batch, H, H);
    }
    this.raw.lstmCell(batch, H, row0, gi, gh, cPrev, cpOff, cCur, out, cache);
  }

  private live(): ArrayBuffer {
    if (this.buffer === null) throw new Error("arena: used after dispose()");
    return this.buffer;
  }

  /** The kernel reads memory by address, so an operand outside its array would read its neighbours: refuse it. */
  private operand(op: string, name: string, x: Floats, off: number, rows: number, cols: number, ld: number): void {
    if (x.buffer !== this.buffer || x.BYTES_PER_ELEMENT !== this.bytesPer) {
      throw new Error(`${op}: operand ${name} is not memory of this arena; allocate it with arena.alloc()`);
    }
    if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
      throw new RangeError(`${op}: operand ${name} has invalid shape [${rows}, ${cols}]`);
    }
    if (!(Number.isInteger(off) && off >= 0 && Number.isInteger(ld) && ld >= cols && off + (rows - 1) * ld + cols <= x.length)) {
      throw new RangeError(
        `${op}: operand ${name} [${rows}, ${cols}] with row stride ${ld} at offset ${off} does not fit its array of ${x.length} elements`,
      );
    }
  }
}

/** A float64 arena on the TypeScript kernel, for gradient checks. */
export function createFloat64Arena(opts?: ArenaOptions): Arena<Float64Array> {
  const buffer = new ArrayBuffer(arenaCapacityBytes(opts, 8192));
  return new Arena<Float64Array>({
    kernel: "js",
    buffer,
    bytesPerElement: 8,
    view: (b, o, n) => new Float64Array(b, o, n),
    ops: jsMatrixOps as MatrixOps<Float64Array>,
  });
}

function fmtMiB(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
