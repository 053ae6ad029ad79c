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

/**
 * Layers of image networks (policies/nn/conv2d.ts, image-layers.ts). In
 * process, an image is NHWC: one sample is [H, W, C] flattened, channels
 * fastest, so a conv is im2col + one matrix product and the raw camera bytes
 * need no transpose. ONNX computes NCHW; the exporter permutes weights.
 * - `conv2d`: square kernel, weight [out, kernel, kernel, in] (NHWC order),
 *   zero padding on all four sides, y = W * x + b.
 * - `groupnorm`: per sample, per group of channels/groups consecutive
 *   channels, over all pixels: (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]
 *   (biased variance, as PyTorch's GroupNorm).
 * - `relu`: max(x, 0).
 * - `globalavgpool`: [H, W, C] -> [C], the mean over pixels.
 * - `flatten`: [H, W, C] -> [H * W * C] in NHWC order (a no-op in process).
 */
export type ImageLayerSpec =
  | LayerSpec
  | {
      kind: "conv2d"; inHeight: number; inWidth: number; inChannels: number; outChannels: number;
      kernel: number; stride: number; padding: number; weight: Float32Array; bias: Float32Array;
    }
  | { kind: "groupnorm"; height: number; width: number; channels: number; groups: number; eps: number; gamma: Float32Array; beta: Float32Array }
  | { kind: "relu" }
  | { kind: "globalavgpool"; height: number; width: number; channels: number }
  | { kind: "flatten"; height: number; width: number; channels: number };
