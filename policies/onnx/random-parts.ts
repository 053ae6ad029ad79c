/**
 * Policy parts with seeded random weights, for export parity tests and
 * runtime latency benchmarks (the weights' values do not matter there, only
 * the architecture). Weights are uniform in ±1/√fanIn, as PyTorch initializes
 * linear and recurrent layers, so activations stay in a realistic range.
 */

import { Rng } from "../../common/rng.js";
import type { LayerSpec, SequentialSpec } from "../network-spec.js";
import type { NormalizeLayer, PolicyParts } from "./policy-parts.js";

export interface RandomNetworkShape {
  /** Widths of linear + activation blocks before the recurrent layer / output. */
  hidden: number[];
  activation?: "tanh" | "elu";
  recurrent?: { kind: "gru" | "lstm"; size: number };
  /** Widths of linear + activation blocks after the recurrent layer. */
  head?: number[];
}

export interface RandomPolicyShape {
  obsSize: number;
  actSize: number;
  normalizeObs?: boolean;
  actor: RandomNetworkShape;
  osi?: RandomNetworkShape & { outSize: number; conditionsActor?: boolean };
}

function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-bound, bound);
  return a;
}

export function randomNetwork(rng: Rng, inSize: number, outSize: number, shape: RandomNetworkShape): SequentialSpec {
  const layers: LayerSpec[] = [];
  let size = inSize;
  const blocks = (widths: number[]) => {
    for (const width of widths) {
      const k = 1 / Math.sqrt(size);
      layers.push({ kind: "linear", inFeatures: size, outFeatures: width, weight: uniform(rng, width * size, k), bias: uniform(rng, width, k) });
      layers.push({ kind: shape.activation ?? "elu" });
      size = width;
    }
  };
  blocks(shape.hidden);
  if (shape.recurrent) {
    const H = shape.recurrent.size;
    const g = (shape.recurrent.kind === "gru" ? 3 : 4) * H;
    const k = 1 / Math.sqrt(H);
    layers.push({
      kind: shape.recurrent.kind,
      inFeatures: size,
      hidden: H,
      wIh: uniform(rng, g * size, k),
      wHh: uniform(rng, g * H, k),
      bIh: uniform(rng, g, k),
      bHh: uniform(rng, g, k),
    });
    size = H;
  }
  blocks(shape.head ?? []);
  const k = 1 / Math.sqrt(size);
  layers.push({ kind: "linear", inFeatures: size, outFeatures: outSize, weight: uniform(rng, outSize * size, k), bias: uniform(rng, outSize, k) });
  return { layers };
}

export function randomNormalizer(rng: Rng, size: number): NormalizeLayer {
  const mean = uniform(rng, size, 1);
  const variance = Float32Array.from({ length: size }, () => rng.uniform(0.25, 4));
  return { kind: "normalize", size, mean, var: variance, eps: 1e-8, clip: 5 };
}

export function randomPolicyParts(shape: RandomPolicyShape, seed: number): PolicyParts {
  const rng = new Rng(seed);
  const parts: PolicyParts = { obsSize: shape.obsSize, actor: { layers: [] } };
  if (shape.normalizeObs) parts.obsNormalizer = randomNormalizer(rng, shape.obsSize);
  let actorIn = shape.obsSize;
  if (shape.osi) {
    const conditionsActor = shape.osi.conditionsActor ?? true;
    parts.osi = { network: randomNetwork(rng, shape.obsSize, shape.osi.outSize, shape.osi), conditionsActor };
    if (conditionsActor) actorIn += shape.osi.outSize;
  }
  parts.actor = randomNetwork(rng, actorIn, shape.actSize, shape.actor);
  return parts;
}
