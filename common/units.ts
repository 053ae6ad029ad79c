/**
 * Physical figures written with their units in config files ("10 ms", "6 V",
 * "0.3 rad/s", "5 deg", "2.3e-4 kg m^2", "1 Mbaud"), converted at load to the
 * unit the field holds (SI, or what its name says: `watchdogMs` holds ms).
 * A plain number keeps meaning the field's unit, as before units existed.
 * A unit of the wrong kind is an error naming the field and the quantity it
 * expects: `safety.commandLimits.arm: expected a voltage (V), got "6 m"`.
 *
 * Parsing is mathjs's Unit parser (strict: a number and a unit expression,
 * never an arbitrary expression). mathjs is loaded on the first string only,
 * from its single-file bundle: its module tree takes 2-3 s to import on this
 * machine, the bundle about 0.2 s, and configs written in plain numbers (and
 * `s2r --help`) never load it at all.
 */

import { createRequire } from "node:module";
import type { MathJsInstance, Unit } from "mathjs";
import { ConfigError, num, type NumberOptions, type Schema } from "./schema.js";

/** What a config file may write where a physical figure goes. */
export type QuantityInput = number | string;

let math: MathJsInstance | undefined;

function mathjs(): MathJsInstance {
  if (math) return math;
  const bundle = createRequire(import.meta.url)("mathjs/lib/browser/math.js") as MathJsInstance & { all: object };
  // A private instance: the units added here do not leak into anyone else's mathjs.
  const m = bundle.create(bundle.all as never, {}) as MathJsInstance;
  // Serial symbol rate, its own dimension (a baud is not a hertz of anything else); "1 Mbaud", "57.6 kbaud".
  m.createUnit("baud", { prefixes: "short" });
  // Dynamixel control tables and motor data sheets speak rpm; mathjs's "cycle" is 2 pi rad.
  m.createUnit("rpm", { definition: "1 cycle/min" });
  math = m;
  return m;
}

/** Unit labels meaning "no dimension" (the parameter table's "scale" and "counts" are not mathjs units). */
const DIMENSIONLESS_LABELS = new Set(["", "1", "scale", "counts", "px", "V/V"]);

export function isDimensionless(unit: string): boolean {
  return DIMENSIONLESS_LABELS.has(unit.trim());
}

/** Names of the quantities configs hold, for errors ("expected a voltage (V)"). */
const QUANTITY_NAMES: [unit: string, name: string][] = [
  ["s", "a time"],
  ["Hz", "a frequency"],
  ["V", "a voltage"],
  ["V/s", "a voltage rate"],
  ["A", "a current"],
  ["ohm", "a resistance"],
  ["rad", "an angle"],
  ["rad/s", "an angular velocity"],
  ["rad/s^2", "an angular acceleration"],
  ["m", "a length"],
  ["m/s", "a velocity"],
  ["m/s^2", "an acceleration"],
  ["kg", "a mass"],
  ["kg m^2", "a moment of inertia"],
  ["N", "a force"],
  ["N m", "a torque"],
  ["N m/A", "a torque constant"],
  ["N m/rad", "a rotational stiffness"],
  ["N m s/rad", "a rotational damping"],
  ["N/m", "a linear stiffness"],
  ["N s/m", "a linear damping"],
  ["V/rad", "a voltage per angle"],
  ["V s/rad", "a voltage per angular velocity"],
  ["baud", "a symbol rate"],
];

function parseUnit(text: string): Unit {
  return mathjs().unit(text);
}

/** The unit a field holds, parsed: one mathjs does not know is a bug in the schema or parameter table, not in the user's file. */
function fieldUnit(unit: string): Unit {
  try {
    return parseUnit(unit);
  } catch (e) {
    throw new Error(`unit ${JSON.stringify(unit)} of a config field or parameter is not a unit mathjs knows (${(e as Error).message}); use a mathjs unit, or a dimensionless label (${[...DIMENSIONLESS_LABELS].map((l) => JSON.stringify(l)).join(", ")})`);
  }
}

/** "a voltage (V)", "a time (ms)", "a quantity in N m/A"... for the unit a field holds. */
export function quantityName(unit: string): string {
  if (isDimensionless(unit)) return "a plain number";
  const u = fieldUnit(unit);
  const known = QUANTITY_NAMES.find(([k]) => parseUnit(k).equalBase(u));
  return known ? `${known[1]} (${unit})` : `a quantity in ${unit}`;
}

