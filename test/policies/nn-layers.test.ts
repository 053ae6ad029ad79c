import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import type { LayerSpec } from "../../policies/network-spec.js";
import {
  GaussianHead, Gru, Linear, Lstm, Mlp, RunningNorm, createFloat64Arena, getKernel,
  type Arena, type Floats, type Recurrent,
} from "../../policies/nn/index.js";

/**
 * Layers against independent references: the PyTorch formulas of the network
 * spec, float32 (WebAssembly and TypeScript kernels) against float64, step()
 * against forward(), and the reentrancy of inference and training contexts.
 */

function fill(rng: Rng, a: Floats, lo = -1, hi = 1): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));

function matVecRow(w: Float32Array, row: number, cols: number, x: ArrayLike<number>, xOff: number): number {
  let s = 0;
  for (let c = 0; c < cols; c++) s += w[row * cols + c]! * x[xOff + c]!;
  return s;
}

/** Scalar GRU / LSTM straight from the spec's equations, from the exported weights. */
function referenceRecurrent(spec: LayerSpec, x: Float32Array, state0: Float64Array, done: Uint8Array, T: number, B: number): Float64Array {
  if (spec.kind !== "gru" && spec.kind !== "lstm") throw new Error("not recurrent");
  const { inFeatures: I, hidden: H, wIh, wHh, bIh, bHh } = spec;
  const lstm = spec.kind === "lstm";
  const S = lstm ? 2 * H : H;
  const state = Float64Array.from(state0);
  const out = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      if (done[t * B + b]) state.fill(0, b * S, (b + 1) * S);
      const h = state.slice(b * S, b * S + H), c = lstm ? state.slice(b * S + H, b * S + 2 * H) : null;
      const pre = (row: number, withHidden: boolean) =>
        matVecRow(wIh, row, I, x, (t * B + b) * I) + bIh[row]! + (withHidden ? matVecRow(wHh, row, H, h, 0) + bHh[row]! : 0);
      for (let j = 0; j < H; j++) {
        let hj: number;
        if (!lstm) {
          const r = sig(pre(j, true)), z = sig(pre(H + j, true));
          const n = Math.tanh(pre(2 * H + j, false) + r * (matVecRow(wHh, 2 * H + j, H, h, 0) + bHh[2 * H + j]!));
          hj = (1 - z) * n + z * h[j]!;
        } else {
          const i = sig(pre(j, true)), f = sig(pre(H + j, true)), g = Math.tanh(pre(2 * H + j, true)), o = sig(pre(3 * H + j, true));
          const cj = f * c![j]! + i * g;
          state[b * S + H + j] = cj;
          hj = o * Math.tanh(cj);
        }
        state[b * S + j] = hj;
        out[(t * B + b) * H + j] = hj;
      }
    }
  }
  return out;
}

for (const [kind, H] of [["gru", 6], ["gru", 8], ["lstm", 6], ["lstm", 8]] as const) {
  // H = 8 runs the fused WebAssembly cells, H = 6 the TypeScript ones.
  test(`${kind} (H=${H}): forward follows the spec's PyTorch equations and gate order, resets included`, () => {
    const arena = getKernel().createArena({ capacityMiB: 16 });
    const rng = new Rng(21);
    const T = 7, B = 5, I = 3;
    const layer: Recurrent = kind === "gru" ? new Gru(arena, I, H, rng) : new Lstm(arena, I, H, rng);
    const x = arena.alloc(T * B * I);
    fill(rng, x, -2, 2);
    const state0 = new Float64Array(B * layer.stateSize);
    fill(rng, state0);
    const done = new Uint8Array(T * B);
    done[2 * B + 1] = done[0 * B + 3] = done[5 * B + 3] = 1;
    const ctx = layer.newContext({ maxSteps: T, maxBatch: B });
    const out = layer.forward(ctx, x, state0, done, T, B);
    const want = referenceRecurrent(layer.toSpec()[0]!, x, state0, done, T, B);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i]! - want[i]!) < 2e-5, `out[${i}] = ${out[i]}, want ${want[i]}`);
    arena.dispose();
  });
}

