import { UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { applyRealtimeOption, RT_PRIORITY_OPTION } from "../realtime-option.js";

/** `s2r calibrate <rig> --port P`: find the encoder zeros of a rig (hard stops for the arm, hanging still for the pendulum). */
export const command: Command = {
  spec: {
    name: "calibrate",
    summary: "",
    positionals: "<rig>",
    options: {
      port: { kind: "string", value: "PATH", description: "serial port of the rig's bus, e.g. /dev/ttyUSB0 (required without --ros2)" },
      out: { kind: "string", value: "FILE", description: "calibration file to write (default build/calibration/<rig>.json, where s2r deploy looks)" },
      log: { kind: "string", value: "FILE", description: "session log (default logs/calibrate-<rig>-<time>.mcap); the report is written beside it (.html)" },
      baud: { kind: "integer", value: "BAUD", description: "bus speed (default: the rig file's)" },
      motion: { kind: "string", value: "FILE", description: "JSON overriding how gently the arm moves (calibration/calibrate/motion-config.ts fields; figures may carry units, e.g. {\"seekSpeed\": \"0.2 rad/s\"})" },
      json: { kind: "boolean", description: "print the result as one JSON object" },
      ...RT_PRIORITY_OPTION,
      ros2: { kind: "boolean", description: "the robot is behind ROS 2 and publishes calibrated positions: only check the hanging joints' zeros (nothing moves, nothing is written)" },
      domain: { kind: "integer", value: "N", description: "with --ros2: ROS 2 domain id (default ROS_DOMAIN_ID, else 0)" },
      "state-topic": { kind: "string", value: "TOPIC", description: "with --ros2: sensor_msgs/JointState topic (default the rig file's)" },
      "stale-ms": { kind: "number", value: "MS", description: "with --ros2: a joint state older than this ends the check (default 3 control periods)" },
      tolerance: { kind: "number", value: "COUNTS", description: "with --ros2: largest acceptable zero offset of a hanging joint", default: 5 },
    },
    details: [
      "Safe and automatic. Refuses to start while a device reports a hardware error (named). Then, for each",
      "joint with hard stops in the rig file (the arm): torque on, a slow move to the lower stop and to the",
      "upper one, under a speed loop on the measured speed (target at most 0.35 rad/s, voltage cut above",
      "0.42 rad/s, never above the 0.5 rad/s limit; voltage ramped and capped at 3 V). A stop is found by",
      "stall: at least 2 V towards it with the arm still for 0.3 s; the arm then backs off. The zero puts",
      "the two stop readings at the rig file's stop angles (their midpoint for stops at +-2.0 rad), and the",
      "measured travel must match the rig's within 0.1 rad. The arm is parked at its centre and torque goes",
      "off; each joint without a motor (the pendulum) is averaged once it hangs still.",
      "Writes the calibration file (schema 1: zero counts per joint) only when everything passed. Every exit",
      "(success, error, Ctrl-C) leaves torque off and the log complete; the report beside it plots the moves.",
      "",
      "With --ros2 the robot publishes calibrated positions and keeps its zeros in its own configuration;",
      "ROS 2 has no torque off, so nothing is driven: the hanging joints' zeros are checked (within",
      "--tolerance counts) and the driven joints are checked to read within their stops. Nothing is written.",
      "Exit code: 0 calibrated (or zeros within tolerance), 1 refused or failed, 130 interrupted.",
    ].join("\n"),
  },
  async run(args, io) {
    const rigArg = args.positionals[0];
    if (!rigArg) throw new UsageError("s2r calibrate: which rig? e.g. s2r calibrate furuta --port /dev/ttyUSB0");
    if (args.positionals.length > 1) throw new UsageError(`s2r calibrate: one rig expected, got extra ${JSON.stringify(args.positionals.slice(1).join(" "))}`);
    const ros2 = args.options.ros2 as boolean;
    const serialOnly = ["port", "out", "baud", "motion"];
    const ros2Only = ["domain", "state-topic", "stale-ms"];
    for (const o of ros2 ? serialOnly : ros2Only) {
      if (args.options[o] !== undefined) throw new UsageError(ros2 ? `s2r calibrate: --${o} does not apply with --ros2 (the robot publishes calibrated positions; nothing is written)` : `s2r calibrate: --${o} needs --ros2`);
    }
    if (!ros2 && !args.options.port) throw new UsageError("s2r calibrate: --port is required (the serial device of the rig's bus, e.g. /dev/ttyUSB0), or --ros2");
    const tolerance = args.options.tolerance as number;
    if (!(tolerance > 0)) throw new UsageError(`s2r calibrate: --tolerance must be > 0 counts, got ${tolerance}`);

    const { existsSync } = await import("node:fs");
    const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
    const { defaultSessionLogPath } = await import("../../calibration/session/log-path.js");
    const rig = loadRigConfig(rigArg);
    // A bad motion file is refused before the bus is opened.
    const motionFile = args.options.motion as string | undefined;
    const motion = motionFile === undefined ? undefined : (await import("../../calibration/calibrate/motion-config.js")).readCalibrateMotion(motionFile);
    const logFile = (args.options.log as string | undefined) ?? defaultSessionLogPath("calibrate", rig.name);
    // Session logs are never overwritten; say so before anything is opened.
    if (existsSync(logFile)) throw new UsageError(`s2r calibrate: --log ${logFile} already exists (session logs are never overwritten); choose another file`);
    return ros2 ? runRos2Check(args, io, rig, logFile, tolerance) : runSerial(args, io, rig, logFile, motion);
  },
};

type Rig = import("../../robot/rigs/rig-config.js").RigConfig;

async function runSerial(args: ParsedArgs, io: CommandIO, rig: Rig, logFile: string, motion: import("../../calibration/calibrate/motion-config.js").CalibrateMotion | undefined): Promise<number> {
  const { dirname } = await import("node:path");
  const { mkdirSync } = await import("node:fs");
  const { projectPath } = await import("../../common/paths.js");
  const { DynamixelRig } = await import("../../robot/rigs/dynamixel-rig.js");
  const { writeCalibration } = await import("../../robot/rigs/calibration.js");
  const { HardwareError } = await import("../../robot/hardware/interface.js");
  const { SessionLog } = await import("../../robot/log/session-log.js");
  const { provisionalCalibration } = await import("../../calibration/calibrate/calibration-result.js");
  const { runCalibrateSession } = await import("../../calibration/calibrate/calibrate-session.js");
  const { writeCalibrateReport } = await import("../../calibration/calibrate/calibrate-report.js");
  const { refuseOnHardwareError, diagnoseDynamixel } = await import("../../calibration/session/preflight.js");
  const { exitCodeOf } = await import("../../calibration/session/session-guard.js");
  const { reportPathOf } = await import("../../calibration/session/log-path.js");

  const port = args.options.port as string;
  const out = (args.options.out as string | undefined) ?? projectPath("build", "calibration", `${rig.name}.json`);
  let hw;
  try {
    hw = await DynamixelRig.open(port, rig, provisionalCalibration(rig), { baudRate: args.options.baud as number | undefined });
  } catch (e) {
    if (e instanceof HardwareError) {
      io.err(`s2r calibrate: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    const realtime = applyRealtimeOption("calibrate", args, io);
    const log = SessionLog.create(logFile, { session: "calibrate", metadata: { rig: rig.name, port, out, scheduling: realtime.scheduling } });
    const report = reportPathOf(log.file);
    if (!args.options.json) io.out(`s2r calibrate: rig ${rig.name} at ${port}; log ${log.file}\n`);
    const result = await runCalibrateSession({ hardware: hw, rig, log, motion, preflight: () => refuseOnHardwareError(hw), diagnose: () => diagnoseDynamixel(hw), signal: io.signal, onStatus: (l) => io.err(`${l}\n`) });
    if (result.end.outcome === "completed") {
      mkdirSync(dirname(out), { recursive: true });
      writeCalibration(out, result.calibration!);
    }
    writeCalibrateReport(report, { rig, result, logFile: log.file, calibrationFile: out });
    const ok = result.end.outcome === "completed";
    if (args.options.json) {
      io.out(JSON.stringify({ outcome: result.end.outcome, message: result.end.message, calibration: ok ? out : null, log: log.file, report, joints: result.findings ?? [], deadlineStats: result.loop.deadlineStats }) + "\n");
    } else if (ok) {
      for (const f of result.findings!) io.out(findingLine(f) + "\n");
      io.out(`s2r calibrate: wrote ${out}; report ${report}\n`);
    }
    if (!ok) io.err(`s2r calibrate: ${result.end.outcome}: ${result.end.message}\nlog ${log.file}; report ${report}\n`);
    return exitCodeOf(result.end);
  } finally {
    await hw.close();
  }
}

function findingLine(f: import("../../calibration/calibrate/calibration-result.js").JointFindings): string {
  if (f.method === "stops") {
    return `${f.joint}: zero ${f.zeroCounts.toFixed(2)} counts (+-${f.stddevCounts.toFixed(2)}), stops at ${f.lowerStopCounts!.toFixed(1)} and ${f.upperStopCounts!.toFixed(1)} counts, travel ${f.travel!.toFixed(4)} rad (rig ${f.expectedTravel}), peak speed ${f.peakSpeed!.toFixed(3)} rad/s`;
  }
  return `${f.joint}: zero ${f.zeroCounts.toFixed(2)} counts (+-${f.stddevCounts.toFixed(2)}), spread of ${f.samples} readings ${f.spreadCounts!.toFixed(2)} counts`;
}

async function runRos2Check(args: ParsedArgs, io: CommandIO, rig: Rig, logFile: string, tolerance: number): Promise<number> {
  const { Ros2Hardware } = await import("../../robot/ros2/ros2-hardware.js");
  const { HardwareError } = await import("../../robot/hardware/interface.js");
  const { SessionLog } = await import("../../robot/log/session-log.js");
  const { runRos2ZeroCheck } = await import("../../calibration/calibrate/ros2-zero-check.js");
  const { writeCalibrateReport } = await import("../../calibration/calibrate/calibrate-report.js");
  const { calibrateMotion } = await import("../../calibration/calibrate/motion-config.js");
  const { reportPathOf } = await import("../../calibration/session/log-path.js");
  const { exitCodeOf } = await import("../../calibration/session/session-guard.js");
  const stale = args.options["stale-ms"] as number | undefined;
  if (stale !== undefined && !(stale > 0)) throw new UsageError(`s2r calibrate: --stale-ms must be > 0, got ${stale}`);
  let hw;
  try {
    hw = await Ros2Hardware.open(rig, {
      controlPeriodSec: rig.control.maxPeriodSec,
      domainId: args.options.domain as number | undefined,
      stateTopic: args.options["state-topic"] as string | undefined,
      staleAfterMs: stale,
    });
  } catch (e) {
    if (e instanceof HardwareError) {
      io.err(`s2r calibrate: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    const realtime = applyRealtimeOption("calibrate", args, io);
    const log = SessionLog.create(logFile, { session: "calibrate", metadata: { rig: rig.name, ros2: hw.describe(), mode: "ros2 zero check", scheduling: realtime.scheduling } });
    if (!args.options.json) io.out(`s2r calibrate --ros2: ${rig.name} over ${hw.describe()} publishes calibrated positions; checking the hanging joints' zeros (nothing moves, nothing is written); log ${log.file}\n`);
    const r = await runRos2ZeroCheck({ hardware: hw, rig, log, toleranceCounts: tolerance, signal: io.signal, onStatus: (l) => io.err(`${l}\n`) });
    if (args.options.json) io.out(JSON.stringify({ outcome: r.end.outcome, message: r.end.message, toleranceCounts: tolerance, log: log.file, checks: r.checks }) + "\n");
    else for (const c of r.checks) io.out(`${c.joint}: reads ${c.offsetCounts.toFixed(2)} counts (${c.offset.toFixed(5)} rad) hanging still, spread ${c.spreadCounts.toFixed(2)} counts: ${c.pass ? "within" : "BEYOND"} +-${tolerance} counts\n`);
    const report = reportPathOf(log.file);
    const findings = r.checks.map((c) => ({ joint: c.joint, method: "hanging" as const, zeroCounts: c.offsetCounts, stddevCounts: c.spreadCounts / Math.sqrt(c.samples), spreadCounts: c.spreadCounts, samples: c.samples }));
    writeCalibrateReport(report, { rig, result: { end: r.end, motion: calibrateMotion(), findings, loop: r.loop }, logFile: log.file, title: `ROS 2 zero check of ${rig.name}` });
    if (r.end.outcome !== "completed") io.err(`s2r calibrate: ${r.end.outcome}: ${r.end.message}\nlog ${log.file}; report ${report}\n`);
    return exitCodeOf(r.end);
  } finally {
    await hw.close();
  }
}
