/**
 * A neutral, framework-free description of a trained network's layers and
 * weights. The training core (`policies/nn/`) produces it, the ONNX exporter
 * (`policies/onnx/`) consumes it, so neither depends on the other's internals.
 *
 * Conventions (fixed; both sides test against them):
 * - All weights are row-major Float32Array. A linear layer computes
 *   y = W x + b with W of shape [out, in].
 * - GRU follows PyTorch's formulation and gate order (r, z, n):
 *     r = σ(W_ir x + b_ir + W_hr h + b_hr)
 *     z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *     h' = (1 − z) ⊙ n + z ⊙ h
 *   wIh is [3H, in] (rows r, then z, then n), wHh is [3H, H], bIh and bHh are [3H].
 * - LSTM follows PyTorch's gate order (i, f, g, o):
 *     i = σ(·), f = σ(·), g = tanh(·), o = σ(·)   each = W_i* x + b_i* + W_h* h + b_h*
 *     c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 *   wIh is [4H, in], wHh is [4H, H], bIh and bHh are [4H].
 * - `normalize` computes clip((x − mean) / sqrt(var + eps), −clip, clip).
 * - `elu` uses alpha = 1.
 */

export type LayerSpec =
  | { kind: "linear"; inFeatures: number; outFeatures: number; weight: Float32Array; bias: Float32Array }
  | { kind: "tanh" }
  | { kind: "elu" }
  | { kind: "normalize"; size: number; mean: Float32Array; var: Float32Array; eps: number; clip: number }
  | { kind: "gru"; inFeatures: number; hidden: number; wIh: Float32Array; wHh: Float32Array; bIh: Float32Array; bHh: Float32Array }
  | { kind: "lstm"; inFeatures: number; hidden: number; wIh: Float32Array; wHh: Float32Array; bIh: Float32Array; bHh: Float32Array };

/** A feed-forward chain of layers; at most one recurrent layer. */
export interface SequentialSpec {
  layers: LayerSpec[];
}
