import type { ActorCritic } from "./actor-critic.js";

/**
 * A model's weights as raw buffers, for shipping to rollout workers: every
 * trained parameter (float32, in params() order) and the observation
 * normalizer's statistics (float64 mean then var, and its sample count).
 * Bit-exact both ways: a worker acts exactly as the learner would.
 */
export interface WeightsPacket {
  params: Float32Array;
  norm: Float64Array;
  normCount: number;
}

export function packWeights(model: ActorCritic): WeightsPacket {
  const ps = model.params();
  const params = new Float32Array(ps.reduce((n, p) => n + p.value.length, 0));
  let o = 0;
  for (const p of ps) {
    params.set(p.value, o);
    o += p.value.length;
  }
  const D = model.obsNorm.size;
  const norm = new Float64Array(2 * D);
  norm.set(model.obsNorm.mean, 0);
  norm.set(model.obsNorm.var, D);
  return { params, norm, normCount: model.obsNorm.count };
}

export function loadWeights(model: ActorCritic, w: WeightsPacket): void {
  const ps = model.params();
  const want = ps.reduce((n, p) => n + p.value.length, 0);
  if (w.params.length !== want) throw new RangeError(`weights packet: ${w.params.length} parameters, the model has ${want} (different policy config?)`);
  const D = model.obsNorm.size;
  if (w.norm.length !== 2 * D) throw new RangeError(`weights packet: normalizer of ${w.norm.length / 2} features, the model has ${D}`);
  if (!(Number.isInteger(w.normCount) && w.normCount >= 0)) throw new RangeError(`weights packet: normCount must be a non-negative integer, got ${w.normCount}`);
  let o = 0;
  for (const p of ps) {
    p.value.set(w.params.subarray(o, o + p.value.length));
    o += p.value.length;
  }
  model.obsNorm.mean.set(w.norm.subarray(0, D));
  model.obsNorm.var.set(w.norm.subarray(D));
  model.obsNorm.count = w.normCount;
}
