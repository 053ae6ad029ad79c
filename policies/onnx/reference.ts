/**
 * A plain float64 evaluator of policy parts, written straight from the
 * equations in network-spec.ts, one scalar at a time. It is the yardstick the
 * exported ONNX graph (and the training core's forward pass) is checked
 * against, so it favours being obviously right over being fast.
 */

import type { LayerSpec, SequentialSpec } from "../network-spec.js";
import { checkActionBound, layoutPolicy, type ActionBound, type PolicyLayout, type PolicyParts } from "./policy-parts.js";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** y = W x + b, W [out, in] row-major. */
function linear(w: ArrayLike<number>, b: ArrayLike<number>, x: Float64Array, rows: number, offset = 0): Float64Array {
  const cols = x.length;
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b[offset + r]!;
    for (let c = 0; c < cols; c++) s += w[(offset + r) * cols + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

interface LayerState {
  h: Float64Array;
  c?: Float64Array;
}

function gruStep(l: Extract<LayerSpec, { kind: "gru" }>, x: Float64Array, h: Float64Array): Float64Array {
  const H = l.hidden;
  // Gate blocks: rows [0, H) = r, [H, 2H) = z, [2H, 3H) = n.
  const ir = linear(l.wIh, l.bIh, x, H, 0), hr = linear(l.wHh, l.bHh, h, H, 0);
  const iz = linear(l.wIh, l.bIh, x, H, H), hz = linear(l.wHh, l.bHh, h, H, H);
  const inn = linear(l.wIh, l.bIh, x, H, 2 * H), hn = linear(l.wHh, l.bHh, h, H, 2 * H);
  const out = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(ir[j]! + hr[j]!);
    const z = sigmoid(iz[j]! + hz[j]!);
    const n = Math.tanh(inn[j]! + r * hn[j]!);
    out[j] = (1 - z) * n + z * h[j]!;
  }
  return out;
}

function lstmStep(l: Extract<LayerSpec, { kind: "lstm" }>, x: Float64Array, s: LayerState): LayerState {
  const H = l.hidden;
  // Gate blocks: i, f, g, o.
  const pre = (k: number) => {
    const a = linear(l.wIh, l.bIh, x, H, k * H);
    const b = linear(l.wHh, l.bHh, s.h, H, k * H);
    return a.map((v, j) => v + b[j]!);
  };
  const [pi, pf, pg, po] = [pre(0), pre(1), pre(2), pre(3)];
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = sigmoid(pi[j]!), f = sigmoid(pf[j]!), g = Math.tanh(pg[j]!), o = sigmoid(po[j]!);
    c[j] = f * s.c![j]! + i * g;
    h[j] = o * Math.tanh(c[j]!);
  }
  return { h, c };
}

function applyLayer(layer: LayerSpec, x: Float64Array, state: LayerState | undefined): { y: Float64Array; state?: LayerState } {
  switch (layer.kind) {
    case "linear":
      return { y: linear(layer.weight, layer.bias, x, layer.outFeatures) };
    case "tanh":
      return { y: x.map(Math.tanh) };
    case "elu":
      return { y: x.map((v) => (v > 0 ? v : Math.exp(v) - 1)) };
    case "normalize":
      return {
        y: x.map((v, i) => Math.min(layer.clip, Math.max(-layer.clip, (v - layer.mean[i]!) / Math.sqrt(layer.var[i]! + layer.eps)))),
      };
    case "gru": {
      const h = gruStep(layer, x, state!.h);
      return { y: h, state: { h } };
    }
    case "lstm": {
      const next = lstmStep(layer, x, state!);
      return { y: next.h, state: next };
    }
  }
}

/** Runs a sequential network; returns its output and next recurrent state (if any). */
function runNetwork(spec: SequentialSpec, x: Float64Array, state: LayerState | undefined): { y: Float64Array; state?: LayerState } {
  let y = x;
  let next: LayerState | undefined;
  for (const layer of spec.layers) {
    const r = applyLayer(layer, y, state);
    y = r.y;
    if (r.state) next = r.state;
  }
  return next ? { y, state: next } : { y };
}

export class ReferencePolicy {
  readonly layout: PolicyLayout;
  /** Concatenated states, same layout as the ONNX model's h_in / c_in. */
  readonly h: Float64Array;
  readonly c: Float64Array;
  private readonly bound: ActionBound;

  constructor(
    private readonly parts: PolicyParts,
    options: { actionBound?: ActionBound } = {},
  ) {
    this.layout = layoutPolicy(parts);
    this.bound = options.actionBound ?? { kind: "none" };
    checkActionBound(this.bound, this.layout.actSize);
    this.h = new Float64Array(this.layout.hSize);
    this.c = new Float64Array(this.layout.cSize);
  }

  reset(): void {
    this.h.fill(0);
    this.c.fill(0);
  }

  private stateOf(owner: "actor" | "osi"): LayerState | undefined {
    const seg = this.layout.segments.find((s) => s.owner === owner);
    if (!seg) return undefined;
    const h = this.h.slice(seg.hOffset, seg.hOffset + seg.hidden);
    return seg.cOffset === undefined ? { h } : { h, c: this.c.slice(seg.cOffset, seg.cOffset + seg.hidden) };
  }

  private storeState(owner: "actor" | "osi", s: LayerState | undefined): void {
    const seg = this.layout.segments.find((x) => x.owner === owner);
    if (!seg || !s) return;
    this.h.set(s.h, seg.hOffset);
    if (seg.cOffset !== undefined) this.c.set(s.c!, seg.cOffset);
  }

  step(obs: ArrayLike<number>): { action: Float64Array; osi?: Float64Array } {
    if (obs.length !== this.layout.obsSize) throw new RangeError(`ReferencePolicy.step: obs has ${obs.length} values, expected ${this.layout.obsSize}`);
    let x: Float64Array = Float64Array.from(obs);
    if (this.parts.obsNormalizer) x = applyLayer(this.parts.obsNormalizer, x, undefined).y;
    let osi: Float64Array | undefined;
    let osiState: LayerState | undefined;
    if (this.parts.osi) {
      const r = runNetwork(this.parts.osi.network, x, this.stateOf("osi"));
      osi = r.y;
      osiState = r.state;
    }
    const actorIn = osi && this.layout.osiConditionsActor ? Float64Array.from([...x, ...osi]) : x;
    const actor = runNetwork(this.parts.actor, actorIn, this.stateOf("actor"));
    this.storeState("actor", actor.state);
    this.storeState("osi", osiState);
    const mean = actor.y;
    const b = this.bound;
    const action =
      b.kind === "none"
        ? mean
        : b.kind === "clip"
          ? mean.map((m, i) => Math.min(b.high[i]!, Math.max(b.low[i]!, m)))
          : mean.map((m, i) => (b.high[i]! + b.low[i]!) / 2 + ((b.high[i]! - b.low[i]!) / 2) * Math.tanh(m));
    return osi ? { action, osi } : { action };
  }
}
