import test from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { Rng } from "../../common/rng.js";
import { exportPolicyOnnx, type ExportOptions } from "../../policies/onnx/export-policy.js";
import { ReferencePolicy } from "../../policies/onnx/reference.js";
import { randomPolicyParts, type RandomPolicyShape } from "../../policies/onnx/random-parts.js";

// The exported graph, run by onnxruntime-node through its public API, against
// the float64 reference evaluator written from network-spec.ts: 1000
// consecutive steps with the recurrent state carried through the model
// (h_out fed back as h_in), comparing the action, the OSI estimate and the
// state at every step.

const STEPS = 1000;
const TOLERANCE = 1e-5;

interface Case {
  name: string;
  shape: RandomPolicyShape;
  options?: ExportOptions;
}

const CASES: Case[] = [
  { name: "MLP actor", shape: { obsSize: 5, actSize: 2, actor: { hidden: [32, 32], activation: "tanh" } } },
  {
    name: "MLP actor, in-graph normalization, clipped action",
    shape: { obsSize: 5, actSize: 2, normalizeObs: true, actor: { hidden: [32] } },
    options: { actionBound: { kind: "clip", low: [-0.3, -0.2], high: [0.3, 0.25] } },
  },
  {
    name: "GRU actor, tanh-squashed action",
    shape: { obsSize: 6, actSize: 1, normalizeObs: true, actor: { hidden: [16], recurrent: { kind: "gru", size: 24 } } },
    options: { actionBound: { kind: "tanh", low: [-6], high: [6] } },
  },
  { name: "LSTM actor", shape: { obsSize: 6, actSize: 2, actor: { hidden: [16], recurrent: { kind: "lstm", size: 20 }, head: [16] } } },
  {
    name: "UP-OSI: MLP OSI conditioning an MLP actor",
    shape: { obsSize: 5, actSize: 1, normalizeObs: true, osi: { outSize: 3, hidden: [16] }, actor: { hidden: [32] } },
  },
  {
    name: "UP-OSI: GRU OSI conditioning a GRU actor (concatenated h)",
    shape: { obsSize: 5, actSize: 1, normalizeObs: true, osi: { outSize: 4, hidden: [16], recurrent: { kind: "gru", size: 12 } }, actor: { hidden: [16], recurrent: { kind: "gru", size: 20 } } },
  },
  {
    name: "UP-OSI: LSTM OSI conditioning a GRU actor (c holds only the OSI cell)",
    shape: { obsSize: 4, actSize: 2, osi: { outSize: 3, hidden: [], recurrent: { kind: "lstm", size: 10 } }, actor: { hidden: [16], recurrent: { kind: "gru", size: 14 } } },
  },
  {
    name: "UP-OSI: LSTM OSI and LSTM actor",
    shape: { obsSize: 4, actSize: 1, osi: { outSize: 2, hidden: [8], recurrent: { kind: "lstm", size: 9 } }, actor: { hidden: [], recurrent: { kind: "lstm", size: 11 } } },
    options: { actionBound: { kind: "clip", low: [-0.5], high: [0.5] } },
  },
  {
    name: "GRU OSI as a side output only, MLP actor",
    shape: { obsSize: 5, actSize: 1, osi: { outSize: 3, hidden: [8], recurrent: { kind: "gru", size: 8 }, conditionsActor: false }, actor: { hidden: [16] } },
  },
];

