import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import {
  Elu, GaussianHead, Gru, Linear, Lstm, Mlp, Tanh, checkGradients, createFloat64Arena,
  type Arena, type CheckedTensor, type FeedForward, type Param, type Recurrent, type RecurrentResults,
} from "../../policies/nn/index.js";
import { BAR, assertPasses, checkFeedForward, dot, paramTensors, randomFill } from "./gradcheck-helpers.js";

/**
 * Float64 gradient checks of every layer against central finite differences:
 * parameters, inputs and (recurrent) initial state. Bar: relative error <= 1e-6.
 */

test("gradcheck: Linear (uniform and orthogonal init)", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(1);
  checkFeedForward(arena, new Linear(arena, 4, 3, rng), 5, rng);
  checkFeedForward(arena, new Linear(arena, 3, 7, rng, { init: "orthogonal", gain: 2 }), 4, rng);
});

test("gradcheck: Tanh and Elu (inputs on both sides of zero)", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(2);
  checkFeedForward(arena, new Tanh(arena, 5), 4, rng, -2, 2);
  checkFeedForward(arena, new Elu(arena, 5), 4, rng, -2, 2);
});

test("gradcheck: Mlp with tanh and elu, with and without output activation", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(3);
  checkFeedForward(arena, new Mlp(arena, rng, { sizes: [4, 6, 5, 3], activation: "tanh" }), 5, rng);
  checkFeedForward(arena, new Mlp(arena, rng, { sizes: [3, 8, 2], activation: "elu", outputActivation: "tanh", init: "uniform" }), 6, rng);
});

test("gradcheck: GaussianHead log-prob and entropy (mean and logStd)", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(4);
  const rows = 6, K = 3;
  const head = new GaussianHead(arena, K, { initLogStd: -0.3 });
  randomFill(rng, head.logStd.value, -0.8, 0.4);
  const mean = randomFill(rng, new Float64Array(rows * K));
  const actions = randomFill(rng, new Float64Array(rows * K), -2, 2);
  const w = randomFill(rng, new Float64Array(rows));
  const entCoef = 0.7;
  const logp = new Float64Array(rows), dMean = new Float64Array(rows * K);
  head.zeroGrad();
  head.logProbBackward(mean, actions, w, rows, dMean);
  head.entropyBackward(entCoef);
  const loss = () => {
    head.logProb(mean, actions, rows, logp);
    return dot(logp, w, rows) + entCoef * head.entropy();
  };
  assertPasses([...paramTensors(head.params()), { name: "mean", value: mean, grad: dMean }], loss, "GaussianHead");
});

interface SeqCase {
  steps: number;
  batch: number;
  done: Uint8Array;
}

/**
 * Loss = sum(w . out) + sum(v . stateT) for a recurrent layer over a sequence
 * with resets; checks parameters, input sequence and initial state.
 */
function checkRecurrent<C extends RecurrentResults<Float64Array>>(arena: Arena<Float64Array>, layer: Recurrent<Float64Array, C>, c: SeqCase, rng: Rng, name: string): void {
  const { steps: T, batch: B, done } = c;
  const H = layer.hidden, S = layer.stateSize;
  const x = randomFill(rng, arena.alloc(T * B * layer.inFeatures), -1.5, 1.5);
  const state0 = randomFill(rng, new Float64Array(B * S));
  const w = randomFill(rng, new Float64Array(T * B * H));
  const v = randomFill(rng, new Float64Array(B * S));
  const train = layer.newContext({ maxSteps: T, maxBatch: B, backward: true });
  const infer = layer.newContext({ maxSteps: T, maxBatch: B });
  layer.zeroGrad();
  layer.forward(train, x, state0, done, T, B);
  const dx = layer.backward(train, w, v)!;
  const loss = () => dot(layer.forward(infer, x, state0, done, T, B), w, T * B * H) + dot(infer.stateT, v, B * S);
  assertPasses(
    [...paramTensors(layer.params()), { name: "x", value: x, grad: dx }, { name: "state0", value: state0, grad: train.dState0! }],
    loss, name,
  );
}

/** T = 6, B = 3: row 0 never resets, row 1 resets at t = 3, row 2 at t = 0 and t = 4. */
function resetCase(): SeqCase {
  const T = 6, B = 3, done = new Uint8Array(T * B);
  done[3 * B + 1] = 1;
  done[0 * B + 2] = 1;
  done[4 * B + 2] = 1;
  return { steps: T, batch: B, done };
}

test("gradcheck: Gru through time with resets mid-sequence", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(5);
  checkRecurrent(arena, new Gru(arena, 3, 4, rng), resetCase(), rng, "Gru");
  checkRecurrent(arena, new Gru(arena, 2, 5, rng), { steps: 5, batch: 2, done: new Uint8Array(10) }, rng, "Gru without resets");
});

test("gradcheck: Lstm through time with resets mid-sequence", () => {
  const arena = createFloat64Arena({ capacityMiB: 8 });
  const rng = new Rng(6);
  checkRecurrent(arena, new Lstm(arena, 3, 4, rng), resetCase(), rng, "Lstm");
  checkRecurrent(arena, new Lstm(arena, 2, 5, rng), { steps: 5, batch: 2, done: new Uint8Array(10) }, rng, "Lstm without resets");
});

/**
 * A loss on the outputs of row 1 from its reset (t = 3) on must have exactly
 * zero gradient with respect to that row's earlier inputs and initial state,
 * while without the reset the same gradients are nonzero.
 */
for (const kind of ["gru", "lstm"] as const) {
  test(`${kind}: no gradient leaks across a reset`, () => {
    const arena = createFloat64Arena({ capacityMiB: 8 });
    const rng = new Rng(7);
    const T = 6, B = 3, nIn = 3, H = 4, row = 1, resetAt = 3;
    const layer: Recurrent<Float64Array> = kind === "gru" ? new Gru(arena, nIn, H, rng) : new Lstm(arena, nIn, H, rng);
    const S = layer.stateSize;
    const x = randomFill(rng, arena.alloc(T * B * nIn));
    const state0 = randomFill(rng, new Float64Array(B * S));
    const dOut = new Float64Array(T * B * H);
    for (let t = resetAt; t < T; t++) for (let j = 0; j < H; j++) dOut[(t * B + row) * H + j] = rng.uniform(-1, 1);
    const dStateT = new Float64Array(B * S);
    for (let j = 0; j < S; j++) dStateT[row * S + j] = rng.uniform(-1, 1);
    const earlier = (ctx: RecurrentResults<Float64Array>) => {
      let s = 0;
      for (let t = 0; t < resetAt; t++) for (let i = 0; i < nIn; i++) s += Math.abs(ctx.dx![(t * B + row) * nIn + i]!);
      for (let j = 0; j < S; j++) s += Math.abs(ctx.dState0![row * S + j]!);
      return s;
    };
    const ctx = layer.newContext({ maxSteps: T, maxBatch: B, backward: true });
    const done = new Uint8Array(T * B);
    layer.forward(ctx, x, state0, done, T, B);
    layer.backward(ctx, dOut, dStateT);
    assert.ok(earlier(ctx) > 1e-6, "without a reset the earlier steps must receive gradient");
    done[resetAt * B + row] = 1;
    layer.forward(ctx, x, state0, done, T, B);
    layer.backward(ctx, dOut, dStateT);
    assert.equal(earlier(ctx), 0, "gradient leaked across the reset");
    // Other rows had no loss at all, so nothing may flow into them either.
    for (let b = 0; b < B; b++) if (b !== row) for (let j = 0; j < S; j++) assert.equal(ctx.dState0![b * S + j], 0);
  });
}
