/**
 * What an exported policy is made of, and the layout of its graph interface.
 *
 * Data flow of the exported graph (batch dimension "batch" everywhere):
 *
 *   obs [batch, obsSize]
 *     -> obsNormalizer (optional `normalize` layer)           = x
 *     -> osi.network(x, its recurrent state)                   = osi   (output "osi")
 *     -> actor([x, osi] if osi.conditionsActor else x, state) = mean
 *     -> action bound (none | clip to [low, high] | tanh squashed into [low, high])
 *   action [batch, actSize]
 *
 * Three shapes are expressible: a plain MLP actor, a recurrent actor (one GRU
 * or LSTM layer), and UP-OSI (an OSI network, possibly recurrent, whose
 * estimate is appended to the actor's input). An OSI network with
 * `conditionsActor: false` is exported as a side output only.
 *
 * Recurrent state: graph inputs `h_in` (and `c_in` when there is an LSTM)
 * of shape [batch, hSize] ([batch, cSize]), outputs `h_out` (`c_out`) of the
 * same shape. When both the actor and the OSI network are recurrent their
 * states are concatenated, actor first: h_in = [h_actor | h_osi]. `c_in`
 * holds only the LSTM cells, in the same order (so a GRU actor with an LSTM
 * OSI has h_in = [h_actor | h_osi] and c_in = [c_osi]). Feed h_out back as
 * h_in at the next step; zeros start an episode.
 */

import type { LayerSpec, SequentialSpec } from "../network-spec.js";
import { checkNetwork, NetworkSpecError, type CheckedNetwork } from "./check-network.js";

export type NormalizeLayer = Extract<LayerSpec, { kind: "normalize" }>;

export interface PolicyParts {
  /** Length of the raw observation vector fed as `obs`. */
  obsSize: number;
  /** Observation normalization applied inside the graph, first. */
  obsNormalizer?: NormalizeLayer;
  /** The actor; its output is the action mean. */
  actor: SequentialSpec;
  /** Online system identification network, fed the normalized observation. */
  osi?: {
    network: SequentialSpec;
    /** Append the OSI output to the actor's input (UP-OSI). Default true. */
    conditionsActor?: boolean;
  };
}

export type ActionBound =
  | { kind: "none" }
  /** action = min(max(mean, low), high), per element. */
  | { kind: "clip"; low: number[]; high: number[] }
  /** action = (high + low)/2 + (high − low)/2 · tanh(mean), per element. */
  | { kind: "tanh"; low: number[]; high: number[] };

/** Names of the graph's inputs and outputs; fixed, the runtime relies on them. */
export const IO_NAMES = {
  obs: "obs",
  action: "action",
  osi: "osi",
  hIn: "h_in",
  hOut: "h_out",
  cIn: "c_in",
  cOut: "c_out",
} as const;

export const BATCH_DIM = "batch";

export interface StateSegment {
  owner: "actor" | "osi";
  kind: "gru" | "lstm";
  hidden: number;
  /** Column offset of this network's hidden state inside h_in / h_out. */
  hOffset: number;
  /** Column offset of its cell state inside c_in / c_out (LSTM only). */
  cOffset?: number;
}

export interface PolicyLayout {
  obsSize: number;
  actSize: number;
  /** 0 without an OSI network. */
  osiSize: number;
  /** Width of h_in / h_out; 0 when nothing is recurrent. */
  hSize: number;
  /** Width of c_in / c_out; 0 without an LSTM. */
  cSize: number;
  /** "lstm" when any LSTM is present (the model has c_in), "gru" when only GRUs, else "none". */
  recurrentKind: "none" | "gru" | "lstm";
  segments: StateSegment[];
  actor: CheckedNetwork;
  osi?: CheckedNetwork;
  osiConditionsActor: boolean;
}

/** Checks the parts against each other and works out sizes and state layout. */
export function layoutPolicy(parts: PolicyParts): PolicyLayout {
  if (!Number.isInteger(parts.obsSize) || parts.obsSize < 1) throw new NetworkSpecError(`obsSize must be a positive integer, got ${parts.obsSize}`);
  if (parts.obsNormalizer) {
    if (parts.obsNormalizer.kind !== "normalize") throw new NetworkSpecError(`obsNormalizer: expected a "normalize" layer, got "${parts.obsNormalizer.kind}"`);
    checkNetwork({ layers: [parts.obsNormalizer] }, parts.obsSize, "obsNormalizer");
  }
  const osi = parts.osi ? checkNetwork(parts.osi.network, parts.obsSize, "osi") : undefined;
  const conditions = parts.osi ? parts.osi.conditionsActor !== false : false;
  const actorIn = parts.obsSize + (osi && conditions ? osi.outSize : 0);
  const actor = checkNetwork(parts.actor, actorIn, "actor");

  const segments: StateSegment[] = [];
  let hSize = 0;
  let cSize = 0;
  for (const [owner, net] of [["actor", actor], ["osi", osi]] as const) {
    const r = net?.recurrent;
    if (!r) continue;
    const seg: StateSegment = { owner, kind: r.kind, hidden: r.hidden, hOffset: hSize };
    hSize += r.hidden;
    if (r.kind === "lstm") {
      seg.cOffset = cSize;
      cSize += r.hidden;
    }
    segments.push(seg);
  }
  const recurrentKind = cSize > 0 ? "lstm" : hSize > 0 ? "gru" : "none";
  const layout: PolicyLayout = {
    obsSize: parts.obsSize,
    actSize: actor.outSize,
    osiSize: osi ? osi.outSize : 0,
    hSize,
    cSize,
    recurrentKind,
    segments,
    actor,
    osiConditionsActor: conditions,
  };
  if (osi) layout.osi = osi;
  return layout;
}

/** Checks an action bound against the action size; errors name the field. */
export function checkActionBound(bound: ActionBound, actSize: number): void {
  if (bound.kind === "none") return;
  if (bound.kind !== "clip" && bound.kind !== "tanh") throw new NetworkSpecError(`actionBound.kind must be "none", "clip" or "tanh", got ${JSON.stringify((bound as { kind: unknown }).kind)}`);
  for (const side of ["low", "high"] as const) {
    const v = bound[side];
    if (!Array.isArray(v) || v.length !== actSize) throw new NetworkSpecError(`actionBound.${side} must have ${actSize} values (one per action), got ${Array.isArray(v) ? v.length : typeof v}`);
  }
  for (let i = 0; i < actSize; i++) {
    if (!Number.isFinite(bound.low[i]) || !Number.isFinite(bound.high[i]) || !(bound.low[i]! < bound.high[i]!)) {
      throw new NetworkSpecError(`actionBound: action ${i} needs finite low < high, got [${bound.low[i]}, ${bound.high[i]}]`);
    }
  }
}
