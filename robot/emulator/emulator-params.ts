/**
 * The hidden truth of an emulated rig: the simulator's parameter vector and
 * each encoder's raw count at its joint's zero. Nominal by default (encoders
 * read 0 at the zeros); drawn from the task's own randomization with
 * `seed` (the rig page's ±20 % ranges and its unmodelled effects), with the
 * arm encoder's zero anywhere in a turn and the pendulum's near zero; or set
 * from a file:
 *
 *   {"values": {"actuators.arm.Rm": 9.1, ...}, "zeroCounts": {"arm_joint": 1873}}
 *
 * or a system-identification result (params.json), whose `targets` map holds
 * table names and values. (A plain {symbol: value} map of the rig's physical
 * symbols, {"Rm": 10.1, "km": 0.0336}, is converted to table values by the
 * launch layer, which knows the symbols, and arrives here as `values`.)
 * Values may lie outside the task's randomization ranges: the emulator is a
 * unit, not a draw.
 */

import { readFileSync } from "node:fs";
import { Rng } from "../../common/rng.js";
import { ConfigError } from "../../common/schema.js";
import type { TaskSetup } from "../../sim/env/sim-env.js";
import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { rigJointOrder, type RigConfig } from "../rigs/rig-config.js";

export interface EmulatorParams {
  /** Full parameter vector, in the table's order. */
  values: Float64Array;
  /** Raw Present Position at each joint's zero, by joint name. */
  zeroCounts: Record<string, number>;
  /** Where the values came from, e.g. "nominal", "seed 7", "file p.json". */
  source: string;
  /** Drawn at random: not to be printed unless asked. */
  hidden: boolean;
  /** Names of the table entries that differ from nominal by choice (drawn or set). */
  chosen: string[];
}

export interface EmulatorParamsRequest {
  seed?: number;
  /** A params file (see above), applied on top of a seeded draw when both are given. */
  file?: string;
  /** Table values already read (e.g. converted from physical symbols), applied like a file's; `valuesSource` names them. */
  values?: Record<string, number>;
  valuesSource?: string;
}

/** How far the pendulum encoder's hanging reading may be from 0 in a seeded draw, counts. */
const PENDULUM_ZERO_SPREAD = 16;

function numberRecord(v: unknown, path: string, file: string): Record<string, number> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(path, "expected an object of name: number", file);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "number" || !Number.isFinite(x)) throw new ConfigError(`${path}.${k}`, `expected a finite number, got ${JSON.stringify(x)}`, file);
  }
  return v as Record<string, number>;
}

/** Reads a params file into table-name values and zero counts; errors name the file and field. */
export function readEmulatorParamsFile(file: string, setup: TaskSetup<TaskConfigBase>, rig: RigConfig): { values: Record<string, number>; zeroCounts: Record<string, number> } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError("", code ? `cannot read file: ${code}` : `not valid JSON: ${(e as Error).message}`, file);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ConfigError("", "expected an object with \"values\" (or a sysid params.json with \"targets\")", file);
  const d = doc as Record<string, unknown>;
  // A sysid result carries physical symbols in `values` and the table names in `targets`.
  const key = "targets" in d ? "targets" : "values";
  if (key === "values") {
    for (const k of Object.keys(d)) if (k !== "values" && k !== "zeroCounts") throw new ConfigError(k, "unknown field (known fields: values, zeroCounts; or a sysid params.json with targets)", file);
  }
  const values = d[key] === undefined ? {} : numberRecord(d[key], key, file);
  for (const name of Object.keys(values)) {
    try {
      setup.table.indexOf(name);
    } catch (e) {
      throw new ConfigError(`${key}.${name}`, (e as Error).message, file);
    }
  }
  const zeroCounts = d.zeroCounts === undefined ? {} : numberRecord(d.zeroCounts, "zeroCounts", file);
  const joints = rigJointOrder(rig);
  for (const j of Object.keys(zeroCounts)) if (!joints.includes(j)) throw new ConfigError(`zeroCounts.${j}`, `rig ${rig.name} has no such joint (it has ${joints.join(", ")})`, file);
  return { values, zeroCounts };
}

export function emulatorParams(setup: TaskSetup<TaskConfigBase>, rig: RigConfig, req: EmulatorParamsRequest = {}): EmulatorParams {
  const table = setup.table;
  const values = table.nominal();
  const zeroCounts: Record<string, number> = Object.fromEntries(rigJointOrder(rig).map((j) => [j, 0]));
  const chosen = new Set<string>();
  const sources: string[] = [];
  if (req.seed !== undefined) {
    if (!Number.isInteger(req.seed)) throw new RangeError(`emulator seed must be an integer, got ${req.seed}`);
    setup.randomizer.drawEpisode(Rng.derive(req.seed, 11), values);
    for (const n of setup.randomizer.privilegedNames) chosen.add(n);
    const rng = Rng.derive(req.seed, 12);
    const countsPerRev = rig.units.countsPerRev;
    for (const d of rig.devices) {
      // A motor's absolute encoder reads anything at the arm's centre; a free pendulum's reading is set near zero when it is mounted.
      zeroCounts[d.joint] = d.role === "motor" ? rng.int(countsPerRev) : rng.int(2 * PENDULUM_ZERO_SPREAD + 1) - PENDULUM_ZERO_SPREAD;
    }
    sources.push(`seed ${req.seed}`);
  }
  if (req.file !== undefined) {
    const f = readEmulatorParamsFile(req.file, setup, rig);
    for (const [name, v] of Object.entries(f.values)) {
      values[table.indexOf(name)] = v;
      chosen.add(name);
    }
    Object.assign(zeroCounts, f.zeroCounts);
    sources.push(`file ${req.file}`);
  }
  if (req.values !== undefined) {
    for (const [name, v] of Object.entries(req.values)) {
      if (!Number.isFinite(v)) throw new ConfigError(name, `expected a finite number, got ${v}`, req.valuesSource);
      values[table.indexOf(name)] = v;
      chosen.add(name);
    }
    sources.push(req.valuesSource ?? "values");
  }
  return { values, zeroCounts, source: sources.join(" + ") || "nominal", hidden: req.seed !== undefined, chosen: [...chosen] };
}

/** The chosen parameters by name and the zero counts, for --reveal and tests. */
export function describeEmulatorParams(setup: TaskSetup<TaskConfigBase>, p: EmulatorParams): { params: Record<string, number>; zeroCounts: Record<string, number> } {
  const params: Record<string, number> = {};
  for (const name of p.chosen) params[name] = p.values[setup.table.indexOf(name)]!;
  return { params, zeroCounts: { ...p.zeroCounts } };
}
