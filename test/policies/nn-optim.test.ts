import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import { Adam, Gru, Linear, Mlp, clipGradNorm, createFloat64Arena, getKernel, type Param } from "../../policies/nn/index.js";

/** Adam, gradient clipping, and small training runs that must actually learn. */

function param(values: number[], name = "p"): Param<Float64Array> {
  return { name, value: Float64Array.from(values), grad: new Float64Array(values.length), shape: [values.length] };
}

test("adam: bias-corrected steps match the PyTorch formula", () => {
  const p = param([1, -2, 0.3]);
  const opt = new Adam([p], { lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-3 });
  const grads = [[0.5, -1, 0], [0.2, 0.4, -3]];
  const m = [0, 0, 0], v = [0, 0, 0], want = [1, -2, 0.3];
  grads.forEach((g, t) => {
    p.grad.set(g);
    opt.step();
    for (let i = 0; i < 3; i++) {
      m[i] = 0.8 * m[i]! + 0.2 * g[i]!;
      v[i] = 0.9 * v[i]! + 0.1 * g[i]! ** 2;
      const mHat = m[i]! / (1 - 0.8 ** (t + 1)), vHat = v[i]! / (1 - 0.9 ** (t + 1));
      want[i] = want[i]! - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-3);
      assert.ok(Math.abs(p.value[i]! - want[i]!) < 1e-12, `step ${t + 1} p[${i}] = ${p.value[i]}, want ${want[i]}`);
    }
  });
  assert.equal(opt.stepCount, 2);
});

test("adam: a run resumed from JSON state continues exactly; bad state names the field", () => {
  const rng = new Rng(31);
  const grads = Array.from({ length: 5 }, () => [rng.normal(), rng.normal()]);
  const a = param([0.1, 0.2], "w");
  const optA = new Adam([a], { lr: 0.05, weightDecay: 0.01 });
  let saved: { state: unknown; value: number[] } | undefined;
  grads.forEach((g, t) => {
    a.grad.set(g);
    optA.step();
    if (t === 2) saved = { state: JSON.parse(JSON.stringify(optA.getState())), value: [...a.value] };
  });
  const b = param(saved!.value, "w");
  const optB = new Adam([b], { lr: 0.05, weightDecay: 0.01 });
  optB.setState(saved!.state);
  for (const g of grads.slice(3)) {
    b.grad.set(g);
    optB.step();
  }
  assert.deepEqual([...b.value], [...a.value]);
  const st = structuredClone(saved!.state) as { m: Record<string, unknown> };
  st.m = { v: st.m["w"] };
  assert.throws(() => optB.setState(st, "opt"), /opt\.m\.v: no parameter of this optimizer has that name/);
  assert.throws(() => new Adam([param([1], "x"), param([2], "x")]), /two parameters are named "x"/);
  assert.throws(() => new Adam([a], { beta2: 1 }), /beta2 must be in \[0, 1\)/);
});