function tensor(data: Float32Array, batch: number): ort.Tensor {
  return new ort.Tensor("float32", data, [batch, data.length / batch]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

CASES.forEach((c, caseIndex) => {
  test(`parity over ${STEPS} steps: ${c.name}`, async () => {
    const parts = randomPolicyParts(c.shape, 100 + caseIndex);
    const session = await ort.InferenceSession.create(exportPolicyOnnx(parts, c.options));
    const ref = new ReferencePolicy(parts, c.options);
    const { hSize, cSize, osiSize } = ref.layout;
    try {
      const rng = Rng.derive(7, caseIndex);
      let h: Float32Array = new Float32Array(hSize);
      let cell: Float32Array = new Float32Array(cSize);
      const worst = { action: 0, osi: 0, h: 0, c: 0 };
      for (let step = 0; step < STEPS; step++) {
        // Wide observations so the normalizer's clip and the action bounds are exercised.
        const obs = Float32Array.from({ length: c.shape.obsSize }, () => 3 * rng.normal());
        const feeds: Record<string, ort.Tensor> = { obs: tensor(obs, 1) };
        if (hSize > 0) feeds.h_in = tensor(h, 1);
        if (cSize > 0) feeds.c_in = tensor(cell, 1);
        const out = await session.run(feeds);
        const want = ref.step(obs);
        worst.action = Math.max(worst.action, maxAbsDiff(out.action!.data as Float32Array, want.action));
        if (osiSize > 0) worst.osi = Math.max(worst.osi, maxAbsDiff(out.osi!.data as Float32Array, want.osi!));
        if (hSize > 0) {
          h = out.h_out!.data as Float32Array;
          worst.h = Math.max(worst.h, maxAbsDiff(h, ref.h));
        }
        if (cSize > 0) {
          cell = out.c_out!.data as Float32Array;
          worst.c = Math.max(worst.c, maxAbsDiff(cell, ref.c));
        }
      }
      if (process.env.S2R_PRINT_PARITY) console.log(c.name, JSON.stringify(worst));
      for (const [what, d] of Object.entries(worst)) assert.ok(d <= TOLERANCE, `${what}: max |onnx − reference| = ${d.toExponential(2)} > ${TOLERANCE}`);
      // The state must actually have moved, or the comparison proves little.
      if (hSize > 0) assert.ok(maxAbsDiff(h, new Float32Array(hSize)) > 0.05);
    } finally {
      await session.release();
    }
  });
});

test("the batch dimension is dynamic: 4 independent rows match 4 reference policies", async () => {
  const shape = CASES[5]!.shape;
  const parts = randomPolicyParts(shape, 105);
  const session = await ort.InferenceSession.create(exportPolicyOnnx(parts));
  const refs = Array.from({ length: 4 }, () => new ReferencePolicy(parts));
  const { hSize, obsSize } = refs[0]!.layout;
  const rng = new Rng(3);
  let h: Float32Array = new Float32Array(4 * hSize);
  try {
    for (let step = 0; step < 50; step++) {
      const obs = Float32Array.from({ length: 4 * obsSize }, () => 2 * rng.normal());
      const out = await session.run({ obs: tensor(obs, 4), h_in: tensor(h, 4) });
      assert.deepEqual(out.action!.dims, [4, 1]);
      h = out.h_out!.data as Float32Array;
      refs.forEach((ref, row) => {
        const want = ref.step(obs.subarray(row * obsSize, (row + 1) * obsSize));
        assert.ok(Math.abs((out.action!.data as Float32Array)[row]! - want.action[0]!) <= TOLERANCE);
        assert.ok(maxAbsDiff(h.subarray(row * hSize, (row + 1) * hSize), ref.h) <= TOLERANCE);
      });
    }
  } finally {
    await session.release();
  }
});

test("networks that end on their recurrent layer (action and osi are also state outputs)", async () => {
  // Output widths equal the recurrent widths, so dropping the final linear layers keeps the sizes consistent.
  const parts = randomPolicyParts({ obsSize: 3, actSize: 5, osi: { outSize: 4, hidden: [], recurrent: { kind: "lstm", size: 4 } }, actor: { hidden: [], recurrent: { kind: "gru", size: 5 } } }, 3);
  parts.actor.layers.pop();
  parts.osi!.network.layers.pop();
  const session = await ort.InferenceSession.create(exportPolicyOnnx(parts));
  const ref = new ReferencePolicy(parts);
  let h: Float32Array = new Float32Array(9);
  let cell: Float32Array = new Float32Array(4);
  try {
    for (let step = 0; step < 100; step++) {
      const obs = Float32Array.of(Math.sin(step), Math.cos(step), 0.3);
      const out = await session.run({ obs: tensor(obs, 1), h_in: tensor(h, 1), c_in: tensor(cell, 1) });
      const want = ref.step(obs);
      h = out.h_out!.data as Float32Array;
      cell = out.c_out!.data as Float32Array;
      assert.ok(maxAbsDiff(out.action!.data as Float32Array, want.action) <= TOLERANCE);
      assert.ok(maxAbsDiff(out.osi!.data as Float32Array, want.osi!) <= TOLERANCE);
      assert.ok(maxAbsDiff(h, ref.h) <= TOLERANCE && maxAbsDiff(cell, ref.c) <= TOLERANCE);
      // The actor's state is its output: h_out's first 5 columns equal the action.
      assert.ok(maxAbsDiff(h.subarray(0, 5), out.action!.data as Float32Array) === 0);
    }
  } finally {
    await session.release();
  }
});
