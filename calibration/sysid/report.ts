/**
 * Scoring and showing a fit on data it did not see.
 *
 * `heldOutError` simulates a record (normally the held-out tail of the
 * identification run) in segments of a few seconds with given parameters,
 * each segment started from its best initial state (estimated from the
 * segment itself, parameters fixed: see state-fit.ts), and returns the RMS
 * angle error. Estimating the start state for every parameter set alike keeps
 * the velocity-differencing error out of the score, so the score measures the
 * parameters.
 *
 * `sysidReportData` gives the measured and simulated series (nominal and
 * fitted parameters) for plots; `writeSysidReport` renders them with
 * common/report into one HTML file.
 */
import { join } from "node:path";
import { linePlot, writeHtmlReport, type ReportSection, type TableCell } from "../../common/report/index.js";
import { sliceDataset, validateDataset, type SysidDataset } from "./dataset.js";
import type { SysidFit } from "./fit.js";
import { furutaSysidRig, symbolsToTargets, type SysidRig } from "./rig.js";
import { makeSegments, SegmentSimulator, type ChannelSigmas, type Segment, type SegmentTrace } from "./shooting.js";
import { ENCODER_COUNT } from "./simulate-dataset.js";
import { fitInitialStates, STATE_PRIOR } from "./state-fit.js";

export interface HeldOutOptions {
  rig?: SysidRig;
  /** Table entries held at given values (as in the fit). */
  fixed?: Record<string, number>;
  /** Segment length, s; default 2. */
  segmentSeconds?: number;
  /** Channel weights of the initial-state estimate; default one encoder count and 10 mA. */
  sigmas?: Partial<ChannelSigmas>;
}

export interface HeldOutResult {
  /** RMS error per channel (rad, rad, A; current NaN when not logged). */
  rms: ChannelSigmas;
  /** sqrt((rms_theta^2 + rms_alpha^2) / 2), rad. */
  combined: number;
  segments: Segment[];
  traces: SegmentTrace[];
}

/** Simulates `dataset` in segments with physical `values` (rig symbols; the rest nominal) and scores it. */
export async function heldOutDetail(dataset: SysidDataset, values: Record<string, number>, options: HeldOutOptions = {}): Promise<HeldOutResult> {
  validateDataset(dataset);
  const rig = options.rig ?? furutaSysidRig();
  const base = rig.tableVector(options.fixed ?? {});
  const table = rig.tableVector({ ...(options.fixed ?? {}), ...symbolsToTargets(rig, values, base) });
  const seconds = options.segmentSeconds ?? 2;
  const segments = makeSegments(dataset, seconds);
  if (segments.length === 0) throw new Error(`heldOutError: the record (${dataset.t.length} samples) is shorter than half a ${seconds} s segment`);
  const sigma: ChannelSigmas = { theta: ENCODER_COUNT, alpha: ENCODER_COUNT, current: 0.01, ...options.sigmas };
  const sim = await SegmentSimulator.create(rig, dataset, segments, { statePrior: [...STATE_PRIOR] });
  try {
    const { states } = fitInitialStates(sim, table, sigma);
    const traces = segments.map((_, i) => sim.trace(table, i, states));
    const sum = [0, 0, 0];
    let count = 0;
    traces.forEach((tr, i) => {
      const seg = segments[i]!;
      for (let k = 1; k < tr.t.length; k++) {
        const e = [tr.theta[k]! - dataset.theta[seg.start + k]!, tr.alpha[k]! - dataset.alpha[seg.start + k]!, tr.current ? tr.current[k]! - dataset.current![seg.start + k]! : 0];
        // A diverged segment counts as an error of pi (the worst an angle can be off by).
        for (let c = 0; c < 3; c++) sum[c]! += Number.isFinite(e[c]!) ? e[c]! * e[c]! : Math.PI * Math.PI;
        count++;
      }
    });
    const rms = { theta: Math.sqrt(sum[0]! / count), alpha: Math.sqrt(sum[1]! / count), current: dataset.current ? Math.sqrt(sum[2]! / count) : NaN };
    return { rms, combined: Math.sqrt((rms.theta ** 2 + rms.alpha ** 2) / 2), segments, traces };
  } finally {
    sim.dispose();
  }
}

/** RMS angle error (rad) of `values` on `dataset`; see heldOutDetail. */
export async function heldOutError(dataset: SysidDataset, values: Record<string, number>, options: HeldOutOptions = {}): Promise<number> {
  return (await heldOutDetail(dataset, values, options)).combined;
}

/** The part of `dataset` the fit kept out. */
export function heldOutPart(dataset: SysidDataset, fit: SysidFit): SysidDataset {
  if (!fit.segments.heldOut) throw new Error("sysid: the fit kept no data out (holdOut was 0), so there is nothing to score it on");
  const [from, to] = fit.segments.heldOut;
  if (to !== dataset.t.length) throw new Error(`sysid: the dataset has ${dataset.t.length} samples but the fit was made on ${to}; pass the dataset the fit was made from`);
  return sliceDataset(dataset, from, to);
}

/** Nominal physical values of the fitted symbols. */
function nominalValues(rig: SysidRig, fit: SysidFit): Record<string, number> {
  const out: Record<string, number> = {};
  for (const symbol of Object.keys(fit.values)) out[symbol] = rig.def(symbol).nominal;
  return out;
}

export interface SysidSeries {
  theta: Float64Array;
  alpha: Float64Array;
  current?: Float64Array;
}

