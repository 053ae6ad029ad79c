/**
 * Typed configuration schemas with defaults, and validation of anything read
 * from disk. A schema both types a config in TypeScript (`Infer<typeof S>`)
 * and checks an unknown JSON value against it, so that a typo in a config file
 * is an error naming the field ("train.ppo.clipRatio: expected a number in
 * (0, 1], got -0.2") instead of a silently ignored key.
 *
 * Configs are composed (an object schema holds other schemas), never inherited.
 */

export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly source?: string,
  ) {
    super(`${source ? source + ": " : ""}${path || "(root)"}: ${problem}`);
    this.name = "ConfigError";
  }
}

export interface Schema<T> {
  /** Validates and fills defaults. `path` names the field in errors. */
  parse(value: unknown, path: string): T;
  /** The value used when the field is absent, or undefined when it is required. */
  readonly defaultValue: T | undefined;
  readonly description?: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return "an object";
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** Excludes the lower bound itself. */
  exclusiveMin?: boolean;
  integer?: boolean;
  description?: string;
}

export function num(defaultValue: number | undefined, opts: NumberOptions = {}): Schema<number> {
  const range = () => {
    const lo = opts.min === undefined ? "" : `${opts.exclusiveMin ? ">" : ">="} ${opts.min}`;
    const hi = opts.max === undefined ? "" : `<= ${opts.max}`;
    return [opts.integer ? "an integer" : "a number", lo, hi].filter(Boolean).join(" ");
  };
  return {
    defaultValue,
    description: opts.description,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, `required; expected ${range()}`);
        return defaultValue;
      }
      if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(path, `expected ${range()}, got ${describe(v)}`);
      if (opts.integer && !Number.isInteger(v)) throw new ConfigError(path, `expected ${range()}, got ${v}`);
      if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) throw new ConfigError(path, `expected ${range()}, got ${v}`);
      if (opts.max !== undefined && v > opts.max) throw new ConfigError(path, `expected ${range()}, got ${v}`);
      return v;
    },
  };
}

export function int(defaultValue: number | undefined, opts: Omit<NumberOptions, "integer"> = {}): Schema<number> {
  return num(defaultValue, { ...opts, integer: true });
}

export function str(defaultValue: string | undefined, description?: string): Schema<string> {
  return {
    defaultValue,
    description,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, "required; expected a string");
        return defaultValue;
      }
      if (typeof v !== "string") throw new ConfigError(path, `expected a string, got ${describe(v)}`);
      return v;
    },
  };
}

export function bool(defaultValue: boolean | undefined, description?: string): Schema<boolean> {
  return {
    defaultValue,
    description,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, "required; expected true or false");
        return defaultValue;
      }
      if (typeof v !== "boolean") throw new ConfigError(path, `expected true or false, got ${describe(v)}`);
      return v;
    },
  };
}

export function oneOf<const T extends string>(choices: readonly T[], defaultValue: T | undefined, description?: string): Schema<T> {
  return {
    defaultValue,
    description,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, `required; expected one of ${choices.join(", ")}`);
        return defaultValue;
      }
      if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
        throw new ConfigError(path, `expected one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${describe(v)}`);
      }
      return v as T;
    },
  };
}

export function arrayOf<T>(item: Schema<T>, defaultValue: T[] | undefined, opts: { minLength?: number; maxLength?: number } = {}): Schema<T[]> {
  return {
    defaultValue,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, "required; expected an array");
        return defaultValue.map((x) => x);
      }
      if (!Array.isArray(v)) throw new ConfigError(path, `expected an array, got ${describe(v)}`);
      if (opts.minLength !== undefined && v.length < opts.minLength) throw new ConfigError(path, `expected at least ${opts.minLength} entries, got ${v.length}`);
      if (opts.maxLength !== undefined && v.length > opts.maxLength) throw new ConfigError(path, `expected at most ${opts.maxLength} entries, got ${v.length}`);
      return v.map((x, i) => item.parse(x, `${path}[${i}]`));
    },
  };
}

/** A string-keyed map whose values share one schema. */
export function recordOf<T>(item: Schema<T>, defaultValue: Record<string, T> | undefined): Schema<Record<string, T>> {
  return {
    defaultValue,
    parse(v, path) {
      if (v === undefined) {
        if (defaultValue === undefined) throw new ConfigError(path, "required; expected an object");
        return { ...defaultValue };
      }
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(path, `expected an object, got ${describe(v)}`);
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) out[k] = item.parse(x, path ? `${path}.${k}` : k);
      return out;
    },
  };
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return {
    defaultValue: undefined,
    description: inner.description,
    parse(v, path) {
      return v === undefined ? undefined : inner.parse(v, path);
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
/** Keys whose schema admits undefined (built with `optional`) are optional properties. */
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Flatten<{ [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

/**
 * An object schema. Unknown keys are an error (they are almost always typos);
 * absent keys take their defaults; a nested object absent entirely takes the
 * defaults of all its fields.
 */
export function obj<S extends Shape>(shape: S, description?: string): Schema<ObjectOf<S>> & { shape: S; defaults(): ObjectOf<S> } {
  const schema = {
    shape,
    description,
    get defaultValue(): ObjectOf<S> | undefined {
      try {
        return schema.parse({}, "");
      } catch {
        return undefined;
      }
    },
    defaults(): ObjectOf<S> {
      return schema.parse({}, "");
    },
    parse(v: unknown, path: string): ObjectOf<S> {
      if (v === undefined) v = {};
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(path, `expected an object, got ${describe(v)}`);
      const input = v as Record<string, unknown>;
      for (const k of Object.keys(input)) {
        if (!(k in shape)) {
          const known = Object.keys(shape).join(", ");
          throw new ConfigError(path ? `${path}.${k}` : k, `unknown field (known fields: ${known})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(shape)) out[k] = s.parse(input[k], path ? `${path}.${k}` : k);
      return out as ObjectOf<S>;
    },
  };
  return schema;
}

/** Deep-merges plain objects (arrays and scalars in `over` replace those in `base`). */
export function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof base !== "object" || base === null || Array.isArray(base) || typeof over !== "object" || over === null || Array.isArray(over)) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
  return out as T;
}

/**
 * A schema whose absent fields come from a full default document (deep-merged:
 * nested objects field by field, arrays replaced whole), then validated. Used
 * for task configs, whose defaults include required sub-configs (the robot).
 */
export function withDefaults<T>(schema: Schema<T>, defaults: unknown, description?: string): Schema<T> & { defaults(): T } {
  return {
    defaultValue: undefined,
    description,
    parse(v, path) {
      if (v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v))) throw new ConfigError(path, `expected an object, got ${describe(v)}`);
      return schema.parse(deepMerge(structuredClone(defaults), v), path);
    },
    defaults() {
      return schema.parse(structuredClone(defaults), "");
    },
  };
}