for (const kind of ["gru", "lstm"] as const) {
  test(`${kind}: step() repeated equals forward() over the sequence, state advanced in place`, () => {
    const arena = getKernel().createArena({ capacityMiB: 16 });
    const rng = new Rng(22);
    const T = 6, B = 4, I = 5, H = 8;
    const layer: Recurrent = kind === "gru" ? new Gru(arena, I, H, rng) : new Lstm(arena, I, H, rng);
    const S = layer.stateSize;
    const x = arena.alloc(T * B * I);
    fill(rng, x);
    const state0 = new Float32Array(B * S);
    fill(rng, state0);
    const done = new Uint8Array(T * B);
    done[3 * B + 2] = 1;
    const seq = layer.newContext({ maxSteps: T, maxBatch: B });
    const out = Float32Array.from(layer.forward(seq, x, state0, done, T, B));
    const stepCtx = layer.newContext({ maxSteps: 1, maxBatch: B });
    const xt = arena.alloc(B * I);
    const state = Float32Array.from(state0);
    for (let t = 0; t < T; t++) {
      xt.set(x.subarray(t * B * I, (t + 1) * B * I));
      const h = layer.step(stepCtx, xt, state, B, done.subarray(t * B, (t + 1) * B));
      for (let i = 0; i < B * H; i++) assert.ok(Math.abs(h[i]! - out[t * B * H + i]!) < 1e-6, `t=${t} h[${i}]`);
    }
    for (let i = 0; i < B * S; i++) assert.ok(Math.abs(state[i]! - seq.stateT[i]!) < 1e-6, `final state[${i}]`);
    arena.dispose();
  });
}

test("linear: toSpec is W [out, in] with y = W x + b", () => {
  const arena = getKernel().createArena({ capacityMiB: 1 });
  const rng = new Rng(23);
  const lin = new Linear(arena, 3, 2, rng);
  const x = arena.alloc(3);
  x.set([0.5, -1, 2]);
  const y = lin.forward(lin.newContext({ maxRows: 1 }), x, 1);
  const spec = lin.toSpec()[0]!;
  assert.equal(spec.kind, "linear");
  if (spec.kind !== "linear") return;
  for (let o = 0; o < 2; o++) assert.ok(Math.abs(y[o]! - (matVecRow(spec.weight, o, 3, x, 0) + spec.bias[o]!)) < 1e-6);
  assert.deepEqual(lin.weight.shape, [2, 3]);
});

test("mlp: toSpec lists linear and activation layers in order; orthogonal init is orthogonal", () => {
  const arena = getKernel().createArena({ capacityMiB: 4 });
  const mlp = new Mlp(arena, new Rng(24), { sizes: [4, 16, 8, 2], activation: "elu", outputActivation: "tanh", hiddenGain: 2 });
  assert.deepEqual(mlp.toSpec().map((l) => l.kind), ["linear", "elu", "linear", "elu", "linear", "tanh"]);
  // First layer W is [16, 4]: its 4 columns are orthogonal with norm = gain.
  const w = mlp.linears[0]!.weight.value;
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      let s = 0;
      for (let r = 0; r < 16; r++) s += w[r * 4 + a]! * w[r * 4 + b]!;
      assert.ok(Math.abs(s - (a === b ? 4 : 0)) < 1e-5, `W^T W [${a},${b}] = ${s}`);
    }
  }
  assert.deepEqual([...mlp.linears[0]!.bias.value], new Array(16).fill(0));
});

/** A recurrent policy as the trainer will build it: norm -> GRU/LSTM -> MLP -> Gaussian head. */
function policy<A extends Floats>(arena: Arena<A>, kind: "gru" | "lstm", seed: number) {
  const rng = new Rng(seed);
  const rnn: Recurrent<A> = kind === "gru" ? new Gru(arena, 6, 16, rng, { name: "pi.rnn" }) : new Lstm(arena, 6, 16, rng, { name: "pi.rnn" });
  const mlp = new Mlp(arena, rng, { sizes: [16, 32, 2], name: "pi.mlp", outputGain: 0.5 });
  const head = new GaussianHead(arena, 2, { initLogStd: -0.5, name: "pi.head" });
  return { rnn, mlp, head, params: () => [...rnn.params(), ...mlp.params(), ...head.params()] };
}

