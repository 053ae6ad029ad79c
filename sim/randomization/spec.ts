import { arrayOf, ConfigError, obj, oneOf, optional, str, type Infer } from "../../common/schema.js";
import { quantityInput } from "../../common/units.js";

/**
 * Domain randomization and noise as data. Each entry names a target in the
 * parameter table (params.ts), a distribution, whether the draw scales the
 * nominal value or replaces it, and when it is drawn:
 *
 *   { "target": "links.pendulum.mass", "distribution": "uniform", "mode": "scale", "low": 0.8, "high": 1.2 }
 *   { "target": "actuators.arm.latency", "distribution": "uniform", "mode": "absolute", "low": 0, "high": 0.01 }
 *   { "target": "joints.arm_joint.disturbance", "distribution": "normal", "mode": "absolute", "mean": 0, "std": 0.002, "when": "step" }
 *
 * "extremes" draws `low` or `high` with equal probability (held-out tests at
 * the edges of, or beyond, the training ranges). "choice" draws one of
 * `choices` with equal probability, for categorical targets (a texture family,
 * a channel order): { "target": "visual.links.arm.texture", "distribution": "choice", "choices": ["flat", "stripes"] }.
 *
 * Targets are checked against the robot's table when a task loads: an unknown
 * target is an error, never a silent no-op. Figures of an absolute entry may
 * carry units ("low": "2 ms"), converted to the target's unit from the table
 * when the spec is bound to it (entry-units.ts); a scale entry takes plain
 * factors (1.2 or "120 %").
 */
export const randomizationEntrySchema = obj({
  target: str(undefined),
  distribution: oneOf(["uniform", "normal", "loguniform", "extremes", "choice"] as const, "uniform"),
  mode: oneOf(["scale", "absolute"] as const, "scale"),
  low: optional(quantityInput()),
  high: optional(quantityInput()),
  mean: optional(quantityInput()),
  std: optional(quantityInput()),
  /** Limits applied after drawing (useful for normal distributions). */
  min: optional(quantityInput()),
  max: optional(quantityInput()),
  /** Options of a "choice" distribution (names the target's table entry lists). */
  choices: optional(arrayOf(str(undefined), undefined, { minLength: 1 })),
  when: oneOf(["episode", "step"] as const, "episode"),
});

export type RandomizationEntry = Infer<typeof randomizationEntrySchema>;
export const randomizationSpecSchema = arrayOf(randomizationEntrySchema, []);

/** The figures an entry may write with units. */
export const ENTRY_FIGURES = ["low", "high", "mean", "std", "min", "max"] as const;
/** An entry whose figures are numbers in its target's unit (or plain factors for "scale"). */
export type ResolvedEntry = Omit<RandomizationEntry, (typeof ENTRY_FIGURES)[number]> & { [K in (typeof ENTRY_FIGURES)[number]]?: number };

/** Distribution checks the field schema cannot express. */
export function validateEntry(e: ResolvedEntry, path: string): void {
  if (e.distribution === "uniform" || e.distribution === "loguniform" || e.distribution === "extremes") {
    if (e.low === undefined) throw new ConfigError(`${path}.low`, `required for a ${e.distribution} distribution`);
    if (e.high === undefined) throw new ConfigError(`${path}.high`, `required for a ${e.distribution} distribution`);
    if (e.high < e.low) throw new ConfigError(`${path}.high`, `must be >= low (${e.low}), got ${e.high}`);
    if (e.distribution === "loguniform" && e.low <= 0) throw new ConfigError(`${path}.low`, `must be > 0 for a loguniform distribution, got ${e.low}`);
  } else if (e.distribution === "choice") {
    if (e.choices === undefined) throw new ConfigError(`${path}.choices`, "required for a choice distribution");
  } else {
    if (e.std === undefined) throw new ConfigError(`${path}.std`, "required for a normal distribution");
    if (e.std < 0) throw new ConfigError(`${path}.std`, `must be >= 0, got ${e.std}`);
    if (e.mean === undefined && e.mode === "absolute") throw new ConfigError(`${path}.mean`, "required for an absolute normal distribution");
  }
  if (e.min !== undefined && e.max !== undefined && e.max < e.min) throw new ConfigError(`${path}.max`, `must be >= min (${e.min})`);
}

/**
 * Visual targets (what cameras see: visual.*, camera.*) live in their own
 * table (render/visual-params.ts); everything else is dynamics. One spec holds
 * both and each randomizer takes the entries of its table's namespace.
 */
export function isVisualTarget(target: string): boolean {
  return target.startsWith("visual.") || target.startsWith("camera.");
}
