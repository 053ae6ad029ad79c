/**
 * params.json: the identified parameters of one rig, as written by system
 * identification and read by `s2r train --params` (see recenter.ts) or by
 * anything that wants the simulator at the identified values (`targets` is
 * ready for a { kind: "fixed", values } ParamSource).
 *
 *   {
 *     "schema": 1, "rig": "furuta",
 *     "values":       { "Rm": 9.2, "km": 0.043, ... },     physical, by rig symbol
 *     "stddev":       { "Rm": 0.005, ... },                 same units; null: not determined by the data
 *     "identifiable": { "Rm": true, ... },                  from the data (Fisher information)
 *     "targets":      { "actuators.arm.Rm": 9.2, ... },     parameter-table values
 *     "targetStddev": { "actuators.arm.Rm": 0.005, ... },
 *     "symbols":      { "Rm": "actuators.arm.Rm", ... },
 *     "fixed":        { },                                  table entries held during the fit
 *     "pinned":       { "Jr": ["links.arm.inertia", ...] },  entries a symbol's mapping read: keep them as in the fit
 *     "fit": { "costNominal", "costFitted", "heldOutErrorNominal", "heldOutErrorFitted", ... }
 *   }
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { readJsonFile } from "../../common/json-file.js";
import { arrayOf, bool, ConfigError, int, num, obj, recordOf, str, type Infer, type Schema } from "../../common/schema.js";
import type { SysidDataset } from "./dataset.js";
import type { SysidFit } from "./fit.js";
import { heldOutDetail, heldOutPart, type HeldOutOptions } from "./report.js";
import { furutaSysidRig } from "./rig.js";

export const SYSID_PARAMS_SCHEMA_VERSION = 1;

/** A standard deviation: a number >= 0, or null where the data does not determine the value. */
const stddevNumber: Schema<number | null> = {
  defaultValue: undefined,
  parse(v, path) {
    if (v === null) return null;
    return num(undefined, { min: 0 }).parse(v, path);
  },
};

const schemaVersion: Schema<number> = {
  defaultValue: undefined,
  parse(v, path) {
    const n = int(undefined).parse(v, path);
    if (n !== SYSID_PARAMS_SCHEMA_VERSION) throw new ConfigError(path, `this s2r reads sysid params schema ${SYSID_PARAMS_SCHEMA_VERSION}, the file has schema ${n}`);
    return n;
  },
};

export const sysidParamsSchema = obj({
  schema: schemaVersion,
  rig: str(undefined, "rig the parameters belong to, e.g. furuta"),
  values: recordOf(num(undefined), undefined),
  stddev: recordOf(stddevNumber, undefined),
  identifiable: recordOf(bool(undefined), undefined),
  targets: recordOf(num(undefined), undefined),
  targetStddev: recordOf(stddevNumber, undefined),
  symbols: recordOf(str(undefined), undefined),
  fixed: recordOf(num(undefined), {}),
  pinned: recordOf(arrayOf(str(undefined), undefined), {}),
  fit: obj({
    costNominal: num(undefined, { min: 0 }),
    costFitted: num(undefined, { min: 0 }),
    heldOutErrorNominal: num(undefined, { min: 0 }),
    heldOutErrorFitted: num(undefined, { min: 0 }),
    heldOutSeconds: num(undefined, { min: 0 }),
    fitSeconds: num(undefined, { min: 0 }),
    segmentSeconds: num(undefined, { min: 0 }),
    withCurrent: bool(undefined),
    fitWallSeconds: num(0, { min: 0 }),
    nullDirections: arrayOf(obj({ judged: stddevNumber, components: recordOf(num(undefined), undefined) }), []),
  }),
});

export type SysidParams = Infer<typeof sysidParamsSchema>;