/** Forward + backward of loss = sum_r w_r logp_r + 0.1 H over [T, B]; returns the gradients and logp. */
function policyGradients<A extends Floats>(arena: Arena<A>, net: ReturnType<typeof policy<A>>, T: number, B: number, data: { x: Float64Array; actions: Float64Array; w: Float64Array; done: Uint8Array; state0: Float64Array }) {
  const rows = T * B;
  const x = arena.alloc(rows * 6);
  x.set(data.x);
  const rctx = net.rnn.newContext({ maxSteps: T, maxBatch: B, backward: true, inputGrad: false });
  const mctx = net.mlp.newContext({ maxRows: rows, backward: true });
  for (const p of net.params()) p.grad.fill(0);
  const hs = net.rnn.forward(rctx, x, data.state0, data.done, T, B);
  const mean = net.mlp.forward(mctx, hs, rows);
  const logp = new Float64Array(rows);
  net.head.logProb(mean, data.actions, rows, logp);
  const dMean = arena.alloc(rows * 2);
  net.head.logProbBackward(mean, data.actions, data.w, rows, dMean);
  net.head.entropyBackward(0.1);
  const dh = net.mlp.backward(mctx, dMean, rows)!;
  net.rnn.backward(rctx, dh, null);
  return { grads: net.params().map((p) => Float64Array.from(p.grad)), logp, dState0: Float64Array.from(rctx.dState0!) };
}

for (const kind of ["gru", "lstm"] as const) {
  test(`${kind} policy: float32 WebAssembly and TypeScript kernels agree with float64 (forward and gradients)`, () => {
    const T = 8, B = 6, rng = new Rng(25);
    const rand = (n: number, s = 1) => Float64Array.from({ length: n }, () => rng.uniform(-s, s));
    const done = new Uint8Array(T * B);
    done[4 * B + 0] = done[1 * B + 5] = 1;
    const data = { x: rand(T * B * 6, 2), actions: rand(T * B * 2), w: rand(T * B), done, state0: rand(B * (kind === "gru" ? 16 : 32), 0.5) };
    const arenas = [getKernel("wasm").createArena({ capacityMiB: 16 }), getKernel("js").createArena({ capacityMiB: 16 })];
    const f64 = createFloat64Arena({ capacityMiB: 16 });
    const ref = policy(f64, kind, 1);
    const nets = arenas.map((a) => policy(a, kind, 1));
    // Same initial weights everywhere: load the float32 weights into the float64 net.
    ref.rnn.setState(JSON.parse(JSON.stringify(nets[0]!.rnn.getState())));
    ref.mlp.setState(nets[0]!.mlp.getState());
    ref.head.setState(nets[0]!.head.getState());
    const want = policyGradients(f64, ref, T, B, data);
    nets.forEach((net, q) => {
      const got = policyGradients(arenas[q]!, net, T, B, data);
      const label = arenas[q]!.kernel;
      for (let i = 0; i < want.logp.length; i++) assert.ok(Math.abs(got.logp[i]! - want.logp[i]!) < 1e-4, `${label} logp[${i}]`);
      want.grads.forEach((g, p) => {
        let err = 0, norm = 0;
        for (let i = 0; i < g.length; i++) {
          err = Math.max(err, Math.abs(got.grads[p]![i]! - g[i]!));
          norm = Math.max(norm, Math.abs(g[i]!));
        }
        assert.ok(norm > 0, `${net.params()[p]!.name} has no gradient`);
        assert.ok(err <= 1e-4 * Math.max(1, norm), `${label} ${net.params()[p]!.name}: max error ${err} (scale ${norm})`);
      });
      for (let i = 0; i < want.dState0.length; i++) assert.ok(Math.abs(got.dState0[i]! - want.dState0[i]!) < 1e-4, `${label} dState0[${i}]`);
    });
  });
}

