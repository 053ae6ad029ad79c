/**
 * `s2r sysid fit`: a recorded excitation (log-dataset.ts) through the sysid
 * core: fitParameters, params.json (values, uncertainties, identifiability,
 * held-out errors of nominal and fitted parameters) and the HTML report
 * (measured vs simulated on the held-out part, before and after).
 *
 * The drive's supply voltage scales every volt the motor gets, and the data
 * cannot tell it from the motor and mass parameters (it would scale Rm, km
 * and every mass and damping together): it is held at the rig file's supply
 * unless a measured supply is given (`supplyVolts`).
 */
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { fitParameters, type FitOptions, type SysidFit } from "../sysid/fit.js";
import { buildSysidParams, writeSysidParams, type SysidParams } from "../sysid/params-file.js";
import { writeSysidReport } from "../sysid/report.js";
import { furutaSysidRig, type SysidRig } from "../sysid/rig.js";
import { readSysidLog, type SysidLog } from "./log-dataset.js";
import { sysidChannels } from "./sysid-channels.js";

/** Parameter-table entry of the motor drive's voltage gain (1 at the rig file's supply). */
const SUPPLY_GAIN = "actuators.arm.gain";

export interface SysidFitRunOptions {
  logFile: string;
  out: string;
  reportDir: string;
  /** The rig the log was recorded on (its supply voltage). */
  rig: RigConfig;
  sysid?: SysidRig;
  /** Measured supply voltage, V; default the rig file's. */
  supplyVolts?: number;
  /** Budgets and split of the fit (see FitOptions). */
  fit?: Pick<FitOptions, "holdOut" | "segmentSeconds" | "cmaes" | "lm" | "fit">;
  signal?: AbortSignal;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SysidFitRunResult {
  record: SysidLog;
  fit: SysidFit;
  params: SysidParams;
  reportFile: string;
}

export async function runSysidFit(o: SysidFitRunOptions): Promise<SysidFitRunResult> {
  const log = o.log ?? (() => {});
  const sysid = o.sysid ?? furutaSysidRig();
  const record = await readSysidLog(o.logFile, sysidChannels(sysid));
  if (record.rig !== undefined && record.rig !== o.rig.name) throw new Error(`${o.logFile} was recorded on rig ${record.rig}, not ${o.rig.name}`);
  const ds = record.dataset;
  log(
    `sysid fit: ${ds.t.length} samples (${(ds.t[ds.t.length - 1]! + ds.controlDt).toFixed(1)} s) from ${o.logFile}${ds.current ? " with the motor current" : " without current (angles only: the mass scale will not be identifiable)"}` +
      `${record.complete ? "" : "; the excitation did not run to its end"}${record.droppedSamples ? `; ${record.droppedSamples} sample(s) without a command dropped` : ""}`,
  );
  const fixed: Record<string, number> = {};
  if (o.supplyVolts !== undefined) {
    if (!(o.supplyVolts > 0)) throw new RangeError(`sysid fit: the supply voltage must be > 0 V, got ${o.supplyVolts}`);
    fixed[SUPPLY_GAIN] = o.supplyVolts / o.rig.supplyVolts;
  }
  const fit = await fitParameters(ds, { ...o.fit, rig: sysid, fixed, signal: o.signal, log });
  log("sysid fit: scoring nominal and fitted parameters on the held-out part");
  const params = await buildSysidParams(ds, fit, { rig: sysid });
  writeSysidParams(o.out, params);
  const { file } = await writeSysidReport(o.reportDir, ds, fit, { rig: sysid });
  return { record, fit, params, reportFile: file };
}
