import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../common/rng.js";
import { ConfigError } from "../../../common/schema.js";
import { PerceptionNet } from "../../../policies/perception/perception-net.js";
import { parsePerceptionNetConfig } from "../../../policies/perception/perception-config.js";
import { checkGradients, createFloat64Arena } from "../../../policies/nn/index.js";

/**
 * The perception network learns: a rod drawn from the image centre at a
 * known angle on a noisy background (a one-joint pendulum seen from the
 * front), trained from scratch for a few hundred small steps, ends far below
 * chance (a uniform guess is off by 90 degrees on average).
 */

const SIZE = 32;

function drawRod(rng: Rng, angle: number, into: Uint8Array, offset: number): void {
  const c = (SIZE - 1) / 2, len = 13;
  const ex = Math.sin(angle), ey = -Math.cos(angle); // 0 rad points up, positive to the right
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const px = x - c, py = y - c;
      const t = Math.max(0, Math.min(len, px * ex + py * ey));
      const d = Math.hypot(px - t * ex, py - t * ey);
      into[offset + y * SIZE + x] = d < 1.5 ? 180 + rng.int(76) : rng.int(90);
    }
  }
}

function batch(rng: Rng, n: number): { images: Uint8Array; angles: Float64Array } {
  const images = new Uint8Array(n * SIZE * SIZE), angles = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    angles[i] = rng.uniform(-Math.PI, Math.PI);
    drawRod(rng, angles[i]!, images, i * SIZE * SIZE);
  }
  return { images, angles };
}

const CONFIG = {
  inputWidth: SIZE, inputHeight: SIZE, encoding: "mono8", joints: ["pendulum_joint"], groups: 4,
  conv: [{ channels: 8, kernel: 5, stride: 2 }, { channels: 16, kernel: 3, stride: 2 }, { channels: 16, kernel: 3, stride: 2 }], head: [32],
};

test("PerceptionNet learns a rod's angle from noisy images (few hundred steps, far below chance)", (t) => {
  const net = PerceptionNet.create(CONFIG, { seed: 1, capacityMiB: 64 });
  try {
    const rng = new Rng(2);
    const B = 16;
    const ctx = net.newContext({ maxRows: B, backward: true });
    const adam = net.newAdam({ lr: 3e-3 });
    const val = batch(new Rng(99), 200);
    const evalCtx = net.newContext({ maxRows: 200 });
    const evalErr = () => {
      net.forward(evalCtx, val.images, 200);
      return net.loss(evalCtx, val.angles, 200).meanAbsErrorDeg[0]!;
    };
    const before = evalErr();
    let first = NaN, last = NaN;
    for (let step = 0; step < 400; step++) {
      const b = batch(rng, B);
      const r = net.trainStep(ctx, adam, b.images, b.angles, B);
      if (step === 0) first = r.loss;
      last = r.loss;
      assert.ok(Number.isFinite(r.loss), `step ${step}: loss ${r.loss}`);
    }
    const after = evalErr();
    t.diagnostic(`validation mean |angle error|: ${before.toFixed(1)} deg untrained -> ${after.toFixed(1)} deg after 400 steps`);
    assert.ok(before > 45, `an untrained network should be near chance, got ${before.toFixed(1)} deg`);
    assert.ok(after < 6, `validation error after training: ${after.toFixed(1)} deg (before ${before.toFixed(1)}), loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    // The angles from atan2 agree with the loss's error measure.
    const out = net.forward(evalCtx, val.images, 200);
    const q = net.anglesOf(out.joints, 200);
    assert.equal(q.length, 200);
    assert.ok(Math.abs(q[0]! - val.angles[0]!) < Math.PI);
  } finally {
    net.dispose();
  }
});

test("PerceptionNet: shapes, features exposed, two frames stacked, state round trip and bad input named", () => {
  const cfg = { ...CONFIG, encoding: "rgb8", framesStacked: 2, joints: ["arm_joint", "pendulum_joint"], pooling: "avg" };
  const a = PerceptionNet.create(cfg, { seed: 3, capacityMiB: 32 });
  const b = PerceptionNet.create(cfg, { seed: 4, capacityMiB: 32 });
  try {
    assert.deepEqual(a.inputShape, { height: SIZE, width: SIZE, channels: 6 });
    assert.equal(a.featureSize, 16);
    const rng = new Rng(5);
    const images = new Uint8Array(3 * a.inputBytesPerSample).map(() => rng.int(256));
    const ca = a.newContext({ maxRows: 3 }), cb = b.newContext({ maxRows: 3 });
    const ya = Float32Array.from(a.forward(ca, images, 3).joints.subarray(0, 12));
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    const out = b.forward(cb, images, 3);
    assert.deepEqual(Array.from(out.joints.subarray(0, 12)), Array.from(ya));
    assert.equal(out.features.length >= 3 * 16, true);
    assert.throws(() => a.forward(ca, images.subarray(0, 10), 3), /10 bytes for 3 images of 32x32x6/);
    const other = PerceptionNet.create({ ...cfg, head: [16] }, { capacityMiB: 32 });
    try {
      assert.throws(() => other.setState(a.getState()), /perception\.config/);
    } finally {
      other.dispose();
    }
    // A gradient on the features (a discriminator's) reaches the trunk.
    const ct = a.newContext({ maxRows: 3, backward: true });
    a.forward(ct, images, 3);
    a.params().forEach((p) => p.grad.fill(0));
    a.backward(ct, 3, new Float64Array(3 * a.featureSize).fill(1));
    assert.ok(a.trunk.params()[0]!.grad.some((g) => g !== 0));
  } finally {
    a.dispose();
    b.dispose();
  }
  assert.throws(() => parsePerceptionNetConfig({ conv: [{ channels: 12 }], groups: 8 }), (e: unknown) => e instanceof ConfigError && /perception\.conv\[0\]\.channels/.test(e.message));
  assert.throws(() => parsePerceptionNetConfig({ encodng: "rgb8" }), /perception\.encodng: unknown field/);
});

test("gradcheck: PerceptionNet loss (sin/cos MSE) through head and trunk, float64", () => {
  const arena = createFloat64Arena({ capacityMiB: 16 });
  const net = new PerceptionNet(arena, new Rng(11), {
    inputWidth: 8, inputHeight: 8, encoding: "mono8", joints: ["a", "b"], groups: 2, conv: [{ channels: 4, kernel: 3, stride: 2 }], head: [6],
  });
  const rows = 3, rng = new Rng(12);
  const images = new Uint8Array(rows * 64).map(() => rng.int(256));
  const angles = Float64Array.from({ length: rows * 2 }, () => rng.uniform(-Math.PI, Math.PI));
  const train = net.newContext({ maxRows: rows, backward: true }), infer = net.newContext({ maxRows: rows });
  net.params().forEach((p) => p.grad.fill(0));
  net.forward(train, images, rows);
  net.loss(train, angles, rows);
  net.backward(train, rows);
  const r = checkGradients(net.params().map((p) => ({ name: p.name, value: p.value, grad: p.grad })), () => {
    net.forward(infer, images, rows);
    return net.loss(infer, angles, rows).loss;
  });
  assert.ok(r.maxRelError <= 1e-6, `relative error ${r.maxRelError.toExponential(2)} at ${r.worst} (analytic ${r.analytic}, numeric ${r.numeric})`);
});