export interface SysidPlotData {
  /** Held-out sample times, s. */
  t: Float64Array;
  measured: SysidSeries;
  /** Simulated with nominal and with fitted parameters (NaN between segments). */
  nominal: SysidSeries;
  fitted: SysidSeries;
  error: { nominal: HeldOutResult["rms"] & { combined: number }; fitted: HeldOutResult["rms"] & { combined: number } };
  segmentSeconds: number;
}

function stitch(n: number, from: number, result: HeldOutResult, withCurrent: boolean): SysidSeries {
  const s: SysidSeries = { theta: new Float64Array(n).fill(NaN), alpha: new Float64Array(n).fill(NaN) };
  if (withCurrent) s.current = new Float64Array(n).fill(NaN);
  result.traces.forEach((tr, i) => {
    const start = result.segments[i]!.start;
    for (let k = 0; k < tr.t.length; k++) {
      // The last sample of a segment is the first of the next: leave a gap there so segments read as separate runs.
      if (k === tr.t.length - 1 && i + 1 < result.traces.length) continue;
      s.theta[start + k - from] = tr.theta[k]!;
      s.alpha[start + k - from] = tr.alpha[k]!;
      if (s.current && tr.current) s.current[start + k - from] = tr.current[k]!;
    }
  });
  return s;
}

/** Measured vs simulated series (nominal and fitted parameters) on the held-out part of `dataset`. */
export async function sysidReportData(dataset: SysidDataset, fit: SysidFit, options: HeldOutOptions = {}): Promise<SysidPlotData> {
  const rig = options.rig ?? furutaSysidRig();
  const part = heldOutPart(dataset, fit);
  const opts = { ...options, rig, fixed: { ...fit.fixed, ...(options.fixed ?? {}) } };
  const nominal = await heldOutDetail(part, nominalValues(rig, fit), opts);
  const fitted = await heldOutDetail(part, fit.values, opts);
  const n = part.t.length;
  const withCurrent = part.current !== undefined;
  const measured: SysidSeries = { theta: part.theta, alpha: part.alpha };
  if (part.current) measured.current = part.current;
  return {
    t: part.t,
    measured,
    nominal: stitch(n, 0, nominal, withCurrent),
    fitted: stitch(n, 0, fitted, withCurrent),
    error: { nominal: { ...nominal.rms, combined: nominal.combined }, fitted: { ...fitted.rms, combined: fitted.combined } },
    segmentSeconds: options.segmentSeconds ?? 2,
  };
}

/** Writes `<dir>/sysid-report.html`: held-out plots before/after, the parameter table, the fit's figures. */
export async function writeSysidReport(dir: string, dataset: SysidDataset, fit: SysidFit, options: HeldOutOptions = {}): Promise<{ file: string; data: SysidPlotData }> {
  const data = await sysidReportData(dataset, fit, options);
  const plot = (title: string, yLabel: string, pick: (s: SysidSeries) => Float64Array | undefined) =>
    linePlot({
      title,
      xLabel: "time (s)",
      yLabel,
      series: [
        { name: "measured", x: data.t, y: pick(data.measured)! },
        { name: "nominal parameters", x: data.t, y: pick(data.nominal)! },
        { name: "fitted parameters", x: data.t, y: pick(data.fitted)! },
      ],
    });
  const plots = [plot("Arm angle theta, held out", "rad", (s) => s.theta), plot("Pendulum angle alpha, held out", "rad", (s) => s.alpha)];
  if (data.measured.current) plots.push(plot("Motor current, held out", "A", (s) => s.current));
  const rows: TableCell[][] = Object.keys(fit.values).map((k) => [
    k,
    fit.symbols[k],
    fit.values[k],
    Number.isFinite(fit.stddev[k]!) ? fit.stddev[k] : "not determined",
    fit.identifiable[k] ? "yes" : "no",
  ]);
  const e = data.error;
  const sections: ReportSection[] = [
    {
      heading: "Held-out error",
      text:
        `RMS angle error on the held-out ${(data.t[data.t.length - 1]! - data.t[0]! + dataset.controlDt).toFixed(1)} s, in ${data.segmentSeconds} s segments each started from its best initial state: ` +
        `nominal ${e.nominal.combined.toExponential(3)} rad, fitted ${e.fitted.combined.toExponential(3)} rad (${(e.nominal.combined / e.fitted.combined).toFixed(1)}x smaller).`,
      plots,
    },
    { heading: "Identified parameters", table: { columns: ["symbol", "table entry", "value", "std dev", "identifiable"], rows } },
    {
      heading: "Fit",
      text:
        `Cost (mean squared weighted residual from measured segment starts): nominal ${fit.cost.nominal.toExponential(3)}, fitted ${fit.cost.fitted.toExponential(3)}; ` +
        `with fitted initial states ${fit.cost.fittedWithStates.toExponential(3)}.\n\n` +
        `CMA-ES: ${fit.cmaes.evaluations} evaluations (${fit.cmaes.stop}); Levenberg-Marquardt: ${fit.lm.iterations} iterations; ${fit.timing.totalSeconds.toFixed(1)} s in all.` +
        (fit.nullDirections.length
          ? `\n\nDirections the data does not determine: ${fit.nullDirections.map((d) => Object.entries(d.components).map(([k, v]) => `${v > 0 ? "+" : ""}${v} ${k}`).join(" ")).join("; ")}.`
          : ""),
    },
  ];
  const file = join(dir, "sysid-report.html");
  writeHtmlReport(file, { title: `System identification: ${fit.rig}`, sections });
  return { file, data };
}
