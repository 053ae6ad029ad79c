/**
 * Emits ONNX nodes for a SequentialSpec, layer by layer, using primitive ops
 * only (Gemm, Add, Sub, Mul, Div, Sigmoid, Tanh, Elu, Clip, Slice) so the
 * graph computes exactly the equations in network-spec.ts. ONNX's own GRU and
 * LSTM ops are deliberately not used: their gate order (z, r, h for GRU;
 * i, o, f, c for LSTM) and `linear_before_reset` flag differ from PyTorch's
 * layout, and a silent permutation mistake there would still run.
 *
 * Every tensor is [batch, features]; a linear layer is Gemm(x, W, b) with
 * transB = 1, because network-spec stores W as [out, in].
 */

import type { LayerSpec, SequentialSpec } from "../network-spec.js";
import type { GraphBuilder } from "./graph-builder.js";

export interface RecurrentState {
  h: string;
  /** LSTM only. */
  c?: string;
}

export interface EmittedNetwork {
  output: string;
  /** Next recurrent state, when the network has a recurrent layer. */
  next?: RecurrentState;
}

function gemm(g: GraphBuilder, x: string, weight: string, bias: string | undefined, out: string): string {
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return g.node("Gemm", inputs, out, [{ name: "transB", type: "int", i: 1 }]);
}

function emitNormalize(g: GraphBuilder, x: string, layer: Extract<LayerSpec, { kind: "normalize" }>, p: string): string {
  const mean = g.floatTensor(`${p}_mean`, [layer.size], layer.mean);
  const std = g.floatTensor(
    `${p}_std`,
    [layer.size],
    Array.from(layer.var, (v) => Math.sqrt(v + layer.eps)),
  );
  const z = g.node("Div", [g.node("Sub", [x, mean], `${p}_centered`), std], `${p}_z`);
  if (!Number.isFinite(layer.clip)) return z;
  return g.node("Clip", [z, g.floatConst([-layer.clip]), g.floatConst([layer.clip])], `${p}_clipped`);
}

/**
 * GRU, PyTorch gate order (r, z, n):
 *   gi = x Wih^T + bIh, gh = h Whh^T + bHh          ([batch, 3H] each)
 *   [r | z] = σ(gi[:, :2H] + gh[:, :2H])
 *   n = tanh(gi[:, 2H:] + r ⊙ gh[:, 2H:])
 *   h' = (1 − z) ⊙ n + z ⊙ h, computed as n + z ⊙ (h − n)
 */
function emitGru(g: GraphBuilder, x: string, layer: Extract<LayerSpec, { kind: "gru" }>, h: string, p: string): RecurrentState {
  const H = layer.hidden;
  const gi = gemm(g, x, g.floatTensor(`${p}_wIh`, [3 * H, layer.inFeatures], layer.wIh), g.floatTensor(`${p}_bIh`, [3 * H], layer.bIh), `${p}_gi`);
  const gh = gemm(g, h, g.floatTensor(`${p}_wHh`, [3 * H, H], layer.wHh), g.floatTensor(`${p}_bHh`, [3 * H], layer.bHh), `${p}_gh`);
  const rz = g.node("Sigmoid", [g.node("Add", [g.sliceColumns(gi, 0, 2 * H, `${p}_gi_rz`), g.sliceColumns(gh, 0, 2 * H, `${p}_gh_rz`)], `${p}_rz_pre`)], `${p}_rz`);
  const r = g.sliceColumns(rz, 0, H, `${p}_r`);
  const z = g.sliceColumns(rz, H, 2 * H, `${p}_z`);
  const ghN = g.sliceColumns(gh, 2 * H, 3 * H, `${p}_gh_n`);
  const giN = g.sliceColumns(gi, 2 * H, 3 * H, `${p}_gi_n`);
  const n = g.node("Tanh", [g.node("Add", [giN, g.node("Mul", [r, ghN], `${p}_r_ghn`)], `${p}_n_pre`)], `${p}_n`);
  const hNext = g.node("Add", [n, g.node("Mul", [z, g.node("Sub", [h, n], `${p}_h_minus_n`)], `${p}_z_dh`)], `${p}_h`);
  return { h: hNext };
}

/**
 * LSTM, PyTorch gate order (i, f, g, o):
 *   gates = x Wih^T + h Whh^T + (bIh + bHh)            ([batch, 4H])
 *   i, f, o = σ(·), g = tanh(·);  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')
 * The two products chain through Gemm's C input, so the biases are summed
 * once at export (in float64, then rounded to float32).
 */
function emitLstm(g: GraphBuilder, x: string, layer: Extract<LayerSpec, { kind: "lstm" }>, state: RecurrentState, p: string): RecurrentState {
  const H = layer.hidden;
  if (!state.c) throw new Error(`${p}: an LSTM needs a cell state input`);
  const bias = Array.from(layer.bIh, (b, i) => b + layer.bHh[i]!);
  const gx = gemm(g, x, g.floatTensor(`${p}_wIh`, [4 * H, layer.inFeatures], layer.wIh), g.floatTensor(`${p}_bias`, [4 * H], bias), `${p}_gx`);
  const gates = g.node("Gemm", [state.h, g.floatTensor(`${p}_wHh`, [4 * H, H], layer.wHh), gx], `${p}_gates`, [{ name: "transB", type: "int", i: 1 }]);
  const sig = g.node("Sigmoid", [gates], `${p}_sig`);
  const i = g.sliceColumns(sig, 0, H, `${p}_i`);
  const f = g.sliceColumns(sig, H, 2 * H, `${p}_f`);
  const o = g.sliceColumns(sig, 3 * H, 4 * H, `${p}_o`);
  const cand = g.node("Tanh", [g.sliceColumns(gates, 2 * H, 3 * H, `${p}_g_pre`)], `${p}_g`);
  const c = g.node("Add", [g.node("Mul", [f, state.c], `${p}_fc`), g.node("Mul", [i, cand], `${p}_ig`)], `${p}_c`);
  const h = g.node("Mul", [o, g.node("Tanh", [c], `${p}_tanh_c`)], `${p}_h`);
  return { h, c };
}

/**
 * Emits `spec` applied to `input`. `state` must be given when the network has
 * a recurrent layer (checked beforehand by checkNetwork). `prefix` names the
 * network's values and initializers ("actor", "osi").
 */
export function emitNetwork(g: GraphBuilder, spec: SequentialSpec, input: string, prefix: string, state?: RecurrentState): EmittedNetwork {
  let x = input;
  let next: RecurrentState | undefined;
  spec.layers.forEach((layer, idx) => {
    const p = `${prefix}_${idx}_${layer.kind}`;
    switch (layer.kind) {
      case "linear":
        x = gemm(g, x, g.floatTensor(`${p}_w`, [layer.outFeatures, layer.inFeatures], layer.weight), g.floatTensor(`${p}_b`, [layer.outFeatures], layer.bias), p);
        break;
      case "tanh":
        x = g.node("Tanh", [x], p);
        break;
      case "elu":
        x = g.node("Elu", [x], p, [{ name: "alpha", type: "float", f: 1 }]);
        break;
      case "normalize":
        x = emitNormalize(g, x, layer, p);
        break;
      case "gru":
      case "lstm":
        if (!state) throw new Error(`${p}: a recurrent layer needs a state input`);
        next = layer.kind === "gru" ? emitGru(g, x, layer, state.h, p) : emitLstm(g, x, layer, state, p);
        x = next.h;
        break;
    }
  });
  return next ? { output: x, next } : { output: x };
}