test("reentrancy: inference steps between a training forward and its backward change nothing", () => {
  const arena = getKernel().createArena({ capacityMiB: 16 });
  const rng = new Rng(26);
  const T = 5, B = 4;
  const gru = new Gru(arena, 3, 8, rng);
  const x = arena.alloc(T * B * 3);
  fill(rng, x);
  const dOut = new Float32Array(T * B * 8);
  fill(rng, dOut);
  const s0 = new Float32Array(B * 8);
  const train = gru.newContext({ maxSteps: T, maxBatch: B, backward: true });
  const grads = (interleave: boolean) => {
    gru.zeroGrad();
    gru.forward(train, x, s0, null, T, B);
    if (interleave) {
      const infer = gru.newContext({ maxSteps: 1, maxBatch: 2 });
      const xs = arena.alloc(2 * 3);
      fill(rng, xs);
      const st = new Float32Array(2 * 8);
      for (let i = 0; i < 3; i++) gru.step(infer, xs, st, 2);
    }
    gru.backward(train, dOut, null);
    return gru.params().map((p) => Float32Array.from(p.grad));
  };
  assert.deepEqual(grads(true), grads(false));
});

test("context misuse is a clear error", () => {
  const arena = getKernel().createArena({ capacityMiB: 4 });
  const rng = new Rng(27);
  const a = new Linear(arena, 2, 2, rng), b = new Linear(arena, 2, 2, rng);
  const ctx = a.newContext({ maxRows: 2 });
  const x = arena.alloc(6);
  assert.throws(() => b.forward(ctx, x, 1), /created by another module/);
  assert.throws(() => a.forward(ctx, x, 3), /rows must be an integer in \[0, 2\]/);
  a.forward(ctx, x, 2);
  assert.throws(() => a.backward(ctx, x, 2), /without backward: true/);
  const train = a.newContext({ maxRows: 2, backward: true });
  assert.throws(() => a.backward(train, x, 2), /no forward pass/);
  a.forward(train, x, 2);
  assert.throws(() => a.backward(train, x, 1), /1 rows, but the forward pass had 2/);
  assert.throws(() => a.forward(ctx, new Float32Array(4), 2), /not memory of this arena/);
  const gru = new Gru(arena, 2, 3, rng);
  const g = gru.newContext({ maxSteps: 2, maxBatch: 2 });
  assert.throws(() => gru.forward(g, x, new Float32Array(6), null, 3, 1), /steps must be an integer in \[1, 2\]/);
  assert.throws(() => gru.forward(g, x, new Float32Array(2), null, 1, 2), /state has 2 elements, need 2 x 3/);
  assert.throws(() => gru.newContext({ maxSteps: 2, maxBatch: 2, inputGrad: true }), /inputGrad needs backward/);
});

test("running norm: batched updates equal the statistics of all rows; normalize clips; state round-trips", () => {
  const rng = new Rng(28);
  const D = 3, norm = new RunningNorm(D, { clip: 5 });
  const all: number[][] = [];
  for (const rows of [1, 7, 30, 2]) {
    const x = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) {
      const row = [rng.normal() * 3 + 10, rng.uniform(-1, 1), 42];
      x.set(row, r * D);
      all.push(row.map((v) => Math.fround(v)));
    }
    norm.update(x, rows);
  }
  assert.equal(norm.count, all.length);
  for (let d = 0; d < D; d++) {
    const mean = all.reduce((s, r) => s + r[d]!, 0) / all.length;
    const variance = all.reduce((s, r) => s + (r[d]! - mean) ** 2, 0) / all.length;
    assert.ok(Math.abs(norm.mean[d]! - mean) < 1e-9 * (1 + Math.abs(mean)), `mean[${d}]`);
    assert.ok(Math.abs(norm.var[d]! - variance) < 1e-9 * (1 + variance), `var[${d}]`);
  }
  const out = new Float32Array(2 * D);
  norm.normalize(new Float32Array([norm.mean[0]! + 1e6, norm.mean[1]!, 42, -1e6, 0, 42]), 2, out);
  assert.equal(out[0], 5);
  assert.equal(out[3], -5);
  assert.ok(Math.abs(out[1]!) < 1e-6 && out[2] === 0);
  const copy = new RunningNorm(D, { clip: 5 });
  copy.setState(JSON.parse(JSON.stringify(norm.getState())));
  assert.deepEqual([copy.count, [...copy.mean], [...copy.var]], [norm.count, [...norm.mean], [...norm.var]]);
  const spec = norm.toSpec()[0]!;
  assert.ok(spec.kind === "normalize" && spec.size === D && spec.clip === 5 && spec.eps === 1e-8);
  assert.throws(() => norm.update(new Float32Array([1, NaN, 3]), 1), /x\[0, 1\] is NaN/);
  assert.throws(() => new RunningNorm(D).setState(norm.getState(), "obsNorm"), /obsNorm\.clip: expected 10/);
});

