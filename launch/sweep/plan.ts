import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, deepMerge } from "../../common/schema.js";
import { resolveTrainConfig } from "../../policies/runner.js";

/**
 * A sweep is a list of trials, each one `s2r train` run with its own config:
 * the base config with the trial's overrides (dotted paths into the training
 * config, e.g. "ppo.learningRate"). A grid file maps paths to lists of values
 * and the trials are every combination; `--seeds N` is the grid
 * {"run.seed": [1..N]}.
 */
export interface Trial {
  name: string;
  /** Overrides of this trial, by dotted path. */
  overrides: Record<string, unknown>;
  /** The trial's directory: config.json, train.log, status.json, and the run in run/. */
  dir: string;
  /** The command that runs it (argv). */
  command: string[];
  /** Its run.totalSteps: a trial whose metrics reach it completed. */
  totalSteps: number;
}

export type Grid = Record<string, unknown[]>;

/** Checks a grid read from a file: an object of non-empty arrays. */
export function parseGrid(v: unknown, source: string): Grid {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError("", "expected an object mapping config paths (e.g. \"ppo.learningRate\") to lists of values", source);
  const g = v as Record<string, unknown>;
  if (Object.keys(g).length === 0) throw new ConfigError("", "the grid names no config path", source);
  for (const [k, vals] of Object.entries(g)) {
    if (!/^(task|policy|ppo|run)(\.[A-Za-z0-9_]+)+$/.test(k)) throw new ConfigError(k, "expected a dotted path under task, policy, ppo or run", source);
    if (!Array.isArray(vals) || vals.length === 0) throw new ConfigError(k, "expected a non-empty list of values", source);
  }
  return g as Grid;
}

export function seedsGrid(n: number): Grid {
  return { "run.seed": Array.from({ length: n }, (_, i) => i + 1) };
}

/** Every combination of the grid's values, first path slowest. */
export function expandGrid(g: Grid): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, vals] of Object.entries(g)) out = out.flatMap((o) => vals.map((v) => ({ ...o, [k]: v })));
  return out;
}

function nest(path: string, value: unknown): Record<string, unknown> {
  return path
    .split(".")
    .reverse()
    .reduce<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
}

/**
 * Writes every trial's config into out/<trial>/config.json after validating it
 * (a bad value fails here, naming the trial and the field, before anything runs).
 */
export function planTrials(o: { task: string; base: Record<string, unknown>; grid: Grid; out: string; s2r: string[]; trainArgs?: string[] }): Trial[] {
  return expandGrid(o.grid).map((overrides, i) => {
    let partial = o.base;
    for (const [k, v] of Object.entries(overrides)) partial = deepMerge(partial, nest(k, v));
    const name = `trial-${String(i).padStart(3, "0")}`;
    let totalSteps: number;
    try {
      totalSteps = resolveTrainConfig(o.task, partial).run.totalSteps;
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(e.path, `${e.problem} (sweep ${name}: ${JSON.stringify(overrides)})`);
      throw e;
    }
    const dir = join(o.out, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(partial, null, 2) + "\n");
    return { name, overrides, dir, totalSteps, command: [...o.s2r, "train", o.task, "--config", join(dir, "config.json"), "--out", join(dir, "run"), "--quiet", ...(o.trainArgs ?? [])] };
  });
}
