import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import {
  Conv2d, Flatten, GlobalAvgPool, GradReverse, GroupNorm, Linear, Relu, Sequential, checkGradients, createFloat64Arena, getKernel,
  type Arena, type CheckedTensor, type FeedForward, type ImageShape,
} from "../../policies/nn/index.js";
import { BAR, checkFeedForward, dot, randomFill } from "./gradcheck-helpers.js";

/**
 * The image layers: float64 gradient checks against central finite
 * differences (bar 1e-6, as every other layer), a direct-convolution
 * reference for the im2col forward pass, the WebAssembly and TypeScript
 * kernels against each other, gradient reversal, and checkpoint state.
 */

/** Uniform values into a float32 or float64 array. */
function fill<T extends Float32Array | Float64Array>(rng: Rng, a: T, lo = -1, hi = 1): T {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/** out[n, oy, ox, co] by the definition, for comparison with im2col. */
function directConv(conv: Conv2d<any>, x: ArrayLike<number>, rows: number): Float64Array {
  const { height: H, width: W, channels: C } = conv.input;
  const { height: Ho, width: Wo, channels: Co } = conv.output;
  const k = conv.kernel, s = conv.stride, p = conv.padding, w = conv.weight.value, b = conv.bias.value;
  const out = new Float64Array(rows * Ho * Wo * Co);
  for (let n = 0; n < rows; n++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) for (let co = 0; co < Co; co++) {
    let acc = b[co]!;
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * s - p + ky, ix = ox * s - p + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < C; c++) acc += w[((co * k + ky) * k + kx) * C + c]! * x[((n * H + iy) * W + ix) * C + c]!;
    }
    out[((n * Ho + oy) * Wo + ox) * Co + co] = acc;
  }
  return out;
}

const CONVS: { input: ImageShape; outChannels: number; kernel: number; stride: number; padding: number }[] = [
  { input: { height: 5, width: 6, channels: 2 }, outChannels: 3, kernel: 3, stride: 1, padding: 0 },
  { input: { height: 7, width: 5, channels: 3 }, outChannels: 4, kernel: 3, stride: 2, padding: 1 },
  { input: { height: 8, width: 8, channels: 1 }, outChannels: 2, kernel: 5, stride: 2, padding: 2 },
  { input: { height: 4, width: 3, channels: 2 }, outChannels: 1, kernel: 1, stride: 1, padding: 0 },
];

test("Conv2d forward equals the direct convolution (stride, padding, kernel sizes)", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(1);
  for (const o of CONVS) {
    const conv = new Conv2d(arena, rng, o);
    const rows = 3;
    const x = fill(rng, arena.alloc(rows * conv.inFeatures));
    const y = conv.forward(conv.newContext({ maxRows: rows }), x, rows);
    const ref = directConv(conv, x, rows);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i]! - ref[i]!) < 1e-12, `${JSON.stringify(o)}: out[${i}] ${y[i]} vs ${ref[i]}`);
  }
});

test("gradcheck: Conv2d (weights, bias, input; stride and padding)", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(2);
  for (const o of CONVS) checkFeedForward(arena, new Conv2d(arena, rng, o), 2, rng);
});

test("gradcheck: GroupNorm (groups 1, 2 and C), with gamma and beta away from 1 and 0", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(3);
  for (const groups of [1, 2, 4]) {
    const gn = new GroupNorm(arena, { height: 3, width: 2, channels: 4 }, groups);
    fill(rng, gn.gamma.value, 0.5, 1.5);
    fill(rng, gn.beta.value, -0.5, 0.5);
    checkFeedForward(arena, gn, 3, rng, -2, 3);
  }
});

test("GroupNorm statistics are per sample: a sample's output does not depend on the rest of the batch", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(4);
  const gn = new GroupNorm(arena, { height: 4, width: 4, channels: 4 }, 2);
  const ctx = gn.newContext({ maxRows: 2 });
  const x = fill(rng, arena.alloc(2 * gn.inFeatures));
  const first = Float64Array.from(gn.forward(ctx, x, 2).subarray(0, gn.inFeatures));
  for (let i = gn.inFeatures; i < x.length; i++) x[i] = 100 + 50 * x[i]!; // another "domain"
  const again = gn.forward(ctx, x, 2).subarray(0, gn.inFeatures);
  for (let i = 0; i < first.length; i++) assert.equal(again[i], first[i]);
  // Normalized: each group of sample 0 has mean 0 and variance ~1 (gamma 1, beta 0).
  let s = 0, s2 = 0;
  for (let p = 0; p < 16; p++) for (let c = 0; c < 2; c++) { const v = first[p * 4 + c]!; s += v; s2 += v * v; }
  assert.ok(Math.abs(s / 32) < 1e-12 && Math.abs(s2 / 32 - 1) < 1e-3, `mean ${s / 32}, var ${s2 / 32}`);
});

test("gradcheck: Relu (inputs away from the kink), GlobalAvgPool, Flatten", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(5);
  const relu = new Relu(arena, 12);
  const x = fill(rng, arena.alloc(2 * 12), -1, 1);
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) < 0.05) x[i] = 0.5; // finite differences across 0 are wrong by design
  const w = fill(rng, new Float64Array(24));
  const dy = arena.alloc(24); dy.set(w);
  const ctx = relu.newContext({ maxRows: 2, backward: true });
  relu.forward(ctx, x, 2);
  const dx = Float64Array.from(relu.backward(ctx, dy, 2)!);
  const r = checkGradients([{ name: "x", value: x, grad: dx }], () => dot(relu.forward(relu.newContext({ maxRows: 2 }), x, 2), w, 24));
  assert.ok(r.maxRelError <= BAR, `Relu ${r.maxRelError}`);
  checkFeedForward(arena, new GlobalAvgPool(arena, { height: 3, width: 4, channels: 5 }), 3, rng);
  checkFeedForward(arena, new Flatten(arena, { height: 2, width: 3, channels: 2 }), 2, rng);
});

