import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { KERNEL_ENV, compileWasmKernel, createFloat64Arena, getKernel, type Arena, type Transpose } from "../../policies/nn/index.js";

/**
 * The WebAssembly SIMD kernel and the TypeScript fallback against a float64
 * reference, on shapes that exercise every tile edge (rows mod 4, columns
 * mod 8 and mod 4, k mod 4, k beyond one 256-row block), strided operands,
 * offsets and accumulation; plus the arena's allocation and checks.
 */

function reference(trans: Transpose, m: number, n: number, k: number, a: ArrayLike<number>, aOff: number, lda: number, b: ArrayLike<number>, bOff: number, ldb: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = trans === "tn" ? a[aOff + p * lda + i]! : a[aOff + i * lda + p]!;
        const bv = trans === "nt" ? b[bOff + j * ldb + p]! : b[bOff + p * ldb + j]!;
        s += av * bv;
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 8, 3], [4, 8, 4], [5, 13, 7], [7, 3, 9], [9, 17, 300], [2, 4, 513], [13, 12, 5], [33, 70, 64], [3, 1, 257],
];

function checkGemm(arena: Arena<Float32Array>, label: string): void {
  const rng = new Rng(11);
  for (const trans of ["nn", "nt", "tn"] as const) {
    for (const [m, n, k] of SHAPES) {
      for (const accumulate of [false, true]) {
        // Strides wider than the matrices and nonzero offsets, as when addressing one time step of a sequence.
        const aRows = trans === "tn" ? k : m, aCols = trans === "tn" ? m : k;
        const bRows = trans === "nt" ? n : k, bCols = trans === "nt" ? k : n;
        const lda = aCols + 3, ldb = bCols + 1, ldc = n + 2, aOff = 5, bOff = 2, cOff = 7;
        const a = arena.alloc(aOff + aRows * lda), b = arena.alloc(bOff + bRows * ldb), c = arena.alloc(cOff + m * ldc + 4);
        for (const x of [a, b, c]) for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
        const before = Float32Array.from(c);
        arena.gemm(trans, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        const want = reference(trans, m, n, k, a, aOff, lda, b, bOff, ldb);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            const got = c[cOff + i * ldc + j]!;
            const exp = want[i * n + j]! + (accumulate ? before[cOff + i * ldc + j]! : 0);
            assert.ok(Math.abs(got - exp) <= 1e-5 * (1 + Math.sqrt(k)), `${label} ${trans} [${m}x${n}x${k}] acc=${accumulate} C[${i},${j}] = ${got}, want ${exp}`);
          }
        }
        // Elements between rows (the stride padding) and past the end are untouched.
        for (let i = 0; i < c.length; i++) {
          const inside = i >= cOff && (i - cOff) % ldc < n && i < cOff + m * ldc;
          if (!inside) assert.equal(c[i], before[i], `${label} ${trans} [${m}x${n}x${k}] wrote outside C at ${i}`);
        }
        arena.reset();
      }
    }
  }
}

function checkBiasOps(arena: Arena<Float32Array>, label: string): void {
  const rng = new Rng(12);
  for (const [m, n] of [[1, 1], [3, 5], [6, 8], [9, 13]] as const) {
    const ld = n + 3;
    const v = arena.alloc(n + 2), c = arena.alloc(m * ld), out = arena.alloc(n + 2);
    for (const x of [v, c, out]) for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
    const c0 = arena.alloc(c.length), out0 = Float32Array.from(out);
    c0.set(c);
    arena.fillRows(c, 0, m, n, ld, v, 1);
    for (let i = 0; i < m; i++) for (let j = 0; j < ld; j++) assert.equal(c[i * ld + j], j < n ? v[1 + j] : c0[i * ld + j], `${label} fillRows [${m}x${n}] (${i},${j})`);
    arena.addColSums(c0, 0, m, n, ld, out, 2);
    for (let j = 0; j < n + 2; j++) {
      let s = out0[j]!;
      if (j >= 2) for (let i = 0; i < m; i++) s += c0[i * ld + j - 2]!;
      assert.ok(Math.abs(out[j]! - s) < 1e-5, `${label} addColSums [${m}x${n}] col ${j}`);
    }
    arena.reset();
  }
}

test("the WebAssembly kernel is built and loads", () => {
  const k = getKernel("wasm");
  assert.equal(k.kind, "wasm", k.reason);
});

test("WebAssembly gemm (nn, nt, tn) matches a float64 reference on every tile edge", () => {
  const arena = getKernel("wasm").createArena({ capacityMiB: 16 });
  checkGemm(arena, "wasm");
  checkBiasOps(arena, "wasm");
  arena.dispose();
});

test("TypeScript gemm (nn, nt, tn) matches the same reference", () => {
  const arena = getKernel("js").createArena({ capacityMiB: 16 });
  assert.equal(arena.kernel, "js");
  checkGemm(arena, "js");
  checkBiasOps(arena, "js");
});

