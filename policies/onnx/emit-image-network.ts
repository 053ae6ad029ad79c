/**
 * Emits ONNX nodes for the image layers of network-spec.ts (ImageLayerSpec).
 * In process the layers compute NHWC; ONNX's Conv is NCHW, so the emitted
 * graph runs NCHW and the weights are permuted here, once: a conv weight
 * [out, k, k, in] becomes [out, in, k, k]. Flatten transposes back to NHWC
 * first so the features keep the in-process order.
 *
 * GroupNormalization only exists from opset 18 (and its scale/bias were per
 * group until opset 21), so group norm is built from Reshape, ReduceMean,
 * Sub, Mul, Add, Sqrt and Div, which every opset the exporter writes has.
 */

import type { ImageLayerSpec, LayerSpec } from "../network-spec.js";
import { emitNetwork } from "./emit-network.js";
import type { GraphBuilder } from "./graph-builder.js";

type Of<K extends ImageLayerSpec["kind"]> = Extract<ImageLayerSpec, { kind: K }>;

/** conv weight [out, k, k, in] (NHWC order) -> [out, in, k, k] (ONNX). */
export function convWeightToOihw(l: Of<"conv2d">): Float32Array {
  const { outChannels: O, inChannels: I, kernel: k } = l;
  const out = new Float32Array(O * I * k * k);
  for (let o = 0; o < O; o++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < I; i++) {
    out[((o * I + i) * k + y) * k + x] = l.weight[((o * k + y) * k + x) * I + i]!;
  }
  return out;
}

/** ReduceMean keeping dims: axes are an attribute before opset 18 and an input from 18 on. */
function reduceMean(g: GraphBuilder, x: string, axes: number[], opset: number, out: string): string {
  const keep = { name: "keepdims", type: "int" as const, i: 1 };
  if (opset >= 18) return g.node("ReduceMean", [x, g.int64Const(axes)], out, [keep]);
  return g.node("ReduceMean", [x], out, [{ name: "axes", type: "ints", ints: axes }, keep]);
}

function emitGroupNorm(g: GraphBuilder, x: string, l: Of<"groupnorm">, opset: number, p: string): string {
  const grouped = g.node("Reshape", [x, g.int64Const([0, l.groups, -1])], `${p}_grouped`);
  const mean = reduceMean(g, grouped, [2], opset, `${p}_mean`);
  const d = g.node("Sub", [grouped, mean], `${p}_centered`);
  const variance = reduceMean(g, g.node("Mul", [d, d], `${p}_sq`), [2], opset, `${p}_var`);
  const std = g.node("Sqrt", [g.node("Add", [variance, g.floatConst([l.eps])], `${p}_var_eps`)], `${p}_std`);
  const z = g.node("Reshape", [g.node("Div", [d, std], `${p}_z_grouped`), g.int64Const([0, l.channels, l.height, l.width])], `${p}_z`);
  const gamma = g.floatTensor(`${p}_gamma`, [l.channels, 1, 1], l.gamma);
  const beta = g.floatTensor(`${p}_beta`, [l.channels, 1, 1], l.beta);
  return g.node("Add", [g.node("Mul", [z, gamma], `${p}_scaled`), beta], p);
}

/**
 * Emits `layers` applied to the NCHW float tensor `input`. The image layers
 * come first; from the first pooling/flatten on the tensor is [batch,
 * features] and the rest (linear, activations) goes through emitNetwork.
 * Returns the output and, given `tapAfter`, the value after that many layers
 * (the features, for the perception network).
 */
export function emitImageNetwork(
  g: GraphBuilder, layers: ImageLayerSpec[], input: string, prefix: string, opset: number, tapAfter?: number,
): { output: string; tap?: string } {
  let x = input;
  let tap: string | undefined;
  let i = 0;
  for (; i < layers.length; i++) {
    if (tapAfter === i) tap = x;
    const l = layers[i]!;
    const p = `${prefix}_${i}_${l.kind}`;
    if (l.kind === "conv2d") {
      const w = g.floatTensor(`${p}_w`, [l.outChannels, l.inChannels, l.kernel, l.kernel], convWeightToOihw(l));
      const b = g.floatTensor(`${p}_b`, [l.outChannels], l.bias);
      x = g.node("Conv", [x, w, b], p, [
        { name: "kernel_shape", type: "ints", ints: [l.kernel, l.kernel] },
        { name: "strides", type: "ints", ints: [l.stride, l.stride] },
        { name: "pads", type: "ints", ints: [l.padding, l.padding, l.padding, l.padding] },
      ]);
    } else if (l.kind === "groupnorm") {
      x = emitGroupNorm(g, x, l, opset, p);
    } else if (l.kind === "relu") {
      x = g.node("Relu", [x], p);
    } else if (l.kind === "globalavgpool") {
      x = g.node("Flatten", [g.node("GlobalAveragePool", [x], `${p}_nc11`)], p, [{ name: "axis", type: "int", i: 1 }]);
    } else if (l.kind === "flatten") {
      const nhwc = g.node("Transpose", [x], `${p}_nhwc`, [{ name: "perm", type: "ints", ints: [0, 2, 3, 1] }]);
      x = g.node("Flatten", [nhwc], p, [{ name: "axis", type: "int", i: 1 }]);
    } else {
      break; // a [batch, features] layer: the rest is emitNetwork's
    }
  }
  if (tapAfter === i) tap = x;
  const rest = layers.slice(i);
  for (const [k, l] of rest.entries()) {
    if (["conv2d", "groupnorm", "relu", "globalavgpool", "flatten"].includes(l.kind)) {
      throw new Error(`${prefix}.layers[${i + k}]: an image layer (${l.kind}) after the image was flattened`);
    }
  }
  if (tapAfter !== undefined && tapAfter > i) throw new Error(`${prefix}: the tapped value must be an image layer's output or the flattened features`);
  const out = rest.length > 0 ? emitNetwork(g, { layers: rest as LayerSpec[] }, x, prefix).output : x;
  return tap !== undefined ? { output: out, tap } : { output: out };
}
