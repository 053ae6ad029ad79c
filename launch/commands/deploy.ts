import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import type { EpisodeReport } from "../../robot/control/deploy-session.js";
import { applyRealtimeOption, RT_PRIORITY_OPTION } from "../realtime-option.js";

/** `s2r deploy`: a policy on a rig (serial bus, or ROS 2 with --ros2), episode by episode, with every session logged. */
export const command: Command = {
  spec: {
    name: "deploy",
    summary: "",
    options: {
      policy: { kind: "string", value: "FILE", description: "the policy's ONNX file (required)" },
      manifest: { kind: "string", value: "FILE", description: "its policy.json (default: policy.json, or <name>.json, next to the ONNX file)" },
      rig: { kind: "string", value: "NAME|FILE", description: "rig name (robot/rigs/<name>.json) or rig file (required)" },
      port: { kind: "string", value: "PATH", description: "serial port of the rig's bus, e.g. /dev/ttyUSB0 (required without --ros2)" },
      calibration: { kind: "string", value: "FILE", description: "calibration file (default: build/calibration/<rig>.json, as s2r calibrate writes it)" },
      episodes: { kind: "integer", value: "N", description: "episodes to run", default: 1 },
      duration: { kind: "number", value: "S", description: "seconds per episode (default: the task's episode length)" },
      log: { kind: "string", value: "FILE", description: "session log (default: logs/deploy-<rig>-<time>.mcap in the current folder)" },
      "task-config": { kind: "string", value: "FILE", description: "the task config the policy was trained with (JSON; default: the config.json s2r export wrote beside the manifest, else the task's defaults)" },
      baud: { kind: "integer", value: "BAUD", description: "bus speed (default: the rig file's)" },
      json: { kind: "boolean", description: "print one JSON object per episode" },
      runtime: { kind: "string", value: "auto|core|onnxruntime", description: "what steps the policy: auto runs the in-process core when the checkpoint.json beside the export computes what the ONNX file does (checked at load), else onnxruntime", default: "auto" },
      ...RT_PRIORITY_OPTION,
      // ROS 2 (--ros2) ------------------------------------------------------
      ros2: { kind: "boolean", description: "drive the robot over ROS 2 (ros2_control topics of the rig file) instead of a serial bus; no --port or --calibration" },
      domain: { kind: "integer", value: "N", description: "with --ros2: ROS 2 domain id (default ROS_DOMAIN_ID, else 0)" },
      "state-topic": { kind: "string", value: "TOPIC", description: "with --ros2: sensor_msgs/JointState topic (default the rig file's ros2.jointStatesTopic)" },
      "command-topic": { kind: "string", value: "TOPIC", description: "with --ros2: std_msgs/Float64MultiArray volts topic (default the rig file's ros2.commandTopic)" },
      "stale-ms": { kind: "number", value: "MS", description: "with --ros2: a joint state older than this stops the episode (default 3 control periods)" },
      vision: { kind: "string", value: "DIR", description: "with --ros2: the perception network (DIR/vision.onnx + vision.json) whose joints the policy sees through the rig's camera; default: a vision.json beside the policy" },
      "log-images": { kind: "string", value: "raw|compressed", description: "with a camera: log frames as sensor_msgs/Image (raw, default) or PNG sensor_msgs/CompressedImage (compressed)" },
    },
    details: [
      "Before anything moves, the policy's manifest is checked against the ONNX file (SHA-256) and the rig",
      "(robot, task, joint order, control period, action limits, observation layout); any difference is",
      "refused, naming it. Each episode starts from rest: the rig file's homing joint (e.g. the Furuta arm) is",
      "brought back to its start, then torque is turned off until every joint hangs still. Every command",
      "passes the safety layer (the rig file's command limits and hard-stop guards); the Bus Watchdog stops",
      "the motors if this process dies. On a fault, a deadline miss beyond the rig's budget, a non-finite",
      "action or Ctrl-C, torque goes off first, then the log is closed.",
      "With --ros2 the robot is a ros2_control robot: calibrated sensor_msgs/JointState in, volts out as",
      "std_msgs/Float64MultiArray. ROS 2 has no torque off or bus watchdog: stopping means a zero command, and a",
      "joint state older than --stale-ms stops the episode with one.",
      "Exit code: 0 when every episode ran (successful or not), 1 on a fault or refusal, 130 when interrupted.",
    ].join("\n"),
  },
  async run(args, io) {
    const need = (name: string, hint: string) => {
      const v = args.options[name] as string | undefined;
      if (!v) throw new UsageError(`s2r deploy: --${name} is required (${hint})`);
      return v;
    };
    const onnxPath = need("policy", "the policy's ONNX file");
    const rigArg = need("rig", "a rig name such as furuta, or a rig file");
    const ros2 = args.options.ros2 as boolean;
    checkTransportOptions(args.options, ros2);
    const port = ros2 ? "" : need("port", "the serial device of the rig's bus, e.g. /dev/ttyUSB0; or --ros2");
    const episodes = args.options.episodes as number;
    if (episodes < 1) throw new UsageError(`s2r deploy: --episodes must be >= 1, got ${episodes}`);
    const duration = args.options.duration as number | undefined;
    if (duration !== undefined && !(duration > 0)) throw new UsageError(`s2r deploy: --duration must be > 0 s, got ${duration}`);

    const { loadLoopPolicy, POLICY_RUNTIMES } = await import("../../policies/runtime/loop-policy.js");
    const runtimeChoice = args.options.runtime as (typeof POLICY_RUNTIMES)[number];
    if (!POLICY_RUNTIMES.includes(runtimeChoice)) throw new UsageError(`s2r deploy: --runtime must be one of ${POLICY_RUNTIMES.join(", ")}, got "${runtimeChoice}"`);

    const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
    const { readCalibration } = await import("../../robot/rigs/calibration.js");
    const { readManifest, verifyManifestAgainstOnnx, ManifestMismatchError } = await import("../../policies/manifest.js");
    const { bindPolicyToRig } = await import("../../robot/control/policy-binding.js");
    const { projectPath } = await import("../../common/paths.js");
    const { readJsonFile } = await import("../../common/json-file.js");

    const rig = loadRigConfig(rigArg);
    const manifestPath = (args.options.manifest as string | undefined) ?? findManifest(onnxPath);
    const manifest = readManifest(manifestPath);
    const taskConfigFile = args.options["task-config"] as string | undefined;
    // The task config the policy was trained with: --task-config, else the config.json that `s2r export` writes beside the manifest.
    const { existsSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    const exportedConfig = join(dirname(manifestPath), "config.json");
    const taskConfig = taskConfigFile
      ? readJsonFile(taskConfigFile, { defaultValue: undefined, parse: (v) => v })
      : existsSync(exportedConfig)
        ? (readJsonFile(exportedConfig, { defaultValue: undefined, parse: (v) => v }) as { task?: unknown }).task
        : undefined;
    let binding;
    try {
      verifyManifestAgainstOnnx(manifest, onnxPath);
      binding = bindPolicyToRig(manifest, rig, { taskConfig });
    } catch (e) {
      if (e instanceof ManifestMismatchError) {
        io.err(`s2r deploy: refusing to run this policy on rig ${rig.name}:\n${e.problems.map((p) => `  - ${p}`).join("\n")}\n`);
        return 1;
      }
      throw e;
    }
    // Over ROS 2 the robot publishes calibrated positions: no calibration file.
    const calibrationFile = ros2 ? "" : ((args.options.calibration as string | undefined) ?? projectPath("build", "calibration", `${rig.name}.json`));
    if (!ros2 && !args.options.calibration && !existsSync(calibrationFile)) {
      throw new UsageError(`s2r deploy: no calibration for rig ${rig.name}: ${calibrationFile} does not exist; run s2r calibrate, or pass --calibration FILE`);
    }
    const calibration = ros2 ? undefined : readCalibration(calibrationFile, rig);
    const episodeSeconds = duration ?? binding.taskConfig.episodeSeconds;
    const logFile = (args.options.log as string | undefined) ?? join("logs", `deploy-${rig.name}-${timestamp()}.mcap`);
    // Session logs are never overwritten; say so before anything is opened.
    if (existsSync(logFile)) throw new UsageError(`s2r deploy: --log ${logFile} already exists (session logs are never overwritten); choose another file`);

    const { DynamixelRig } = await import("../../robot/rigs/dynamixel-rig.js");
    const { HardwareError } = await import("../../robot/hardware/interface.js");
    const { SessionLog } = await import("../../robot/log/session-log.js");
    const { runDeploySession } = await import("../../robot/control/deploy-session.js");

    const visionDir = ros2 ? ((args.options.vision as string | undefined) ?? (existsSync(join(dirname(onnxPath), "vision.json")) ? dirname(onnxPath) : undefined)) : undefined;
    const logImages = (args.options["log-images"] as string | undefined) ?? "raw";
    if (logImages !== "raw" && logImages !== "compressed") throw new UsageError(`s2r deploy: --log-images must be raw or compressed, got ${JSON.stringify(logImages)}`);
    if (visionDir !== undefined && !rig.camera) throw new UsageError(`s2r deploy: the perception network in ${visionDir} needs a camera, and rig ${rig.name} has none (the rig file's "camera" section)`);
    const { loadVisionStage } = await import("../deploy-vision.js");
    const vision = visionDir === undefined ? undefined : loadVisionStage(visionDir);
    const loaded = await loadLoopPolicy(onnxPath, manifestPath, runtimeChoice);
    const policy = loaded.policy;
    io.err(`s2r deploy: policy runs on ${loaded.why}\n`);
    let hardware;
    let connection = port;
    try {
      if (ros2) {
        const { Ros2Hardware } = await import("../../robot/ros2/ros2-hardware.js");
        const r = await Ros2Hardware.open(rig, {
          controlPeriodSec: binding.periodSec,
          domainId: args.options.domain as number | undefined,
          stateTopic: args.options["state-topic"] as string | undefined,
          commandTopic: args.options["command-topic"] as string | undefined,
          staleAfterMs: args.options["stale-ms"] as number | undefined,
        });
        connection = r.describe();
        hardware = r;
      } else hardware = await DynamixelRig.open(port, rig, calibration!, { baudRate: args.options.baud as number | undefined });
    } catch (e) {
      policy.dispose();
      vision?.dispose();
      if (e instanceof HardwareError) {
        io.err(`s2r deploy: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    let camera;
    try {
      if (vision) {
        try {
          camera = await vision.openCamera((hardware as { transport: import("../../robot/ros2/transport.js").Ros2Transport }).transport, rig.camera!, io.signal);
        } catch (e) {
          io.err(`s2r deploy: ${(e as Error).message}\n`);
          return 1;
        }
      }
      const realtime = applyRealtimeOption("deploy", args, io);
      const log = SessionLog.create(logFile, {
        session: "deploy",
        metadata: {
          rig: rig.name,
          task: rig.task,
          ...(ros2 ? { ros2: connection } : { port }),
          policy: onnxPath,
          policy_sha256: manifest.onnx.sha256,
          manifest: manifestPath,
          training_run: manifest.training.run,
          calibration: ros2 ? "none (ROS 2: the robot publishes calibrated positions)" : calibrationFile,
          episodes: String(episodes),
          episode_seconds: String(episodeSeconds),
          control_hz: String(1 / binding.periodSec),
          scheduling: realtime.scheduling,
          policy_runtime: loaded.why,
          ...(vision ? { vision: vision.onnxPath, camera: rig.camera!.imageTopic, log_images: logImages } : {}),
        },
      });
      const perception = vision && camera ? vision.perception(camera, hardware.jointNames, log, { compressed: logImages === "compressed" ? "png" : "none", frameId: rig.camera!.frameId }) : undefined;
      if (!args.options.json) io.out(`s2r deploy: ${episodes} episode(s) of ${episodeSeconds} s on rig ${rig.name} at ${connection}; log ${log.file}\n`);
      const result = await runDeploySession({
        hardware,
        policy,
        binding,
        rig,
        log,
        episodes,
        episodeSeconds,
        signal: io.signal,
        perception,
        onEpisode: (r) => io.out(args.options.json ? JSON.stringify(episodeJson(r, hardware.commandNames)) + "\n" : episodeLine(r, episodes, hardware.commandNames) + "\n"),
        onStatus: (line) => io.err(`${line}\n`),
      });
      const ok = result.episodes.filter((e) => e.success).length;
      const summary = `s2r deploy: ${result.reason === "completed" ? "done" : `stopped (${result.reason})`}: ${result.message}; ${ok}/${result.episodes.length} episode(s) successful; log ${log.file}`;
      if (result.fault) io.err(`${summary}\n`);
      else if (args.options.json) io.err(`${summary}\n`);
      else io.out(`${summary}\n`);
      return result.reason === "interrupted" ? 130 : result.fault ? 1 : 0;
    } finally {
      policy.dispose();
      camera?.dispose();
      vision?.dispose();
      await hardware.close();
    }
  },
};

/** --ros2 and the serial options exclude each other; each side's options need their side. */
function checkTransportOptions(options: Record<string, unknown>, ros2: boolean): void {
  const serialOnly = ["port", "calibration", "baud"];
  const ros2Only = ["domain", "state-topic", "command-topic", "stale-ms", "vision", "log-images"];
  for (const o of ros2 ? serialOnly : ros2Only) {
    if (options[o] !== undefined) throw new UsageError(ros2 ? `s2r deploy: --${o} does not apply with --ros2 (the robot is reached over ROS 2 and publishes calibrated positions)` : `s2r deploy: --${o} needs --ros2`);
  }
  const stale = options["stale-ms"];
  if (stale !== undefined && !((stale as number) > 0)) throw new UsageError(`s2r deploy: --stale-ms must be > 0, got ${stale}`);
}

/** policy.json next to the ONNX file, else <name>.json. */
function findManifest(onnxPath: string): string {
  const dir = dirname(onnxPath);
  const candidates = [join(dir, "policy.json"), join(dir, basename(onnxPath).replace(/\.onnx$/i, "") + ".json")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UsageError(`s2r deploy: no manifest next to ${onnxPath} (looked for ${candidates.join(", ")}); pass --manifest FILE`);
  return found;
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function episodeJson(r: EpisodeReport, commandNames: readonly string[]) {
  return {
    episode: r.episode,
    success: r.success,
    reason: r.reason,
    seconds: Number(r.seconds.toFixed(3)),
    cycles: r.cycles,
    peakCommand: Object.fromEntries(commandNames.map((n, i) => [n, Number(r.peakCommand[i]!.toFixed(3))])),
    commandUnit: r.commandUnit,
    deadlineMisses: r.deadlineMisses,
    deadlineStats: r.deadlineStats,
    interventions: r.interventions,
    metrics: r.metrics,
    timingMicros: r.timingMicros,
    settleSeconds: Number(r.settleSeconds.toFixed(2)),
    message: r.message,
  };
}

function episodeLine(r: EpisodeReport, total: number, commandNames: readonly string[]): string {
  const peak = commandNames.map((n, i) => `${n} ${r.peakCommand[i]!.toFixed(2)} ${r.commandUnit}`).join(", ");
  const metrics = Object.entries(r.metrics)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(", ");
  const safety = Object.entries(r.interventions)
    .filter(([k, v]) => k !== "none" && v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return `episode ${r.episode}/${total}: ${r.success ? "SUCCESS" : "no success"} (${r.reason}) | ${r.seconds.toFixed(1)} s, peak ${peak}, ${r.deadlineMisses} deadline misses${safety ? `, safety ${safety}` : ""}, jitter p99 ${r.timingMicros.jitter.p99} µs | ${metrics}`;
}
