import { Randomizer } from "../randomization/randomizer.js";
import type { RandomizationEntry } from "../randomization/spec.js";
import type { TaskSetup, ParamSource } from "./sim-env.js";

/** A ParamSource as plain data, so it can cross to worker threads and live in files. */
export type ParamSourceSpec =
  | { kind: "task" }
  | { kind: "nominal" }
  | { kind: "spec"; spec: RandomizationEntry[] }
  | { kind: "fixed"; values: Record<string, number> };

export function resolveParamSource(setup: TaskSetup, src: ParamSourceSpec): ParamSource {
  switch (src.kind) {
    case "spec":
      return { kind: "spec", randomizer: new Randomizer(setup.table, src.spec, "params") };
    case "fixed":
      for (const name of Object.keys(src.values)) setup.table.indexOf(name); // unknown names fail here, by name
      return src;
    default:
      return src;
  }
}
