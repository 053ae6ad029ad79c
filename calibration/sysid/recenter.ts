/**
 * Domain randomization re-centred on identified parameters (`s2r train
 * --params params.json`): every parameter the data identified gets a uniform
 * range at its identified value, +-2 standard deviations wide but never
 * narrower than +-floor of the value (the fit's own error is not the only
 * thing that differs between the log and tomorrow's robot). Parameters the
 * data did not identify keep the task's entry, and every other entry of the
 * task's spec is kept as it is, except the entries an identified symbol's
 * mapping read (params.pinned, e.g. the arm's inertia shape under Jr): they
 * are held where the fit had them (a `fixed` value, else nominal: the entry
 * is dropped), or the identified value would mean something else.
 */
import { ConfigError } from "../../common/schema.js";
import type { RandomizationEntry } from "../../sim/randomization/spec.js";
import type { SysidParams } from "./params-file.js";

export interface RecenterOptions {
  /** Relative half-width floor; default 0.03 (+-3 %). */
  floor?: number;
  /** Standard deviations of half-width; default 2. */
  sigmas?: number;
}

export function recenterRandomization(spec: readonly RandomizationEntry[], params: SysidParams, options: RecenterOptions = {}): RandomizationEntry[] {
  const floor = options.floor ?? 0.03;
  const k = options.sigmas ?? 2;
  if (!(floor >= 0 && floor < 1)) throw new RangeError(`recenterRandomization: floor must be a fraction in [0, 1), got ${floor}`);
  if (!(k > 0)) throw new RangeError(`recenterRandomization: sigmas must be positive, got ${k}`);
  let out = spec.map((e) => ({ ...e }));
  for (const [symbol, target] of Object.entries(params.symbols)) {
    if (!params.identifiable[symbol]) continue;
    for (const pin of params.pinned[symbol] ?? []) {
      const held = params.fixed[pin];
      out = out.filter((e) => e.target !== pin);
      if (held !== undefined) out.push({ target: pin, distribution: "uniform", mode: "absolute", low: held, high: held, when: "episode" });
    }
    const value = params.targets[target];
    const sd = params.targetStddev[target];
    if (value === undefined || sd === undefined) throw new ConfigError(`targets.${target}`, `missing for identified parameter ${symbol}`);
    if (sd === null) throw new ConfigError(`targetStddev.${target}`, `${symbol} is marked identifiable but has no standard deviation`);
    const half = Math.max(k * sd, floor * Math.abs(value));
    // Every identified quantity is a magnitude (mass, length, resistance, friction, latency...): never below 0.
    const low = value >= 0 ? Math.max(0, value - half) : value - half;
    const entry: RandomizationEntry = { target, distribution: "uniform", mode: "absolute", low, high: value + half, when: "episode" };
    const i = out.findIndex((e) => e.target === target);
    if (i >= 0) out[i] = { ...entry, when: out[i]!.when };
    else out.push(entry);
  }
  return out;
}
