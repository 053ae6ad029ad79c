import { ConfigError } from "../../common/schema.js";
import type { Rng } from "../../common/rng.js";
import type { ParamTable } from "../params.js";
import { resolveEntryUnits } from "./entry-units.js";
import { isVisualTarget, validateEntry, type RandomizationEntry, type ResolvedEntry } from "./spec.js";

interface Compiled {
  /** The entry with its figures in the target's unit. */
  entry: ResolvedEntry;
  index: number;
  nominal: number;
  /** Centre and half-width of the drawn quantity (in log space for loguniform): the normalization of the privileged vector. */
  center: number;
  half: number;
  /** "choice" entries: the option indices of the target's `choices`. */
  choiceIndices?: number[];
}

/**
 * A randomization spec bound to a parameter table. `drawEpisode` gives the
 * full parameter vector of a new episode; `applyStep` redraws the per-step
 * entries on top of it. The episode entries, normalized to about [-1, 1], are
 * the privileged vector that critics see and OSI networks estimate.
 */
export class Randomizer {
  private readonly episode: Compiled[] = [];
  private readonly step: Compiled[] = [];
  readonly privilegedNames: readonly string[];

  constructor(
    readonly table: ParamTable,
    spec: readonly RandomizationEntry[],
    path = "randomization",
    /**
     * Entries this randomizer owns; the others belong to another table and are skipped. Default: the
     * table's namespace (dynamics and visual targets share one spec, see isVisualTarget).
     */
    owns: (target: string) => boolean = namespaceOf(table),
  ) {
    const seen = new Set<string>();
    spec.forEach((written, i) => {
      if (!owns(written.target)) return;
      const p = `${path}[${i}]`;
      let index: number;
      try {
        index = table.indexOf(written.target);
      } catch (e) {
        throw new ConfigError(`${p}.target`, (e as Error).message);
      }
      if (seen.has(written.target)) throw new ConfigError(`${p}.target`, `${written.target} is randomized twice`);
      seen.add(written.target);
      const param = table.entries[index]!;
      const entry = resolveEntryUnits(written, param, p);
      validateEntry(entry, p);
      const target = entry.target;
      if (entry.when === "step" && param.stage === "model") {
        throw new ConfigError(`${p}.when`, `${entry.target} changes the rigid-body model and can only be drawn per episode`);
      }
      const choices = choiceIndices(entry, param.choices, target, p);
      if (entry.mode === "scale" && entry.distribution !== "choice" && param.nominal === 0) {
        throw new ConfigError(`${p}.mode`, `${entry.target} has a nominal value of 0, so scaling it does nothing; use "mode": "absolute"`);
      }
      const c: Compiled = { entry, index, nominal: param.nominal, ...normalization(entry), ...choices };
      (entry.when === "episode" ? this.episode : this.step).push(c);
    });
    this.privilegedNames = this.episode.map((c) => c.entry.target);
  }

  get privilegedSize(): number {
    return this.episode.length;
  }

  get hasStepEntries(): boolean {
    return this.step.length > 0;
  }

  /** Nominal values with every episode entry drawn; fills `privileged` when given. */
  drawEpisode(rng: Rng, out: Float64Array, privileged?: Float32Array | Float64Array): void {
    out.set(this.table.nominal());
    for (let k = 0; k < this.episode.length; k++) {
      const c = this.episode[k]!;
      const u = draw(c, rng);
      out[c.index] = valueOf(c, u);
      if (privileged) privileged[k] = normalize(c, u);
    }
  }

  /** Copies the episode values and redraws the per-step entries. */
  applyStep(rng: Rng, episodeValues: Float64Array, out: Float64Array): void {
    if (out !== episodeValues) out.set(episodeValues);
    for (const c of this.step) {
      const u = draw(c, rng);
      out[c.index] = valueOf(c, u);
    }
  }

  /** The privileged vector of a given full parameter vector (e.g. fixed evaluation parameters). */
  privilegedOf(values: Float64Array, out: Float32Array | Float64Array): void {
    for (let k = 0; k < this.episode.length; k++) {
      const c = this.episode[k]!;
      const v = values[c.index]!;
      out[k] = normalize(c, c.entry.mode === "scale" ? v / c.nominal : v);
    }
  }

