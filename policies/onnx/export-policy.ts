/**
 * Builds the ONNX model of a deployable policy from its parts (see
 * policy-parts.ts for the data flow and the recurrent state layout).
 */

import { GraphBuilder } from "./graph-builder.js";
import { emitNetwork, type RecurrentState } from "./emit-network.js";
import { DataType, encodeModel, type ValueInfoProto } from "./onnx-proto.js";
import { BATCH_DIM, IO_NAMES, checkActionBound, layoutPolicy, type ActionBound, type PolicyLayout, type PolicyParts } from "./policy-parts.js";
import { NetworkSpecError } from "./check-network.js";

/** Opsets the exporter can write. Every op it emits has the same semantics over this range. */
export const EXPORT_OPSET_MIN = 13;
export const EXPORT_OPSET_MAX = 21;
export const DEFAULT_OPSET = 17;

/** Bumped when the graph's interface or layout conventions change. */
export const EXPORTER_VERSION = "1";

export interface ExportOptions {
  /** Default 17. */
  opset?: number;
  /** Default { kind: "none" }: the action is the actor's mean. */
  actionBound?: ActionBound;
  /** Default "policy". */
  graphName?: string;
  /** Extra ModelProto.metadata_props entries (e.g. training run id). */
  metadata?: Record<string, string>;
}

/**
 * The IR version that goes with an opset, from ONNX's release table
 * (docs/Versioning.md): opset 13–14 shipped with IR 7, 15–18 with IR 8,
 * 19–20 with IR 9, 21 with IR 10. onnxruntime-node 1.30 reads all of them.
 */
export function irVersionForOpset(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function tensorInfo(name: string, width: number): ValueInfoProto {
  return { name, elemType: DataType.FLOAT, shape: [BATCH_DIM, width] };
}

/** Splits a concatenated state input into per-network slices (or passes it through when there is one network). */
function stateSlices(g: GraphBuilder, layout: PolicyLayout): Map<"actor" | "osi", RecurrentState> {
  const out = new Map<"actor" | "osi", RecurrentState>();
  for (const seg of layout.segments) {
    const whole = (total: number, width: number) => total === width;
    const h = whole(layout.hSize, seg.hidden) ? IO_NAMES.hIn : g.sliceColumns(IO_NAMES.hIn, seg.hOffset, seg.hOffset + seg.hidden, `${seg.owner}_h_in`);
    const state: RecurrentState = { h };
    if (seg.cOffset !== undefined) {
      state.c = whole(layout.cSize, seg.hidden) ? IO_NAMES.cIn : g.sliceColumns(IO_NAMES.cIn, seg.cOffset, seg.cOffset + seg.hidden, `${seg.owner}_c_in`);
    }
    out.set(seg.owner, state);
  }
  return out;
}

/** Joins per-network next states into one output, in segment order. */
function publishState(g: GraphBuilder, parts: string[], name: string): void {
  if (parts.length === 1) g.publish(parts[0]!, name);
  else g.publish(g.node("Concat", parts, `${name}_cat`, [{ name: "axis", type: "int", i: 1 }]), name);
}

function emitActionBound(g: GraphBuilder, mean: string, bound: ActionBound): string {
  switch (bound.kind) {
    case "none":
      return mean;
    case "clip": {
      const high = g.floatTensor("action_high", [bound.high.length], bound.high);
      const low = g.floatTensor("action_low", [bound.low.length], bound.low);
      return g.node("Max", [g.node("Min", [mean, high], "action_below_high"), low], "action_clipped");
    }
    case "tanh": {
      const center = g.floatTensor("action_center", [bound.low.length], bound.low.map((lo, i) => (bound.high[i]! + lo) / 2));
      const half = g.floatTensor("action_half_range", [bound.low.length], bound.low.map((lo, i) => (bound.high[i]! - lo) / 2));
      return g.node("Add", [g.node("Mul", [g.node("Tanh", [mean], "action_tanh"), half], "action_scaled"), center], "action_squashed");
    }
  }
}

/** Serializes the policy as an ONNX model. Throws NetworkSpecError naming the part/layer/field on bad input. */
export function exportPolicyOnnx(parts: PolicyParts, options: ExportOptions = {}): Uint8Array {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < EXPORT_OPSET_MIN || opset > EXPORT_OPSET_MAX) {
    throw new NetworkSpecError(`opset ${opset} is not supported by the exporter (supported: ${EXPORT_OPSET_MIN}..${EXPORT_OPSET_MAX})`);
  }
  const layout = layoutPolicy(parts);
  const bound = options.actionBound ?? { kind: "none" };
  checkActionBound(bound, layout.actSize);

  const g = new GraphBuilder(Object.values(IO_NAMES));
  const states = stateSlices(g, layout);
  const x = parts.obsNormalizer ? emitNetwork(g, { layers: [parts.obsNormalizer] }, IO_NAMES.obs, "obs_norm").output : IO_NAMES.obs;

  let osiOut: string | undefined;
  let osiNext: RecurrentState | undefined;
  if (parts.osi) {
    const osi = emitNetwork(g, parts.osi.network, x, "osi", states.get("osi"));
    osiOut = osi.output;
    osiNext = osi.next;
  }
  const actorIn = osiOut && layout.osiConditionsActor ? g.node("Concat", [x, osiOut], "actor_input", [{ name: "axis", type: "int", i: 1 }]) : x;
  const actor = emitNetwork(g, parts.actor, actorIn, "actor", states.get("actor"));

  g.publish(emitActionBound(g, actor.output, bound), IO_NAMES.action);
  if (osiOut) g.publish(osiOut, IO_NAMES.osi);
  const nextOf = (owner: "actor" | "osi") => (owner === "actor" ? actor.next : osiNext)!;
  if (layout.hSize > 0) publishState(g, layout.segments.map((s) => nextOf(s.owner).h), IO_NAMES.hOut);
  if (layout.cSize > 0) publishState(g, layout.segments.filter((s) => s.kind === "lstm").map((s) => nextOf(s.owner).c!), IO_NAMES.cOut);

  const inputs = [tensorInfo(IO_NAMES.obs, layout.obsSize)];
  const outputs = [tensorInfo(IO_NAMES.action, layout.actSize)];
  if (layout.osiSize > 0) outputs.push(tensorInfo(IO_NAMES.osi, layout.osiSize));
  if (layout.hSize > 0) {
    inputs.push(tensorInfo(IO_NAMES.hIn, layout.hSize));
    outputs.push(tensorInfo(IO_NAMES.hOut, layout.hSize));
  }
  if (layout.cSize > 0) {
    inputs.push(tensorInfo(IO_NAMES.cIn, layout.cSize));
    outputs.push(tensorInfo(IO_NAMES.cOut, layout.cSize));
  }

  const metadata: Record<string, string> = {
    ...(options.metadata ?? {}),
    "s2r.exporter": EXPORTER_VERSION,
    "s2r.layout": JSON.stringify({
      obsSize: layout.obsSize,
      actSize: layout.actSize,
      osiSize: layout.osiSize,
      hSize: layout.hSize,
      cSize: layout.cSize,
      recurrent: layout.recurrentKind,
      segments: layout.segments,
      osiConditionsActor: layout.osiConditionsActor,
      actionBound: bound.kind,
    }),
  };
  return encodeModel({
    irVersion: irVersionForOpset(opset),
    opsetImports: [{ domain: "", version: opset }],
    producerName: "s2r",
    producerVersion: EXPORTER_VERSION,
    graph: { name: options.graphName ?? "policy", nodes: g.nodes, initializers: g.initializers, inputs, outputs },
    metadata,
  });
}
