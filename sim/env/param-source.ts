import { Randomizer } from "../randomization/randomizer.js";
import { isVisualTarget } from "../render/visual-params.js";
import type { RandomizationEntry } from "../randomization/spec.js";
import type { TaskSetup, ParamSource } from "./sim-env.js";

/** A ParamSource as plain data, so it can cross to worker threads and live in files. */
export type ParamSourceSpec =
  | { kind: "task" }
  | { kind: "nominal" }
  | { kind: "spec"; spec: RandomizationEntry[] }
  | { kind: "fixed"; values: Record<string, number> };

const isDynamicsTarget = (target: string) => !isVisualTarget(target);

export function resolveParamSource(setup: TaskSetup, src: ParamSourceSpec): ParamSource {
  switch (src.kind) {
    case "spec":
      return { kind: "spec", randomizer: new Randomizer(setup.table, src.spec, "params", isDynamicsTarget) };
    case "fixed":
      for (const name of Object.keys(src.values)) setup.table.indexOf(name); // unknown names fail here, by name
      return src;
    default:
      return src;
  }
}