/** Cross-field checks the schema cannot express; `source` names the file. */
export function checkSysidParams(p: SysidParams, source?: string): SysidParams {
  const fail = (path: string, problem: string): never => {
    throw new ConfigError(path, problem, source);
  };
  const symbols = Object.keys(p.values);
  if (symbols.length === 0) fail("values", "no parameters");
  for (const field of ["stddev", "identifiable", "symbols"] as const) {
    for (const s of symbols) if (!(s in p[field])) fail(`${field}.${s}`, `missing (values has ${s})`);
    for (const s of Object.keys(p[field])) if (!(s in p.values)) fail(`${field}.${s}`, `no such parameter in values (${symbols.join(", ")})`);
  }
  for (const s of symbols) {
    const target = p.symbols[s]!;
    if (!(target in p.targets)) fail(`targets.${target}`, `missing (symbols.${s} names it)`);
    if (!(target in p.targetStddev)) fail(`targetStddev.${target}`, `missing (symbols.${s} names it)`);
  }
  for (const s of Object.keys(p.pinned)) if (!(s in p.values)) fail(`pinned.${s}`, `no such parameter in values (${symbols.join(", ")})`);
  const named = new Set(Object.values(p.symbols));
  for (const t of Object.keys(p.targets)) if (!named.has(t)) fail(`targets.${t}`, "not named by any entry of symbols");
  return p;
}

/** Validates a parsed JSON value as sysid params. */
export function parseSysidParams(value: unknown, source?: string): SysidParams {
  let p: SysidParams;
  try {
    p = sysidParamsSchema.parse(value, "");
  } catch (e) {
    if (e instanceof ConfigError && source) throw new ConfigError(e.path, e.problem, source);
    throw e;
  }
  return checkSysidParams(p, source);
}

/** Reads and validates params.json; every error names the file and the field. */
export function readSysidParams(file: string): SysidParams {
  return checkSysidParams(readJsonFile(file, sysidParamsSchema), file);
}

/** Writes params.json atomically (temporary file, fsync, rename). */
export function writeSysidParams(file: string, params: SysidParams): void {
  checkSysidParams(params);
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(params, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
}

/**
 * The params.json content of a fit: its values plus the held-out errors of
 * nominal and fitted parameters on the part of `dataset` the fit kept out
 * (0 for both when it kept none).
 */
export async function buildSysidParams(dataset: SysidDataset, fit: SysidFit, options: HeldOutOptions = {}): Promise<SysidParams> {
  let heldOutErrorNominal = 0;
  let heldOutErrorFitted = 0;
  let heldOutSeconds = 0;
  if (fit.segments.heldOut) {
    const rig = options.rig ?? furutaSysidRig();
    const part = heldOutPart(dataset, fit);
    const opts = { ...options, rig, fixed: { ...fit.fixed, ...(options.fixed ?? {}) } };
    const nominal: Record<string, number> = {};
    for (const s of Object.keys(fit.values)) nominal[s] = rig.def(s).nominal;
    heldOutErrorNominal = (await heldOutDetail(part, nominal, opts)).combined;
    heldOutErrorFitted = (await heldOutDetail(part, fit.values, opts)).combined;
    heldOutSeconds = part.t.length * dataset.controlDt;
  }
  const finite = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
  return checkSysidParams({
    schema: SYSID_PARAMS_SCHEMA_VERSION,
    rig: fit.rig,
    values: { ...fit.values },
    stddev: finite(fit.stddev),
    identifiable: { ...fit.identifiable },
    targets: { ...fit.targets },
    targetStddev: finite(fit.targetStddev),
    symbols: { ...fit.symbols },
    fixed: { ...fit.fixed },
    pinned: Object.fromEntries(Object.entries(fit.pinned).map(([k, v]) => [k, [...v]])),
    fit: {
      costNominal: fit.cost.nominal,
      costFitted: fit.cost.fitted,
      heldOutErrorNominal,
      heldOutErrorFitted,
      heldOutSeconds,
      fitSeconds: (fit.segments.fit[1] - fit.segments.fit[0]) * dataset.controlDt,
      segmentSeconds: fit.segments.seconds,
      withCurrent: dataset.current !== undefined,
      fitWallSeconds: fit.timing.totalSeconds,
      nullDirections: fit.nullDirections.map((d) => ({ judged: Number.isFinite(d.judged) ? d.judged : null, components: { ...d.components } })),
    },
  });
}
