import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { applyBatchPriorityOption, BATCH_PRIORITY_OPTION } from "../batch-priority-option.js";

/** `s2r sysid fit excite.mcap --out params.json`: identified parameters with uncertainties, and a held-out report. */
export const command: Command = {
  spec: {
    name: "sysid fit",
    summary: "",
    positionals: "<log.mcap>",
    options: {
      out: { kind: "string", value: "FILE", description: "params.json to write (required; s2r train --params reads it)" },
      report: { kind: "string", value: "DIR", description: "folder of the HTML report sysid-report.html (default: the folder of --out)" },
      rig: { kind: "string", value: "NAME|FILE", description: "rig file (default: the rig named in the log)" },
      "supply-volts": { kind: "number", value: "V", description: "measured supply voltage of the motor drive (default: the rig file's); the data cannot separate it from Rm, km and the masses" },
      "hold-out": { kind: "number", value: "FRACTION", description: "end of the record kept out of the fit, for scoring", default: 0.2 },
      "segment-seconds": { kind: "number", value: "S", description: "shooting segment length", default: 0.5 },
      "cmaes-seconds": { kind: "number", value: "S", description: "seconds of data the global search (CMA-ES) evaluates", default: 6 },
      "max-evals": { kind: "integer", value: "N", description: "CMA-ES evaluation budget (default 40 x (parameters + 1))" },
      "lm-iterations": { kind: "integer", value: "N", description: "Levenberg-Marquardt iterations of the refinement", default: 12 },
      seed: { kind: "integer", value: "N", description: "CMA-ES seed", default: 1 },
      json: { kind: "boolean", description: "print the result as one JSON object" },
      ...BATCH_PRIORITY_OPTION,
    },
    details: [
      "Reads the excitation samples of a s2r sysid record log (times, volts written, calibrated arm and pendulum",
      "angles, motor current) and fits the simulator's physical parameters (Rm, km, Jr, Dr, Dp, mp, Lp, Lr, the",
      "arm's and the pendulum's Coulomb friction, dead zone, latency): CMA-ES from the nominal values, then",
      "Levenberg-Marquardt with multiple shooting. Writes params.json (values, standard deviations, identifiable",
      "flags, held-out errors) and sysid-report.html (measured vs simulated with nominal and fitted parameters on",
      "the held-out part).",
      "Progress goes to stderr; the fit runs on one core and takes minutes for a 20 s record. Ctrl-C stops it.",
    ].join("\n"),
  },
  async run(args, io) {
    const logFile = args.positionals[0];
    if (!logFile) throw new UsageError("s2r sysid fit: which log? e.g. s2r sysid fit excite.mcap --out params.json");
    if (args.positionals.length > 1) throw new UsageError(`s2r sysid fit: one log expected, got extra ${JSON.stringify(args.positionals.slice(1).join(" "))}`);
    const out = args.options.out as string | undefined;
    if (!out) throw new UsageError("s2r sysid fit: --out is required (the params.json to write)");
    const holdOut = args.options["hold-out"] as number;
    if (!(holdOut > 0 && holdOut < 0.9)) throw new UsageError(`s2r sysid fit: --hold-out must be a fraction in (0, 0.9) (the report scores the fit on it), got ${holdOut}`);
    const positive = (name: string) => {
      const v = args.options[name] as number | undefined;
      if (v !== undefined && !(v > 0)) throw new UsageError(`s2r sysid fit: --${name} must be > 0, got ${v}`);
      return v;
    };
    const supplyVolts = positive("supply-volts");
    const segmentSeconds = positive("segment-seconds")!;
    const cmaesSeconds = positive("cmaes-seconds")!;
    const maxEvals = positive("max-evals");
    const lmIterations = positive("lm-iterations")!;

    applyBatchPriorityOption("sysid fit", args, io);
    const { dirname, resolve } = await import("node:path");
    const { existsSync } = await import("node:fs");
    if (!existsSync(logFile)) throw new UsageError(`s2r sysid fit: ${logFile} does not exist`);
    const { readSessionLog } = await import("../../robot/log/read-session-log.js");
    const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
    const { runSysidFit } = await import("../../calibration/session/sysid-fit-run.js");
    const rigArg = (args.options.rig as string | undefined) ?? (await readSessionLog(logFile)).metadata.rig;
    if (!rigArg) throw new UsageError(`s2r sysid fit: ${logFile} names no rig; pass --rig`);
    const rig = loadRigConfig(rigArg);
    const reportDir = (args.options.report as string | undefined) ?? dirname(resolve(out));
    const started = performance.now();
    const elapsed = () => `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`;
    let r;
    try {
      r = await runSysidFit({
      logFile,
      out,
      reportDir,
      rig,
      supplyVolts,
      fit: { holdOut, segmentSeconds, cmaes: { seconds: cmaesSeconds, maxEvals, seed: args.options.seed as number }, lm: { maxIterations: lmIterations } },
      signal: io.signal,
      log: (l) => io.err(`${elapsed()} ${l}\n`),
    });
    } catch (e) {
      if (io.signal.aborted) {
        io.err(`s2r sysid fit: interrupted; nothing written\n`);
        return 130;
      }
      throw e;
    }
    const p = r.params;
    const ratio = p.fit.heldOutErrorNominal / p.fit.heldOutErrorFitted;
    if (args.options.json) {
      io.out(JSON.stringify({ params: out, report: r.reportFile, values: p.values, stddev: p.stddev, identifiable: p.identifiable, heldOutErrorNominal: p.fit.heldOutErrorNominal, heldOutErrorFitted: p.fit.heldOutErrorFitted, heldOutRatio: ratio, fitSeconds: r.fit.timing.totalSeconds }) + "\n");
      return 0;
    }
    for (const s of Object.keys(p.values)) {
      const sd = p.stddev[s];
      io.out(`  ${s.padEnd(16)} ${p.values[s]!.toPrecision(4).padStart(11)} +- ${sd === null || sd === undefined ? "undetermined" : sd.toPrecision(2)}${p.identifiable[s] ? "" : "  (not identifiable from this record)"}\n`);
    }
    io.out(
      `s2r sysid fit: held-out angle error ${p.fit.heldOutErrorNominal.toExponential(2)} rad with nominal parameters, ${p.fit.heldOutErrorFitted.toExponential(2)} rad fitted (${ratio.toFixed(1)}x smaller); ${r.fit.timing.totalSeconds.toFixed(0)} s\n` +
        `params ${out}\nreport ${r.reportFile}\n`,
    );
    return 0;
  },
};
