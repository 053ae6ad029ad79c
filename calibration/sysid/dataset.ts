/**
 * A system identification dataset: what the control loop logged at each of
 * its steps. Sample k holds the time t[k], the calibrated encoder angles and
 * (when logged) the motor current read at t[k], and the voltage written to
 * the bus right after that read: the command after the safety layer, exactly
 * as sent, so the fit replays what the motor really received. Whatever
 * produced the command (a policy, an excitation signal, a travel-keeping
 * feedback term) does not matter to the fit.
 *
 * Angles are continuous (multi-turn encoders; never wrapped to (-pi, pi]).
 */
import { ConfigError } from "../../common/schema.js";
import { readJsonFile } from "../../common/json-file.js";

export interface SysidDataset {
  /** Sample times, s, strictly increasing. */
  t: Float64Array;
  /** Commanded volts, after safety, as written to the bus after reading sample k. */
  volts: Float64Array;
  /** Calibrated encoder angles, rad (theta: arm, 0 at centre of travel; alpha: pendulum, 0 hanging). */
  theta: Float64Array;
  alpha: Float64Array;
  /** Present Current, A, when logged. */
  current?: Float64Array;
  /** Nominal control period, s. */
  controlDt: number;
}

const CHANNELS = ["t", "volts", "theta", "alpha", "current"] as const;

/**
 * Checks a dataset; returns it unchanged or throws a ConfigError naming the
 * field and sample (`source` prefixes the message, e.g. a file name).
 */
export function validateDataset(ds: SysidDataset, source = "dataset"): SysidDataset {
  const fail = (path: string, problem: string): never => {
    throw new ConfigError(path, problem, source);
  };
  if (typeof ds !== "object" || ds === null) fail("", "expected an object with t, volts, theta, alpha (and optionally current)");
  if (!(typeof ds.controlDt === "number" && ds.controlDt > 0 && Number.isFinite(ds.controlDt))) fail("controlDt", `expected a positive number of seconds, got ${String(ds.controlDt)}`);
  const n = ds.t?.length;
  for (const name of CHANNELS) {
    const a = ds[name];
    if (a === undefined) {
      if (name === "current") continue;
      fail(name, "missing");
    }
    if (!(a instanceof Float64Array)) fail(name, `expected a Float64Array, got ${Object.prototype.toString.call(a)}`);
    if (a!.length !== n) fail(name, `has ${a!.length} samples, t has ${n}`);
    for (let k = 0; k < a!.length; k++) if (!Number.isFinite(a![k]!)) fail(`${name}[${k}]`, `is ${a![k]} (every value must be finite)`);
  }
  if (n < 2) fail("t", `needs at least 2 samples, got ${n}`);
  for (let k = 1; k < n; k++) {
    if (!(ds.t[k]! > ds.t[k - 1]!)) fail(`t[${k}]`, `time must increase strictly: ${ds.t[k]} after ${ds.t[k - 1]}`);
  }
  for (const name of ["theta", "alpha"] as const) {
    const a = ds[name];
    for (let k = 1; k < n; k++) {
      if (Math.abs(a[k]! - a[k - 1]!) > Math.PI) fail(`${name}[${k}]`, `jumps by ${(a[k]! - a[k - 1]!).toFixed(3)} rad in one sample: the angle looks wrapped; log continuous (multi-turn) angles`);
    }
  }
  return ds;
}

/** Samples [from, to) as a new dataset (arrays copied). */
export function sliceDataset(ds: SysidDataset, from: number, to: number): SysidDataset {
  const n = ds.t.length;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= n)) {
    throw new RangeError(`sliceDataset: need integers 0 <= from < to <= ${n}, got [${from}, ${to})`);
  }
  const out: SysidDataset = {
    t: ds.t.slice(from, to),
    volts: ds.volts.slice(from, to),
    theta: ds.theta.slice(from, to),
    alpha: ds.alpha.slice(from, to),
    controlDt: ds.controlDt,
  };
  if (ds.current) out.current = ds.current.slice(from, to);
  return out;
}

/** Duration covered by the samples, s. */
export function datasetSeconds(ds: SysidDataset): number {
  return ds.t[ds.t.length - 1]! - ds.t[0]! + ds.controlDt;
}

/** A dataset as plain JSON (arrays of numbers). */
export function datasetToJson(ds: SysidDataset): Record<string, unknown> {
  const out: Record<string, unknown> = { controlDt: ds.controlDt };
  for (const name of CHANNELS) {
    const a = ds[name];
    if (a) out[name] = Array.from(a);
  }
  return out;
}

/** Parses and validates a dataset from JSON ({ controlDt, t, volts, theta, alpha, current? }). */
export function datasetFromJson(value: unknown, source = "dataset"): SysidDataset {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError("", "expected an object", source);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (k !== "controlDt" && !(CHANNELS as readonly string[]).includes(k)) throw new ConfigError(k, `unknown field (known fields: controlDt, ${CHANNELS.join(", ")})`, source);
  }
  const arr = (name: (typeof CHANNELS)[number]): Float64Array | undefined => {
    const a = v[name];
    if (a === undefined) return undefined;
    if (!Array.isArray(a)) throw new ConfigError(name, `expected an array of numbers, got ${typeof a}`, source);
    return Float64Array.from(a, (x, k) => {
      if (typeof x !== "number") throw new ConfigError(`${name}[${k}]`, `expected a number, got ${JSON.stringify(x)}`, source);
      return x;
    });
  };
  const ds = {
    t: arr("t"),
    volts: arr("volts"),
    theta: arr("theta"),
    alpha: arr("alpha"),
    controlDt: v.controlDt,
  } as SysidDataset;
  const current = arr("current");
  if (current) ds.current = current;
  return validateDataset(ds, source);
}

/** Reads a dataset JSON file (see datasetFromJson); errors name the file and field. */
export function readDatasetFile(file: string): SysidDataset {
  return datasetFromJson(readJsonFile(file, { defaultValue: undefined, parse: (v) => v }), file);
}

export { simulateDataset, type SimulateDatasetOptions, type SimulatedDataset, type CommandSource } from "./simulate-dataset.js";