test("clipGradNorm returns the norm before clipping and scales to maxNorm", () => {
  const a = param([0, 0]), b = param([0]);
  a.grad.set([3, 0]);
  b.grad.set([4]);
  assert.equal(clipGradNorm([a, b], 10), 5);
  assert.deepEqual([...a.grad, ...b.grad], [3, 0, 4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  const n = Math.hypot(a.grad[0]!, a.grad[1]!, b.grad[0]!);
  assert.ok(Math.abs(n - 1) < 1e-6, `norm after clipping ${n}`);
  b.grad[0] = NaN;
  assert.ok(Number.isNaN(clipGradNorm([a, b], 1)));
  assert.ok(Math.abs(a.grad[0]! - 0.6) < 1e-6, "non-finite norm leaves gradients untouched");
});

test("training: an MLP fits a smooth 2-D function (float32, default kernel)", () => {
  const arena = getKernel().createArena({ capacityMiB: 8 });
  const rng = new Rng(32);
  const N = 256;
  const mlp = new Mlp(arena, rng, { sizes: [2, 32, 32, 1] });
  const x = arena.alloc(N * 2), y = new Float32Array(N), dy = arena.alloc(N);
  for (let i = 0; i < N; i++) {
    x[2 * i] = rng.uniform(-2, 2);
    x[2 * i + 1] = rng.uniform(-1, 1);
    y[i] = Math.sin(x[2 * i]!) * x[2 * i + 1]!;
  }
  const ctx = mlp.newContext({ maxRows: N, backward: true, inputGrad: false });
  const opt = new Adam(mlp.params(), { lr: 1e-2 });
  const lossAt = () => {
    const out = mlp.forward(ctx, x, N);
    let l = 0;
    for (let i = 0; i < N; i++) {
      const e = out[i]! - y[i]!;
      l += (e * e) / N;
      dy[i] = (2 * e) / N;
    }
    return l;
  };
  const first = lossAt();
  let last = first;
  for (let it = 0; it < 300; it++) {
    opt.zeroGrad();
    last = lossAt();
    mlp.backward(ctx, dy, N);
    clipGradNorm(mlp.params(), 1);
    opt.step();
  }
  assert.ok(last < first / 100, `loss ${first} -> ${last}`);
  arena.dispose();
});

test("training: a GRU learns to remember the first input of each episode across resets", () => {
  const arena = getKernel().createArena({ capacityMiB: 16 });
  const rng = new Rng(33);
  const T = 8, B = 32, H = 16, rows = T * B;
  const gru = new Gru(arena, 1, H, rng);
  const out = new Linear(arena, H, 1, rng);
  const params = [...gru.params(), ...out.params()];
  const opt = new Adam(params, { lr: 1e-2 });
  const gctx = gru.newContext({ maxSteps: T, maxBatch: B, backward: true, inputGrad: false });
  const lctx = out.newContext({ maxRows: rows, backward: true });
  const x = arena.alloc(rows), dy = arena.alloc(rows), target = new Float32Array(rows), done = new Uint8Array(rows);
  const state0 = new Float32Array(B * H);
  let firstLoss = 0, loss = 0;
  for (let it = 0; it < 250; it++) {
    // Episodes of random length; the target is the episode's first input (a cue that is then replaced by noise).
    for (let b = 0; b < B; b++) {
      let cue = 0;
      for (let t = 0; t < T; t++) {
        const start = t === 0 || rng.next() < 0.2;
        done[t * B + b] = start ? 1 : 0;
        if (start) cue = rng.next() < 0.5 ? -1 : 1;
        x[t * B + b] = start ? cue : rng.uniform(-0.2, 0.2);
        target[t * B + b] = cue;
      }
    }
    opt.zeroGrad();
    const h = gru.forward(gctx, x, state0, done, T, B);
    const pred = out.forward(lctx, h, rows);
    loss = 0;
    for (let i = 0; i < rows; i++) {
      const e = pred[i]! - target[i]!;
      loss += (e * e) / rows;
      dy[i] = (2 * e) / rows;
    }
    if (it === 0) firstLoss = loss;
    gru.backward(gctx, out.backward(lctx, dy, rows), null);
    clipGradNorm(params, 1);
    opt.step();
  }
  assert.ok(loss < 0.02 && loss < firstLoss / 50, `loss ${firstLoss} -> ${loss}`);
  arena.dispose();
});

test("float64 and float32 Adam agree", () => {
  const rng = new Rng(34);
  const a64 = createFloat64Arena({ capacityMiB: 1 }), a32 = getKernel().createArena({ capacityMiB: 1 });
  const l64 = new Linear(a64, 3, 2, new Rng(1)), l32 = new Linear(a32, 3, 2, new Rng(1));
  l64.setState(l32.getState());
  const o64 = new Adam(l64.params(), { lr: 0.01 }), o32 = new Adam(l32.params(), { lr: 0.01 });
  for (let s = 0; s < 5; s++) {
    for (let q = 0; q < 2; q++) for (let i = 0; i < l64.params()[q]!.grad.length; i++) l64.params()[q]!.grad[i] = l32.params()[q]!.grad[i] = rng.normal();
    o64.step();
    o32.step();
  }
  for (let q = 0; q < 2; q++) for (let i = 0; i < l64.params()[q]!.value.length; i++) assert.ok(Math.abs(l64.params()[q]!.value[i]! - l32.params()[q]!.value[i]!) < 1e-5);
});