/** What the config wrote, quoted and cut short for error messages. */
function describeInput(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "..." : text);
}

const PERCENT = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*%\s*$/;

/**
 * The value of a config figure in `unit` (the unit the field holds). A number
 * is taken as already in `unit`; a string is parsed with its unit and
 * converted; `unit` "" (or a dimensionless label of the parameter table) takes
 * plain numbers, unitless strings and percentages ("80 %" = 0.8).
 */
export function toUnit(input: unknown, unit: string, path: string): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new ConfigError(path, `expected a finite number, got ${input}`);
    return input;
  }
  if (typeof input !== "string") {
    throw new ConfigError(path, `expected a number or a string with a unit such as "10 ms", got ${input === null ? "null" : Array.isArray(input) ? "an array" : typeof input}`);
  }
  const dimensionless = isDimensionless(unit);
  const percent = PERCENT.exec(input);
  if (percent) {
    if (!dimensionless) throw new ConfigError(path, `expected ${quantityName(unit)}, got ${describeInput(input)}`);
    return Number(percent[1]) / 100;
  }
  let parsed: Unit;
  try {
    parsed = parseUnit(input);
  } catch (e) {
    throw new ConfigError(path, `cannot read ${describeInput(input)} as a number with a unit (${(e as Error).message}); write e.g. ${example(unit)}`);
  }
  if (parsed.value === null) throw new ConfigError(path, `${describeInput(input)} has no number; write e.g. ${example(unit)}`);
  let value: number;
  if (dimensionless) {
    if (parsed.units.length > 0 && !parsed.dimensions.every((d) => d === 0)) throw new ConfigError(path, `expected a plain number, got ${describeInput(input)}`);
    value = parsed.value;
  } else {
    if (!parsed.equalBase(fieldUnit(unit))) {
      const bare = parsed.units.length === 0 ? `; a string needs its unit (or write the number ${parsed.value} for ${parsed.value} ${unit})` : "";
      throw new ConfigError(path, `expected ${quantityName(unit)}, got ${describeInput(input)}${bare}`);
    }
    value = parsed.toNumber(unit);
  }
  if (!Number.isFinite(value)) throw new ConfigError(path, `${describeInput(input)} is not a finite value`);
  // Conversion factors leave float dust (0.1 s in ms can come out 100.00000000000001); no figure a
  // person writes has 15 significant digits, and exact values keep checks such as "a multiple of 20 ms" exact.
  return Number(value.toPrecision(15));
}

function example(unit: string): string {
  return isDimensionless(unit) ? `0.8 or "80 %"` : `"1 ${unit}"`;
}

/**
 * A config field holding a physical figure in `unit`: a number (in `unit`) or
 * a string with any unit of the same kind ("10 ms" for a field in s). Range
 * options are in `unit`, as for `num`.
 */
export function quantity(unit: string, defaultValue: number | undefined, opts: NumberOptions = {}): Schema<number> {
  const plain = num(defaultValue, opts);
  return {
    defaultValue,
    description: opts.description ?? `in ${unit}`,
    parse(v, path) {
      if (typeof v !== "string") return plain.parse(v, path);
      let x = toUnit(v, unit, path);
      // "115.2 kbaud" is 115200 baud give or take the float dust toUnit leaves.
      if (opts.integer && Math.abs(x - Math.round(x)) <= 1e-9 * Math.max(1, Math.abs(x))) x = Math.round(x);
      try {
        return plain.parse(x, path);
      } catch (e) {
        if (e instanceof ConfigError) throw new ConfigError(path, `${e.problem}${isDimensionless(unit) ? "" : ` ${unit}`} (from ${describeInput(v)})`);
        throw e;
      }
    },
  };
}

/**
 * A field kept as written (a number or a string with a unit), for values
 * whose unit depends on something else in the config (a randomization
 * entry's target, an actuator's kind); `toUnit` converts it once that is known.
 */
export function quantityInput(): Schema<QuantityInput> {
  return {
    defaultValue: undefined,
    parse(v, path) {
      if (typeof v === "number" && Number.isFinite(v)) return v;
      if (typeof v === "string" && v.trim() !== "") return v;
      if (v === undefined) throw new ConfigError(path, `required; expected a number or a string with a unit such as "10 ms"`);
      throw new ConfigError(path, `expected a number or a string with a unit such as "10 ms", got ${typeof v === "string" ? '""' : JSON.stringify(v) ?? typeof v}`);
    },
  };
}
