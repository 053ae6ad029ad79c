import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { linePlot, writeHtmlReport, type TableCell } from "../../common/report/index.js";
import type { Trial } from "./plan.js";

export interface TrialResult {
  trial: string;
  status: string;
  overrides: Record<string, unknown>;
  updates: number;
  steps: number;
  successRate: number;
  bestSuccessRate: number;
  meanReturn: number;
  wallSeconds: number;
  history: { steps: number; successRate: number; meanReturn: number }[];
}

/** Reads each trial's status.json and metrics.csv (the last row, and the best success rate). */
export function collectResults(trials: Trial[]): TrialResult[] {
  return trials.map((t) => {
    const statusFile = join(t.dir, "status.json");
    const status = existsSync(statusFile) ? String((JSON.parse(readFileSync(statusFile, "utf8")) as { status: string }).status) : "not run";
    const mf = join(t.dir, "run", "metrics.csv");
    const lines = existsSync(mf) ? readFileSync(mf, "utf8").trim().split("\n") : [];
    const cols = (lines[0] ?? "").split(",");
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], Number(v)])) as Record<string, number>);
    const last = rows[rows.length - 1];
    return {
      trial: t.name,
      status,
      overrides: t.overrides,
      updates: last?.update ?? 0,
      steps: last?.steps ?? 0,
      successRate: last?.successRate ?? NaN,
      bestSuccessRate: rows.reduce((m, r) => Math.max(m, r.successRate!), rows.length ? -Infinity : NaN),
      meanReturn: last?.meanReturn ?? NaN,
      wallSeconds: last?.wallSeconds ?? NaN,
      history: rows.map((r) => ({ steps: r.steps!, successRate: r.successRate!, meanReturn: r.meanReturn! })),
    };
  });
}

/** results.csv and report.html in `out`: one row per trial, its overrides as columns. */
export function writeResultsTable(out: string, title: string, results: TrialResult[]): { csv: string; html: string } {
  const keys = [...new Set(results.flatMap((r) => Object.keys(r.overrides)))];
  const columns = ["trial", "status", ...keys, "updates", "steps", "successRate", "bestSuccessRate", "meanReturn", "wallSeconds"];
  const rows: TableCell[][] = results.map((r) => [r.trial, r.status, ...keys.map((k) => JSON.stringify(r.overrides[k] ?? null)), r.updates, r.steps, r.successRate, r.bestSuccessRate, r.meanReturn, r.wallSeconds]);
  const csvCell = (c: TableCell) => {
    const s = typeof c === "number" ? (Number.isFinite(c) ? String(c) : "") : String(c ?? "");
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const csv = join(out, "results.csv");
  writeFileSync(csv, [columns, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n");
  const series = (y: (h: TrialResult["history"][number]) => number) => results.filter((r) => r.history.length).map((r) => ({ name: r.trial, x: r.history.map((h) => h.steps), y: r.history.map(y) }));
  const html = join(out, "report.html");
  const counts = results.reduce<Record<string, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
  writeHtmlReport(html, {
    title,
    sections: [
      { heading: "Trials", text: `${results.length} trials: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ")}. Each trial's run is in <trial>/run/ (metrics.csv, report.html, checkpoint.json), its output in <trial>/train.log.`, table: { columns, rows } },
      {
        heading: "Curves",
        plots: [
          linePlot({ title: "Success rate (recent window)", xLabel: "environment steps", yLabel: "fraction", series: series((h) => h.successRate), yRange: [0, 1] }),
          linePlot({ title: "Episode return (recent window)", xLabel: "environment steps", yLabel: "return", series: series((h) => h.meanReturn) }),
        ],
      },
    ],
  });
  return { csv, html };
}