test("gaussian head: log-prob and entropy match the closed form; samples have the right moments", () => {
  const arena = getKernel().createArena({ capacityMiB: 1 });
  const head = new GaussianHead(arena, 2, { initLogStd: Math.log(0.5) });
  const mean = new Float32Array([1, -1]), act = new Float32Array([1.5, -1]);
  const logp = new Float32Array(1);
  head.logProb(mean, act, 1, logp);
  const pdf = (a: number, m: number, s: number) => Math.exp(-0.5 * ((a - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
  assert.ok(Math.abs(logp[0]! - Math.log(pdf(1.5, 1, 0.5) * pdf(-1, -1, 0.5))) < 1e-5);
  assert.ok(Math.abs(head.entropy() - 2 * (0.5 * Math.log(2 * Math.PI * Math.E * 0.25))) < 1e-6);
  const rng = new Rng(29), n = 20000, out = new Float32Array(2 * n), means = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) means.set([1, -1], 2 * i);
  head.sample(means, n, rng, out);
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) { s += out[2 * i]!; s2 += (out[2 * i]! - 1) ** 2; }
  assert.ok(Math.abs(s / n - 1) < 0.02 && Math.abs(Math.sqrt(s2 / n) - 0.5) < 0.02);
});

test("checkpoint state: JSON round trip restores weights; mismatches name the field and change nothing", () => {
  const arena = getKernel().createArena({ capacityMiB: 8 });
  const a = policy(arena, "lstm", 1), b = policy(arena, "lstm", 2);
  const json = JSON.parse(JSON.stringify({ rnn: a.rnn.getState(), mlp: a.mlp.getState(), head: a.head.getState() }));
  b.rnn.setState(json.rnn);
  b.mlp.setState(json.mlp);
  b.head.setState(json.head);
  const specs = (n: typeof a) => [...n.rnn.toSpec(), ...n.mlp.toSpec()];
  assert.deepEqual(specs(b), specs(a));
  assert.deepEqual([...b.head.logStd.value], [...a.head.logStd.value]);

  const c = policy(arena, "lstm", 3);
  const before = specs(c);
  const badShape = structuredClone(json.rnn);
  badShape.wHh.shape = [64, 8];
  assert.throws(() => c.rnn.setState(badShape), /pi\.rnn\.wHh\.shape: expected \[64, 16\], got \[64,8\]/);
  const badLayer = structuredClone(json.mlp);
  badLayer.layers[1].bias.data = "AAAA";
  assert.throws(() => c.mlp.setState(badLayer), /pi\.mlp\.layers\[1\]\.bias\.data: expected 2 float32 values \(8 bytes\), got 3 bytes/);
  assert.deepEqual(specs(c), before, "a failed load must leave the weights unchanged");
  assert.throws(() => c.rnn.setState({ ...json.rnn, kind: "gru" }), /pi\.rnn\.kind: expected "lstm", got "gru"/);
  assert.throws(() => c.mlp.setState({ ...json.mlp, sizes: [16, 64, 2] }), /pi\.mlp\.sizes: expected \[16,32,2\]/);
  const f64 = createFloat64Arena({ capacityMiB: 8 });
  const d = policy(f64, "lstm", 4);
  d.rnn.setState(json.rnn);
  assert.deepEqual(d.rnn.toSpec(), a.rnn.toSpec(), "float32 state loads into a float64 module exactly");
});