test("WebAssembly activations match Math.tanh / expm1 / sigmoid to float32 precision, tails included", () => {
  const arena = getKernel("wasm").createArena({ capacityMiB: 4 });
  const ref = { tanh: Math.tanh, elu: (v: number) => (v > 0 ? v : Math.expm1(v)), sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) };
  for (const fn of ["tanh", "elu", "sigmoid"] as const) {
    for (const [lo, hi] of [[-30, 30], [-1, 1], [-1e-3, 1e-3], [-200, 200]] as const) {
      const n = 4099; // not a multiple of 4
      const x = arena.alloc(n + 1), y = arena.alloc(n + 1);
      for (let i = 0; i <= n; i++) x[i] = lo + ((hi - lo) * i) / n;
      y[n] = 123;
      arena.activate(fn, x, 0, y, 0, n);
      for (let i = 0; i < n; i++) {
        const want = ref[fn](x[i]!);
        const err = Math.abs(y[i]! - want);
        assert.ok(err <= 4e-7 * Math.abs(want) + 1e-30, `${fn}(${x[i]}) = ${y[i]}, want ${want}`);
      }
      assert.equal(y[n], 123, "wrote past n");
      arena.reset();
    }
  }
  const z = arena.alloc(8);
  z.set([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 50]);
  arena.activate("tanh", z, 0, z, 0, 8);
  assert.ok(Number.isNaN(z[0]!));
  // (=== rather than deepEqual: the sign of tanh(-0) does not matter)
  [1, -1, 0, 0, Math.fround(1e-30), Math.fround(-1e-30), 1].forEach((want, i) => assert.ok(z[i + 1] === want, `tanh of special value ${i + 1}: ${z[i + 1]}`));
});

test("WebAssembly GRU and LSTM cells match the TypeScript cells", () => {
  const wasm = getKernel("wasm").createArena({ capacityMiB: 8 }), js = getKernel("js").createArena({ capacityMiB: 8 });
  const rng = new Rng(13);
  for (const H of [4, 8, 12, 6]) {
    for (const withCache of [true, false]) {
      const B = 3, T = 2, row0 = B; // the second step of a [2, 3] sequence
      const make = (a: Arena<Float32Array>) => {
        const r = () => a.alloc(T * B * H);
        return {
          gru: { gi: a.alloc(T * B * 3 * H), gh: a.alloc(B * 3 * H), hPrev: a.alloc(T * B * H), out: a.alloc(T * B * H), cache: { r: r(), z: r(), n: r(), ghn: r() } },
          lstm: { gi: a.alloc(T * B * 4 * H), gh: a.alloc(B * 4 * H), cPrev: a.alloc(T * B * H), cCur: a.alloc(B * H), out: a.alloc(T * B * H), cache: { gates: a.alloc(T * B * 4 * H), tanhC: r() } },
        };
      };
      const w = make(wasm), j = make(js);
      for (const key of ["gi", "gh", "hPrev"] as const) for (let i = 0; i < w.gru[key].length; i++) w.gru[key][i] = j.gru[key][i] = rng.uniform(-3, 3);
      for (const key of ["gi", "gh", "cPrev"] as const) for (let i = 0; i < w.lstm[key].length; i++) w.lstm[key][i] = j.lstm[key][i] = rng.uniform(-3, 3);
      for (const [a, s] of [[wasm, w], [js, j]] as const) {
        a.gruCell(B, H, row0, s.gru.gi, s.gru.gh, s.gru.hPrev, row0 * H, s.gru.out, withCache ? s.gru.cache : null);
        a.lstmCell(B, H, row0, s.lstm.gi, s.lstm.gh, s.lstm.cPrev, row0 * H, s.lstm.cCur, s.lstm.out, withCache ? s.lstm.cache : null);
      }
      const same = (label: string, p: Float32Array, q: Float32Array) => {
        for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - q[i]!) <= 1e-6, `H=${H} cache=${withCache} ${label}[${i}]: ${p[i]} vs ${q[i]}`);
      };
      same("gru.out", w.gru.out, j.gru.out);
      for (const k of ["r", "z", "n", "ghn"] as const) same(`gru.${k}`, w.gru.cache[k], j.gru.cache[k]);
      same("lstm.out", w.lstm.out, j.lstm.out);
      same("lstm.cCur", w.lstm.cCur, j.lstm.cCur);
      same("lstm.gates", w.lstm.cache.gates, j.lstm.cache.gates);
      same("lstm.tanhC", w.lstm.cache.tanhC, j.lstm.cache.tanhC);
      assert.ok(w.gru.out.subarray(0, row0 * H).every((v) => v === 0), "rows before row0 untouched");
      if (withCache) assert.ok(w.gru.cache.r.subarray(row0 * H).some((v) => v !== 0));
      else assert.ok(w.gru.cache.r.every((v) => v === 0) && w.lstm.cache.gates.every((v) => v === 0), "no cache writes without a cache");
      wasm.reset();
      js.reset();
    }
  }
});

