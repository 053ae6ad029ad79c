import { Randomizer } from "../randomization/randomizer.js";
import type { RandomizationEntry } from "../randomization/spec.js";
import type { TaskSetup, ParamSource } from "./sim-env.js";

/** A ParamSource as plain data, so it can cross to worker threads and live in files. */
export type ParamSourceSpec =
  | { kind: "task" }
  | { kind: "nominal" }
  | { kind: "spec"; spec: RandomizationEntry[] }
  | { kind: "fixed"; values: Record<string, number> }
  | AdrParamSourceSpec;

/**
 * Automatic domain randomization's current ranges (sim/randomization/adr.ts):
 * the task's draw, then these targets uniform in [low, high] (table units),
 * except that with probability `boundaryProb` one of them, with one side,
 * is pinned to that boundary (reported as the episode's `adrBoundary` metric).
 */
export interface AdrParamSourceSpec {
  kind: "adr";
  ranges: { target: string; low: number; high: number }[];
  boundaryProb: number;
}

export function resolveParamSource(setup: TaskSetup, src: ParamSourceSpec): ParamSource {
  switch (src.kind) {
    case "spec":
      return { kind: "spec", randomizer: new Randomizer(setup.table, src.spec, "params") };
    case "fixed":
      for (const name of Object.keys(src.values)) setup.table.indexOf(name); // unknown names fail here, by name
      return src;
    case "adr":
      return { kind: "adr", boundaryProb: src.boundaryProb, ranges: src.ranges.map((r) => ({ index: setup.table.indexOf(r.target), low: r.low, high: r.high })) };
    default:
      return src;
  }
}
