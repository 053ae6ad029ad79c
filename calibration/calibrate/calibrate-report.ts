/**
 * The HTML report of a calibration session, written next to its log: how it
 * ended, what was found per joint, the phases, and plots of the moves (each
 * driven joint's position, its speed against the speed limit, the volts
 * written) and of the hanging joints while they settled and were averaged.
 * Positions are shown calibrated when the calibration was found, else raw.
 */
import { linePlot, writeHtmlReport, type ReportSection, type TableCell } from "../../common/report/index.js";
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import type { CalibrateSessionResult } from "./calibrate-session.js";

export function writeCalibrateReport(
  file: string,
  o: { rig: RigConfig; result: Pick<CalibrateSessionResult, "end" | "motion" | "findings" | "loop">; logFile: string; calibrationFile?: string; title?: string },
): void {
  const { rig, result } = o;
  const rec = result.loop.recorder;
  const t = rec.t;
  const findings = result.findings ?? [];
  const zeroRad = (joint: string) => {
    const f = findings.find((x) => x.joint === joint);
    return f ? f.zeroCounts * ((2 * Math.PI) / rig.units.countsPerRev) : 0;
  };
  const calibrated = findings.length > 0;
  const sections: ReportSection[] = [];
  const end = result.end;
  const drove = rec.commandNames.some((a) => rec.command(a).some((v) => Number.isFinite(v)));
  sections.push({
    heading: "Outcome",
    text:
      `${end.outcome === "completed" ? "Completed" : `Stopped (${end.outcome})`}: ${end.message}.\n\n` +
      `Log: ${o.logFile}${o.calibrationFile && end.outcome === "completed" ? `\nCalibration file: ${o.calibrationFile}` : ""}` +
      (!drove ? "\n\nNothing was driven." : "\n\n" +
      `Motion limits: speed target ${result.motion.seekSpeed}-${result.motion.cruiseSpeed} rad/s (creep ${result.motion.creepSpeed}), voltage cut above ${result.motion.cutSpeed} rad/s, ` +
      `speed limit ${result.motion.speedLimit} rad/s, voltage cap ${result.motion.maxVolts} V; a stall is ${result.motion.stallVolts} V with the arm still for ${result.motion.stallSeconds} s.`),
  });
  if (findings.length) {
    const rows: TableCell[][] = findings.map((f) => [
      f.joint,
      f.method === "stops" ? "hard stops" : "hanging still",
      Number(f.zeroCounts.toFixed(2)),
      Number(f.stddevCounts.toFixed(3)),
      f.lowerStopCounts !== undefined ? Number(f.lowerStopCounts.toFixed(2)) : "",
      f.upperStopCounts !== undefined ? Number(f.upperStopCounts.toFixed(2)) : "",
      f.travel !== undefined ? `${f.travel.toFixed(4)} (rig ${f.expectedTravel})` : "",
      f.peakSpeed !== undefined ? Number(f.peakSpeed.toFixed(3)) : "",
      f.spreadCounts !== undefined ? `${f.spreadCounts.toFixed(2)} (${f.samples} readings)` : "",
    ]);
    sections.push({
      heading: "Found",
      table: { columns: ["joint", "method", "zero (counts)", "std error (counts)", "lower stop (counts)", "upper stop (counts)", "travel (rad)", "peak speed (rad/s)", "spread of readings (counts)"], rows },
    });
  }
  if (result.loop.phases.length) {
    sections.push({
      heading: "Phases",
      table: {
        columns: ["phase", "start (s)", "duration (s)", "cycles", "deadline misses"],
        rows: result.loop.phases.map((p) => [p.name, Number(p.startSeconds.toFixed(2)), Number(p.seconds.toFixed(2)), p.cycles, p.deadlineMisses]),
      },
    });
  }
  if (rec.length > 1) {
    const unit = calibrated ? "rad" : "rad (raw encoder angle)";
    const plots: string[] = [];
    for (const g of rig.safety.guards) {
      if (!rec.jointNames.includes(g.joint)) continue;
      const z = zeroRad(g.joint);
      const pos = Float64Array.from(rec.position(g.joint), (x) => x - z);
      plots.push(linePlot({ title: `${g.joint}: position`, xLabel: "session time (s)", yLabel: unit, series: [{ name: g.joint, x: t, y: pos }] }));
      const limit = result.motion.speedLimit;
      plots.push(
        linePlot({
          title: `${g.joint}: measured speed and the speed limit`,
          xLabel: "session time (s)",
          yLabel: "rad/s",
          series: [
            { name: "speed", x: t, y: rec.velocity(g.joint) },
            { name: `+${limit} rad/s`, x: [t[0]!, t[t.length - 1]!], y: [limit, limit] },
            { name: `-${limit} rad/s`, x: [t[0]!, t[t.length - 1]!], y: [-limit, -limit] },
          ],
        }),
      );
      plots.push(linePlot({ title: `${g.actuator}: volts written (gaps: torque off)`, xLabel: "session time (s)", yLabel: "V", series: [{ name: g.actuator, x: t, y: rec.command(g.actuator) }] }));
    }
    for (const j of rec.jointNames) {
      if (rig.safety.guards.some((g) => g.joint === j)) continue;
      const z = zeroRad(j);
      plots.push(linePlot({ title: `${j}: position`, xLabel: "session time (s)", yLabel: unit, series: [{ name: j, x: t, y: Float64Array.from(rec.position(j), (x) => x - z) }] }));
    }
    sections.push({ heading: "Moves", plots });
  }
  writeHtmlReport(file, { title: o.title ?? `Calibration of ${rig.name}`, sections });
}
