/**
 * Binds a randomization entry's figures to its target's unit: an absolute
 * entry's "low": "2 ms" becomes 0.002 for a latency in s, "5 deg" 0.087 for an
 * encoder offset in rad, and "6 m" for a voltage is an error naming the
 * field. The parameter table (params.ts) carries each target's unit; a scale
 * entry's figures are plain factors (1.2, or "120 %").
 */
import { ConfigError } from "../../common/schema.js";
import { quantityName, toUnit } from "../../common/units.js";
import type { ParamEntry } from "../params.js";
import { ENTRY_FIGURES, type RandomizationEntry, type ResolvedEntry } from "./spec.js";

export function resolveEntryUnits(entry: RandomizationEntry, param: ParamEntry, path: string): ResolvedEntry {
  const unit = entry.mode === "scale" ? "" : param.unit;
  const out: ResolvedEntry = { ...entry } as ResolvedEntry;
  for (const k of ENTRY_FIGURES) {
    const v = entry[k];
    if (v === undefined) continue;
    try {
      out[k] = toUnit(v, unit, `${path}.${k}`);
    } catch (e) {
      if (!(e instanceof ConfigError) || entry.mode !== "scale" || typeof v !== "string") throw e;
      throw new ConfigError(e.path, `${e.problem}: "mode": "scale" multiplies ${param.name}'s nominal value by a plain factor (1.2 or "120 %"); "mode": "absolute" takes ${quantityName(param.unit)}`);
    }
  }
  return out;
}
