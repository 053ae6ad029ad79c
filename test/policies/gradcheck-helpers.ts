import assert from "node:assert/strict";
import type { Rng } from "../../common/rng.js";
import { checkGradients, type Arena, type CheckedTensor, type FeedForward, type Param } from "../../policies/nn/index.js";

/** Shared by the gradient-check tests of the layers (nn-gradcheck, nn-conv). Bar: relative error <= 1e-6. */

export const BAR = 1e-6;

export function randomFill(rng: Rng, a: Float64Array, lo = -1, hi = 1): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

export function paramTensors(params: Param<Float64Array>[]): CheckedTensor[] {
  return params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
}

export function assertPasses(tensors: CheckedTensor[], loss: () => number, what: string): void {
  const r = checkGradients(tensors, loss);
  assert.ok(r.count > 0, `${what}: nothing compared`);
  assert.ok(r.maxRelError <= BAR, `${what}: relative error ${r.maxRelError.toExponential(2)} at ${r.worst} (analytic ${r.analytic}, numeric ${r.numeric})`);
}

/** Loss = sum(w . f(x)) for a feed-forward layer; checks parameters and input. */
export function checkFeedForward(arena: Arena<Float64Array>, layer: FeedForward<Float64Array, any, any>, rows: number, rng: Rng, xLo = -1, xHi = 1): void {
  const x = randomFill(rng, arena.alloc(rows * layer.inFeatures), xLo, xHi);
  const w = randomFill(rng, new Float64Array(rows * layer.outFeatures));
  const dy = arena.alloc(rows * layer.outFeatures);
  dy.set(w);
  const train = layer.newContext({ maxRows: rows, backward: true });
  const infer = layer.newContext({ maxRows: rows });
  layer.zeroGrad();
  layer.forward(train, x, rows);
  const dx = layer.backward(train, dy, rows)!;
  assert.ok(dx, "input gradient expected");
  const loss = () => dot(layer.forward(infer, x, rows), w, rows * layer.outFeatures);
  assertPasses([...paramTensors(layer.params()), { name: "x", value: x, grad: dx }], loss, layer.constructor.name);
}

