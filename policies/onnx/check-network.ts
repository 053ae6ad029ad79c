/**
 * Shape checks for a SequentialSpec before it is exported: sizes must chain,
 * weight arrays must have the lengths their layer declares, and there is at
 * most one recurrent layer. Errors name the network and the layer
 * ("actor.layers[2] (linear): ..."), since a mismatch otherwise only shows up
 * as an onnxruntime shape error at load time.
 */

import type { LayerSpec, SequentialSpec } from "../network-spec.js";

export class NetworkSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkSpecError";
  }
}

export interface RecurrentLayerInfo {
  kind: "gru" | "lstm";
  hidden: number;
  /** Index of the recurrent layer in `layers`. */
  index: number;
}

export interface CheckedNetwork {
  inSize: number;
  outSize: number;
  recurrent?: RecurrentLayerInfo;
}

function positiveInt(v: number, where: string, field: string): void {
  if (!Number.isInteger(v) || v < 1) throw new NetworkSpecError(`${where}: ${field} must be a positive integer, got ${v}`);
}

function lengthIs(a: ArrayLike<number> | undefined, n: number, where: string, field: string): void {
  if (!a || typeof a.length !== "number") throw new NetworkSpecError(`${where}: ${field} is missing`);
  if (a.length !== n) throw new NetworkSpecError(`${where}: ${field} has ${a.length} values, expected ${n}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new NetworkSpecError(`${where}: ${field}[${i}] is ${a[i]}, not a finite number`);
  }
}

/** Checks one layer given its incoming feature count; returns the outgoing count. */
function checkLayer(layer: LayerSpec, inSize: number, where: string): number {
  const input = (declared: number) => {
    positiveInt(declared, where, "inFeatures");
    if (declared !== inSize) throw new NetworkSpecError(`${where}: inFeatures is ${declared} but the incoming size is ${inSize}`);
  };
  switch (layer.kind) {
    case "linear":
      input(layer.inFeatures);
      positiveInt(layer.outFeatures, where, "outFeatures");
      lengthIs(layer.weight, layer.outFeatures * layer.inFeatures, where, `weight [${layer.outFeatures}, ${layer.inFeatures}]`);
      lengthIs(layer.bias, layer.outFeatures, where, "bias");
      return layer.outFeatures;
    case "tanh":
    case "elu":
      return inSize;
    case "normalize":
      positiveInt(layer.size, where, "size");
      if (layer.size !== inSize) throw new NetworkSpecError(`${where}: size is ${layer.size} but the incoming size is ${inSize}`);
      lengthIs(layer.mean, layer.size, where, "mean");
      lengthIs(layer.var, layer.size, where, "var");
      for (let i = 0; i < layer.size; i++) {
        if (layer.var[i]! < 0) throw new NetworkSpecError(`${where}: var[${i}] is negative (${layer.var[i]})`);
      }
      if (!(layer.eps >= 0)) throw new NetworkSpecError(`${where}: eps must be >= 0, got ${layer.eps}`);
      if (!(layer.clip > 0)) throw new NetworkSpecError(`${where}: clip must be > 0 (Infinity for none), got ${layer.clip}`);
      for (let i = 0; i < layer.size; i++) {
        if (!(layer.var[i]! + layer.eps > 0)) throw new NetworkSpecError(`${where}: var[${i}] + eps is 0, the normalization would divide by zero`);
      }
      return inSize;
    case "gru":
    case "lstm": {
      input(layer.inFeatures);
      positiveInt(layer.hidden, where, "hidden");
      const gates = layer.kind === "gru" ? 3 : 4;
      const g = gates * layer.hidden;
      lengthIs(layer.wIh, g * layer.inFeatures, where, `wIh [${g}, ${layer.inFeatures}]`);
      lengthIs(layer.wHh, g * layer.hidden, where, `wHh [${g}, ${layer.hidden}]`);
      lengthIs(layer.bIh, g, where, "bIh");
      lengthIs(layer.bHh, g, where, "bHh");
      return layer.hidden;
    }
    default:
      throw new NetworkSpecError(`${where}: unknown layer kind ${JSON.stringify((layer as { kind: unknown }).kind)}`);
  }
}

/** Validates `spec` fed with `inSize` features; `name` prefixes errors (e.g. "actor"). */
export function checkNetwork(spec: SequentialSpec, inSize: number, name: string): CheckedNetwork {
  if (!spec || !Array.isArray(spec.layers)) throw new NetworkSpecError(`${name}: expected { layers: LayerSpec[] }`);
  if (spec.layers.length === 0) throw new NetworkSpecError(`${name}: has no layers`);
  let size = inSize;
  let recurrent: RecurrentLayerInfo | undefined;
  spec.layers.forEach((layer, i) => {
    const where = `${name}.layers[${i}] (${layer?.kind})`;
    size = checkLayer(layer, size, where);
    if (layer.kind === "gru" || layer.kind === "lstm") {
      if (recurrent) throw new NetworkSpecError(`${where}: a second recurrent layer (${name}.layers[${recurrent.index}] is one already); at most one is supported`);
      recurrent = { kind: layer.kind, hidden: layer.hidden, index: i };
    }
  });
  return recurrent ? { inSize, outSize: size, recurrent } : { inSize, outSize: size };
}
