import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { applyRealtimeOption, RT_PRIORITY_OPTION } from "../realtime-option.js";

/** `s2r sysid record --port P --calibration calib.json --out excite.mcap`: a logged, safe excitation for system identification. */
export const command: Command = {
  spec: {
    name: "sysid record",
    summary: "",
    options: {
      port: { kind: "string", value: "PATH", description: "serial port of the rig's bus, e.g. /dev/ttyUSB0 (required)" },
      calibration: { kind: "string", value: "FILE", description: "the rig's calibration (s2r calibrate; required)" },
      out: { kind: "string", value: "FILE", description: "the log to write (.mcap; required; never overwritten)" },
      rig: { kind: "string", value: "NAME|FILE", description: "rig name or rig file (default: the rig the calibration names)" },
      seconds: { kind: "number", value: "S", description: "length of the excitation", default: 20 },
      seed: { kind: "integer", value: "N", description: "excitation seed (chirp phase, PRBS start)", default: 1 },
      amplitude: { kind: "number", value: "V", description: "peak excitation volts, before the travel-keeping term (at most the rig's limit)", default: 3 },
      baud: { kind: "integer", value: "BAUD", description: "bus speed (default: the rig file's)" },
      json: { kind: "boolean", description: "print the result as one JSON object" },
      ...RT_PRIORITY_OPTION,
    },
    details: [
      "Refuses to start while a device reports a hardware error or the arm reads beyond its stops. Homes the arm",
      "to its centre, then plays the identification excitation at the task's control period (100 Hz): a chirp",
      "(0.5 -> 6 Hz) then a PRBS, --amplitude volts, plus a travel-keeping term that holds the arm within +-1.5 rad;",
      "every command passes the rig's safety layer (6 V limit, hard-stop guards). The pendulum swings freely.",
      "The log holds the joint states (calibrated angles, velocities, motor current as effort), the volts actually",
      "written, and events; s2r sysid fit reads it. 3 V keeps the motor current under what it carries",
      "continuously; higher amplitudes heat it and can trip its overload on long records.",
      "Torque goes off at the end and on every error or Ctrl-C; the log is complete either way.",
      "Exit code: 0 recorded, 1 refused or failed, 130 interrupted.",
    ].join("\n"),
  },
  async run(args, io) {
    const need = (name: string, hint: string) => {
      const v = args.options[name] as string | undefined;
      if (!v) throw new UsageError(`s2r sysid record: --${name} is required (${hint})`);
      return v;
    };
    if (args.positionals.length) throw new UsageError(`s2r sysid record: unexpected argument ${JSON.stringify(args.positionals[0])} (the rig comes from --rig or the calibration)`);
    const port = need("port", "the serial device of the rig's bus, e.g. /dev/ttyUSB0");
    const calibrationFile = need("calibration", "the file s2r calibrate wrote, e.g. build/calibration/furuta.json");
    const out = need("out", "the log to write, e.g. excite.mcap");
    const seconds = args.options.seconds as number;
    if (!(seconds > 0)) throw new UsageError(`s2r sysid record: --seconds must be > 0, got ${seconds}`);
    const amplitude = args.options.amplitude as number;
    if (!(amplitude > 0)) throw new UsageError(`s2r sysid record: --amplitude must be > 0 V, got ${amplitude}`);

    const { existsSync } = await import("node:fs");
    if (existsSync(out)) throw new UsageError(`s2r sysid record: --out ${out} already exists (session logs are never overwritten); choose another file`);
    const { readCalibration } = await import("../../robot/rigs/calibration.js");
    const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
    const calibration = readCalibration(calibrationFile);
    const rig = loadRigConfig((args.options.rig as string | undefined) ?? calibration.rig);
    const { checkCalibrationForRig } = await import("../../robot/rigs/calibration.js");
    checkCalibrationForRig(calibration, rig, calibrationFile);

    const { DynamixelRig } = await import("../../robot/rigs/dynamixel-rig.js");
    const { HardwareError } = await import("../../robot/hardware/interface.js");
    const { SessionLog } = await import("../../robot/log/session-log.js");
    const { furutaSysidRig } = await import("../../calibration/sysid/rig.js");
    const { runSysidRecord } = await import("../../calibration/session/sysid-record-session.js");
    const { sysidChannels } = await import("../../calibration/session/sysid-channels.js");
    const { refuseOnHardwareError, diagnoseDynamixel } = await import("../../calibration/session/preflight.js");
    const { exitCodeOf } = await import("../../calibration/session/session-guard.js");

    const sysid = furutaSysidRig();
    const ch = sysidChannels(sysid);
    const limit = Math.min(6, rig.safety.commandLimits[ch.actuator] ?? 0);
    if (amplitude > limit) throw new UsageError(`s2r sysid record: --amplitude ${amplitude} V is above the rig's ${limit} V limit for ${ch.actuator}`);
    let hw;
    try {
      hw = await DynamixelRig.open(port, rig, calibration, { baudRate: args.options.baud as number | undefined });
    } catch (e) {
      if (e instanceof HardwareError) {
        io.err(`s2r sysid record: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    try {
      const realtime = applyRealtimeOption("sysid record", args, io);
      const log = SessionLog.create(out, {
        session: "sysid",
        metadata: {
          rig: rig.name,
          task: rig.task,
          port,
          calibration: calibrationFile,
          control_dt: String(ch.controlDt),
          excitation: "chirp 0.5-6 Hz then PRBS 0.05 s bits, with travel keeping (calibration/sysid/excitation.ts)",
          seconds: String(seconds),
          seed: String(args.options.seed),
          amplitude_volts: String(amplitude),
          scheduling: realtime.scheduling,
        },
      });
      if (!args.options.json) io.out(`s2r sysid record: ${seconds} s of excitation on rig ${rig.name} at ${port}; log ${log.file}\n`);
      const r = await runSysidRecord({
        hardware: hw,
        rig,
        sysid,
        log,
        seconds,
        seed: args.options.seed as number,
        amplitude,
        preflight: () => refuseOnHardwareError(hw),
        diagnose: () => diagnoseDynamixel(hw),
        signal: io.signal,
        onStatus: (l) => io.err(`${l}\n`),
      });
      const s = r.stats;
      if (args.options.json) io.out(JSON.stringify({ outcome: r.end.outcome, message: r.end.message, log: log.file, ...s, deadlineStats: r.loop.deadlineStats }) + "\n");
      else if (r.end.outcome === "completed") {
        io.out(
          `s2r sysid record: ${s.samples} samples (${s.seconds.toFixed(1)} s); peak ${s.peakVolts.toFixed(2)} V, arm within ${s.peakTheta.toFixed(3)} rad, pendulum up to ${s.peakAlpha.toFixed(3)} rad, RMS current ${s.rmsCurrent.toFixed(3)} A, ${s.safetyInterventions} safety interventions${s.restarts ? `; the excitation started over ${s.restarts} time(s) after the bus fell silent (the log's last run is the data)` : ""}; log ${log.file}\n`,
        );
      }
      if (r.end.outcome !== "completed") io.err(`s2r sysid record: ${r.end.outcome}: ${r.end.message}; ${s.samples} excitation samples logged in ${log.file}\n`);
      return exitCodeOf(r.end);
    } finally {
      await hw.close();
    }
  },
};