test("gradcheck: a small CNN (conv, groupnorm, relu, conv stride 2, pool, linear) as one Sequential", () => {
  const arena = createFloat64Arena({ capacityMiB: 16 });
  const rng = new Rng(6);
  const c1 = new Conv2d(arena, rng, { input: { height: 8, width: 8, channels: 2 }, outChannels: 4, kernel: 3, stride: 2, padding: 1, name: "c1" });
  const gn = new GroupNorm(arena, c1.output, 2, { name: "gn1" });
  const c2 = new Conv2d(arena, rng, { input: c1.output, outChannels: 6, kernel: 3, stride: 2, padding: 1, name: "c2" });
  const pool = new GlobalAvgPool(arena, c2.output);
  const lin = new Linear(arena, 6, 2, rng);
  const net = new Sequential<Float64Array>([c1, gn, c2, pool, new Relu(arena, 6), lin] as FeedForward<Float64Array, any, any>[]);
  fill(rng, c2.bias.value, 2, 3); // keep the ReLU's inputs positive: finite differences across its kink are not a test of the code
  checkFeedForward(arena, net, 2, rng);
});

test("GradReverse: identity forward, -lambda times the finite-difference gradient backward", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(7);
  const lambda = 0.7, rows = 3;
  const rev = new GradReverse(arena, 4, lambda);
  const lin = new Linear(arena, 4, 2, rng);
  const net = new Sequential<Float64Array>([rev, lin] as FeedForward<Float64Array, any, any>[]);
  const x = fill(rng, arena.alloc(rows * 4));
  const ctx = net.newContext({ maxRows: rows, backward: true });
  const y = net.forward(ctx, x, rows);
  const plain = lin.forward(lin.newContext({ maxRows: rows }), x, rows);
  for (let i = 0; i < rows * 2; i++) assert.equal(y[i], plain[i]);
  const w = fill(rng, new Float64Array(rows * 2));
  const dy = arena.alloc(rows * 2); dy.set(w);
  net.zeroGrad();
  const dx = net.backward(ctx, dy, rows)!;
  const unreversed = Float64Array.from(dx, (v) => v / -lambda);
  const infer = net.newContext({ maxRows: rows });
  const r = checkGradients(
    [{ name: "x", value: x, grad: unreversed }, ...lin.params().map((p) => ({ name: p.name, value: p.value, grad: p.grad }))],
    () => dot(net.forward(infer, x, rows), w, rows * 2),
  );
  assert.ok(r.maxRelError <= BAR, `GradReverse: ${r.maxRelError} at ${r.worst}`);
  assert.throws(() => new GradReverse(arena, 4, NaN), /lambda must be finite/);
});

test("Conv2d and GroupNorm: WebAssembly and TypeScript kernels agree in float32 (forward and backward)", () => {
  const results = (["wasm", "js"] as const).map((kind) => {
    const k = getKernel(kind);
    const arena = k.createArena({ capacityMiB: 32 });
    const rng = new Rng(8);
    const conv = new Conv2d(arena, rng, { input: { height: 20, width: 18, channels: 3 }, outChannels: 8, kernel: 5, stride: 2, padding: 2 });
    const gn = new GroupNorm(arena, conv.output, 4);
    const net = new Sequential([conv, gn] as FeedForward<Float32Array, any, any>[]);
    const rows = 5;
    const x = fill(rng, arena.alloc(rows * net.inFeatures)) as Float32Array;
    const dy = fill(rng, arena.alloc(rows * net.outFeatures)) as Float32Array;
    const ctx = net.newContext({ maxRows: rows, backward: true });
    const y = Float32Array.from(net.forward(ctx, x, rows).subarray(0, rows * net.outFeatures));
    const dx = Float32Array.from(net.backward(ctx, dy, rows)!);
    const out = { y, dx, dw: Float32Array.from(conv.weight.grad) };
    arena.dispose();
    return out;
  });
  const [a, b] = results;
  for (const key of ["y", "dx", "dw"] as const) {
    let worst = 0;
    for (let i = 0; i < a![key].length; i++) worst = Math.max(worst, Math.abs(a![key][i]! - b![key][i]!) / (1 + Math.abs(b![key][i]!)));
    assert.ok(worst < 1e-4, `${key}: kernels differ by ${worst}`);
  }
});

test("Conv2d / GroupNorm state round-trips and a mismatched architecture is refused naming the field", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(9);
  const a = new Conv2d(arena, rng, CONVS[1]!);
  const b = new Conv2d(arena, rng, CONVS[1]!);
  b.setState(JSON.parse(JSON.stringify(a.getState())));
  assert.deepEqual(Array.from(b.weight.value), Array.from(a.weight.value));
  const other = new Conv2d(arena, rng, { ...CONVS[1]!, stride: 1 });
  assert.throws(() => other.setState(a.getState(), "trunk.0"), /trunk\.0\.stride/);
  const gn = new GroupNorm(arena, { height: 2, width: 2, channels: 4 }, 2);
  assert.throws(() => new GroupNorm(arena, { height: 2, width: 2, channels: 4 }, 4).setState(gn.getState(), "gn"), /gn\.groups/);
  assert.throws(() => new GroupNorm(arena, { height: 2, width: 2, channels: 6 }, 4), /must divide the channels/);
  assert.throws(() => new Conv2d(arena, rng, { input: { height: 3, width: 3, channels: 1 }, outChannels: 1, kernel: 5 }), /does not fit/);
});