test("gemm with k = 0 clears or keeps C; m = 0 or n = 0 does nothing", () => {
  for (const kind of ["wasm", "js"] as const) {
    const arena = getKernel(kind).createArena({ capacityMiB: 1 });
    const a = arena.alloc(4), b = arena.alloc(4), c = arena.alloc(6).fill(3);
    arena.gemm("nn", 2, 3, 0, a, 0, 1, b, 0, 3, c, 0, 3, true);
    assert.deepEqual([...c], [3, 3, 3, 3, 3, 3]);
    arena.gemm("nn", 2, 3, 0, a, 0, 1, b, 0, 3, c, 0, 3, false);
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
    c.fill(1);
    arena.gemm("nt", 0, 3, 2, a, 0, 2, b, 0, 2, c, 0, 3, false);
    assert.deepEqual([...c], [1, 1, 1, 1, 1, 1]);
  }
});

test("arena: aligned zeroed allocations, mark/release, capacity and dispose errors", () => {
  const arena = getKernel().createArena({ capacityMiB: 1 });
  const a = arena.alloc(3);
  const b = arena.alloc(5);
  assert.equal(a.byteOffset % 64, 0);
  assert.equal(b.byteOffset % 64, 0);
  assert.ok(arena.owns(a) && !arena.owns(new Float32Array(3)));
  const m = arena.mark();
  arena.alloc(10).fill(7);
  arena.release(m);
  assert.deepEqual([...arena.alloc(10)], new Array(10).fill(0), "memory below a released mark is zeroed again");
  assert.throws(() => arena.alloc(1 << 20), /out of memory: 1048576 elements .* larger capacityMiB/);
  assert.throws(() => arena.release(13), /not a mark/);
  arena.dispose();
  assert.throws(() => arena.alloc(1), /used after dispose/);
  assert.throws(() => getKernel().createArena({ capacityMiB: 0 }), /capacityMiB/);
});

test("arena: operands from elsewhere or out of bounds are refused with the operand named", () => {
  for (const kind of ["wasm", "js"] as const) {
    const arena = getKernel(kind).createArena({ capacityMiB: 1 });
    const other = getKernel(kind).createArena({ capacityMiB: 1 });
    const a = arena.alloc(6), b = arena.alloc(6), c = arena.alloc(4);
    assert.throws(() => arena.gemm("nn", 2, 2, 3, a, 0, 3, new Float32Array(6), 0, 2, c, 0, 2, false), /operand B is not memory of this arena/);
    assert.throws(() => arena.gemm("nn", 2, 2, 3, a, 0, 3, b, 0, 2, other.alloc(4), 0, 2, false), /operand C is not memory of this arena/);
    assert.throws(() => arena.gemm("nn", 2, 2, 3, a, 1, 3, b, 0, 2, c, 0, 2, false), /operand A \[2, 3\] with row stride 3 at offset 1 does not fit its array of 6/);
    assert.throws(() => arena.gemm("nn", 2, 2, 3, a, 0, 2, b, 0, 2, c, 0, 2, false), /operand A .* row stride 2/);
    assert.throws(() => arena.fillRows(c, 0, 2, 3, 3, b, 0), /operand C/);
    const f64 = createFloat64Arena({ capacityMiB: 1 });
    assert.throws(() => arena.gemm("nn", 1, 1, 1, f64.alloc(1) as unknown as Float32Array, 0, 1, b, 0, 1, c, 0, 1, false), /operand A is not memory of this arena/);
  }
});

test("kernel selection: explicit choice, environment variable, and a missing or broken file", () => {
  assert.equal(getKernel("js").kind, "js");
  const saved = process.env[KERNEL_ENV];
  try {
    process.env[KERNEL_ENV] = "js";
    assert.equal(getKernel().kind, "js");
    assert.match(getKernel().reason, /S2R_NN_KERNEL=js/);
    process.env[KERNEL_ENV] = "fast";
    assert.throws(() => getKernel(), /S2R_NN_KERNEL: expected auto, wasm or js, got "fast"/);
    process.env[KERNEL_ENV] = "auto";
    assert.equal(getKernel().kind, "wasm");
  } finally {
    if (saved === undefined) delete process.env[KERNEL_ENV];
    else process.env[KERNEL_ENV] = saved;
  }
  const missing = compileWasmKernel("/nonexistent/nn-kernel.wasm");
  assert.ok("error" in missing && /\/nonexistent\/nn-kernel.wasm not found .*build-wasm\.mjs/.test(missing.error));
  const dir = mkdtempSync(join(tmpdir(), "s2r-nn-"));
  try {
    const bad = join(dir, "bad.wasm");
    writeFileSync(bad, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]));
    const broken = compileWasmKernel(bad);
    assert.ok("error" in broken && broken.error.includes("does not load"), JSON.stringify(broken));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
