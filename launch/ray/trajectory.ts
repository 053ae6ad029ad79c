import type { RolloutStorage } from "../../policies/rollout-storage.js";

/** The storage arrays a rollout worker sends back, in this order (then the last values). */
export function trajectoryBuffers(s: RolloutStorage): ArrayBufferView[] {
  return [s.obs, s.priv, s.actions, s.logProbs, s.values, s.rewards, s.dones, s.episodeStart, s.chunkStates];
}

/**
 * Copies one worker's slice [first, first + n) of a rollout (its own storage's
 * arrays, time-major [T, n, k]) into the run's storage [T, N, k], and its last
 * values into the run's.
 */
export function scatterSlice(dst: RolloutStorage, lastValues: Float32Array, first: number, n: number, buffers: ArrayBuffer[]): void {
  const { T, N, chunkLength } = dst.shape;
  const views = trajectoryBuffers(dst);
  if (buffers.length !== views.length + 1) throw new Error(`rollout worker for envs ${first}..${first + n - 1}: ${buffers.length} buffers, expected ${views.length + 1}`);
  views.forEach((view, b) => {
    const d = view as Float32Array | Uint8Array;
    const s = d instanceof Uint8Array ? new Uint8Array(buffers[b]!) : new Float32Array(buffers[b]!);
    const rows = d === dst.chunkStates ? T / chunkLength : T;
    const k = d.length / (rows * N);
    if (s.length !== rows * n * k) throw new Error(`rollout worker for envs ${first}..${first + n - 1}: buffer ${b} has ${s.length} values, expected ${rows * n * k}`);
    for (let r = 0; r < rows; r++) d.set(s.subarray(r * n * k, (r + 1) * n * k), (r * N + first) * k);
  });
  const lv = new Float32Array(buffers[views.length]!);
  if (lv.length !== n) throw new Error(`rollout worker for envs ${first}..${first + n - 1}: ${lv.length} last values, expected ${n}`);
  lastValues.set(lv, first);
}
