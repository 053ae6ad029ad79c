import test from "node:test";
import assert from "node:assert/strict";
import { computeGae } from "../../policies/gae.js";
import { RolloutStorage, allocMinibatch } from "../../policies/rollout-storage.js";

test("GAE matches the definition, cuts at dones, bootstraps from the last value", () => {
  const T = 4, N = 1, g = 0.9, l = 0.8;
  const r = Float32Array.from([1, 2, 3, 4]);
  const v = Float32Array.from([0.5, 0.6, 0.7, 0.8]);
  const d = Uint8Array.from([0, 1, 0, 0]);
  const last = Float32Array.from([2]);
  const adv = new Float32Array(4), ret = new Float32Array(4);
  computeGae(r, v, d, last, T, N, g, l, adv, ret);
  const d3 = 4 + g * 2 - 0.8;
  const d2 = 3 + g * 0.8 - 0.7;
  const d1 = 2 - 0.6; // episode ended: no bootstrap
  const d0 = 1 + g * 0.6 - 0.5;
  const a3 = d3, a2 = d2 + g * l * a3, a1 = d1, a0 = d0 + g * l * a1;
  [a0, a1, a2, a3].forEach((a, i) => assert.ok(Math.abs(adv[i]! - a) < 1e-5, `adv[${i}]`));
  assert.ok(Math.abs(ret[2]! - (a2 + 0.7)) < 1e-5);
});

test("chunks gather sequence-major with their saved recurrent state", () => {
  const shape = { T: 4, N: 2, obs: 1, priv: 1, act: 1, state: 2, chunkLength: 2 };
  const s = new RolloutStorage(shape);
  for (let t = 0; t < 4; t++) {
    if (s.atChunkStart) s.saveChunkState(Float32Array.from([t, 0, t, 1]));
    s.add(Float32Array.from([10 * t, 10 * t + 1]), new Float32Array(2), Uint8Array.from([t === 2 ? 1 : 0, 0]), new Float32Array(2), new Float32Array(2), new Float32Array(2));
    s.complete(new Float32Array(2), new Uint8Array(2));
  }
  const mb = allocMinibatch(shape, 2);
  // chunk 3 = second chunk (t = 2, 3) of env 1; chunk 2 = second chunk of env 0.
  s.gather([3, 2], mb);
  assert.deepEqual([...mb.obs], [21, 20, 31, 30]);
  assert.deepEqual([...mb.episodeStart], [0, 1, 0, 0]);
  assert.deepEqual([...mb.states], [2, 1, 2, 0]);
});