  /** Parameter values (in the table's units) of a normalized privileged vector, e.g. an OSI estimate. */
  denormalize(normalized: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (let k = 0; k < this.episode.length; k++) {
      const c = this.episode[k]!;
      const z = c.center + c.half * normalized[k]!;
      const u = c.entry.distribution === "loguniform" ? Math.exp(z) : z;
      out[c.entry.target] = c.entry.mode === "scale" ? c.nominal * u : u;
    }
    return out;
  }

  /** The range each privileged entry was drawn from, in the table's units (for reports and manifests). */
  privilegedRanges(): { name: string; nominal: number; center: number; halfRange: number; low: number; high: number }[] {
    return this.episode.map((c) => {
      const lo = this.denormalizeOne(c, -1);
      const hi = this.denormalizeOne(c, 1);
      return { name: c.entry.target, nominal: c.nominal, center: c.center, halfRange: c.half, low: Math.min(lo, hi), high: Math.max(lo, hi) };
    });
  }

  private denormalizeOne(c: Compiled, z: number): number {
    const x = c.center + c.half * z;
    const u = c.entry.distribution === "loguniform" ? Math.exp(x) : x;
    return c.entry.mode === "scale" ? c.nominal * u : u;
  }
}

/** Owns the visual targets when the table is the visual one, the dynamics targets otherwise. */
function namespaceOf(table: ParamTable): (target: string) => boolean {
  const visual = table.entries.some((e) => isVisualTarget(e.name));
  return (target) => isVisualTarget(target) === visual;
}

/** The parameter value of a draw: scaled entries multiply the nominal; a choice is the option's index whatever the mode. */
function valueOf(c: Compiled, u: number): number {
  return c.entry.mode === "scale" && !c.choiceIndices ? c.nominal * u : u;
}

/** A "choice" entry names options of a categorical target; anything else on a categorical target is an error. */
function choiceIndices(e: ResolvedEntry, choices: readonly string[] | undefined, target: string, path: string): { choiceIndices?: number[] } {
  if (e.distribution !== "choice") {
    if (choices) throw new ConfigError(`${path}.distribution`, `${target} is categorical (${choices.join(", ")}): use "distribution": "choice" with "choices"`);
    return {};
  }
  if (!choices) throw new ConfigError(`${path}.distribution`, `${target} is a number, not categorical: "choice" applies to categorical targets only`);
  return {
    choiceIndices: e.choices!.map((name, k) => {
      const i = choices.indexOf(name);
      if (i < 0) throw new ConfigError(`${path}.choices[${k}]`, `unknown option ${JSON.stringify(name)} for ${target} (options: ${choices.join(", ")})`);
      return i;
    }),
  };
}

function draw(c: Compiled, rng: Rng): number {
  const e = c.entry;
  let u: number;
  switch (e.distribution) {
    case "choice":
      return c.choiceIndices![rng.int(c.choiceIndices!.length)]!;
    case "uniform":
      u = rng.uniform(e.low!, e.high!);
      break;
    case "loguniform":
      u = Math.exp(rng.uniform(Math.log(e.low!), Math.log(e.high!)));
      break;
    case "extremes":
      u = rng.next() < 0.5 ? e.low! : e.high!;
      break;
    case "normal":
      u = (e.mean ?? (e.mode === "scale" ? 1 : 0)) + e.std! * rng.normal();
      break;
  }
  if (e.min !== undefined && u < e.min) u = e.min;
  if (e.max !== undefined && u > e.max) u = e.max;
  return u;
}

function normalization(e: ResolvedEntry): { center: number; half: number } {
  switch (e.distribution) {
    case "uniform":
    case "extremes":
      return { center: (e.low! + e.high!) / 2, half: (e.high! - e.low!) / 2 };
    case "loguniform":
      return { center: (Math.log(e.low!) + Math.log(e.high!)) / 2, half: (Math.log(e.high!) - Math.log(e.low!)) / 2 };
    case "normal":
      return { center: e.mean ?? (e.mode === "scale" ? 1 : 0), half: e.std! };
    case "choice":
      // An index is not a magnitude: centre 0 and half-width 0 make its privileged value 0.
      return { center: 0, half: 0 };
  }
}

function normalize(c: Compiled, u: number): number {
  if (c.half === 0) return 0;
  const x = c.entry.distribution === "loguniform" ? Math.log(u) : u;
  return (x - c.center) / c.half;
}
