/**
 * Generalized advantage estimation over a time-major rollout [T, N].
 *
 * `done[t, n]` marks that env n's episode ended with step t (terminated or
 * truncated); the value after it is not the next state's. Time-outs are
 * bootstrapped by the caller, who adds gamma * V(final observation) to the
 * reward of a truncated step, so here every done simply cuts the recursion;
 * terminations therefore get no bootstrap, time-outs do.
 */
export function computeGae(
  rewards: Float32Array,
  values: Float32Array,
  dones: Uint8Array,
  lastValues: Float32Array,
  T: number,
  N: number,
  gamma: number,
  lambda: number,
  advantages: Float32Array,
  returns: Float32Array,
): void {
  for (let n = 0; n < N; n++) {
    let next = 0;
    let nextValue = lastValues[n]!;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + n;
      const notDone = dones[i] ? 0 : 1;
      const delta = rewards[i]! + gamma * nextValue * notDone - values[i]!;
      next = delta + gamma * lambda * notDone * next;
      advantages[i] = next;
      returns[i] = next + values[i]!;
      nextValue = values[i]!;
    }
  }
}
