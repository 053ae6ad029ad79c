import { UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import type { ReplyCorruption } from "../../robot/emulator/reply-faults.js";
import { DEFAULT_THERMAL_OVERLOAD } from "../../robot/emulator/thermal-overload.js";
import { applyRealtimeOption, RT_PRIORITY_OPTION } from "../realtime-option.js";

/**
 * `s2r emulate <rig> --link PATH`: the rig's Dynamixel bus on a pseudo-terminal, backed by the simulator in real time.
 * `s2r emulate <rig> --ros2`: the same simulator as a ros2_control robot on ROS 2 topics (runRos2 below).
 */
export const command: Command = {
  spec: {
    name: "emulate",
    summary: "",
    positionals: "<rig>",
    options: {
      link: { kind: "string", value: "PATH", description: "path of the serial port to create (what `s2r deploy --port` opens) (required without --ros2)" },
      params: { kind: "string", value: "FILE", description: 'hidden parameters, also outside the randomization ranges: {"values": {"actuators.arm.Rm": 9.1, ...}, "zeroCounts": {...}}, a sysid params.json, or a plain map of physical symbols {"Rm": 10.1, "km": 0.0336, "armFriction": 0.003, ...}' },
      seed: { kind: "integer", value: "N", description: "draw hidden parameters from the task's randomization ranges and hidden encoder zeros" },
      baud: { kind: "integer", value: "BAUD", description: "bus speed (default: the rig file's)" },
      "bus-latency": { kind: "string", value: "SPEC", description: "delay each answer like a USB adapter: p50=1ms,p99=5ms,max=15ms[,stall=0.002] (log-normal, cut at max, plus that fraction of stalls between p99 and max; seeded by --seed), or a .json file {p50Ms, p99Ms, maxMs, stall}" },
      "corrupt-replies": { kind: "string", value: "SPEC", description: "fault injection: a burst of answers with a bad CRC, after=2s,count=40[,rate=1][,enable=N] (after counted from the N-th torque enable, default the first; seeded by --seed), or a .json file {afterMs, count, rate, enable}" },
      overload: { kind: "number", value: "A2S", description: "heat (I² above the continuous current, integrated) at which the motor's overload trips", default: DEFAULT_THERMAL_OVERLOAD.tripAmpSquaredSeconds },
      "continuous-current": { kind: "number", value: "A", description: "current the motor carries indefinitely without heating", default: DEFAULT_THERMAL_OVERLOAD.continuousAmps },
      reveal: { kind: "boolean", description: "print the hidden parameters and encoder zeros" },
      json: { kind: "boolean", description: "print the ready line (and --reveal's figures) as JSON" },
      ...RT_PRIORITY_OPTION,
      // ROS 2 (--ros2) ------------------------------------------------------
      ros2: { kind: "boolean", description: "be a ros2_control robot on ROS 2 instead of a serial bus: JointState out, volts in (the rig file's ros2 topics)" },
      domain: { kind: "integer", value: "N", description: "with --ros2: ROS 2 domain id (default ROS_DOMAIN_ID, else 0)" },
      rate: { kind: "number", value: "HZ", description: "with --ros2: JointState messages per second", default: 200 },
      "command-timeout": { kind: "number", value: "MS", description: "with --ros2: hold 0 V when no command arrived for this long (default the rig's safety.watchdogMs)" },
      "no-velocity": { kind: "boolean", description: "with --ros2: publish no velocities (a robot whose interface exports none)" },
      "state-topic": { kind: "string", value: "TOPIC", description: "with --ros2: JointState topic (default the rig file's ros2.jointStatesTopic)" },
      "command-topic": { kind: "string", value: "TOPIC", description: "with --ros2: command topic (default the rig file's ros2.commandTopic)" },
      camera: { kind: "boolean", description: "with --ros2: also publish the rig's camera (sensor_msgs/Image and CameraInfo on the rig file's camera topics), rendered with a hidden look drawn by --seed from outside the training randomization" },
    },
    details: [
      "The emulator serves every device of the rig file (e.g. ID 1 arm motor, ID 2 pendulum encoder) with the",
      "XM430-W350 control table: Goal PWM drives the simulated motor (latency, dead zone, friction included),",
      "present position/velocity/current come from the simulation, the Bus Watchdog, EEPROM lock and an",
      "overload trip (Hardware Error Status bit 5, cleared by Reboot) behave as on the real servo.",
      "Without --params or --seed the parameters are nominal and the encoders read 0 at the joint zeros.",
      "Runs until Ctrl-C / SIGTERM, then removes the link.",
      "",
      "With --ros2 the simulator is a ros2_control robot instead: sensor_msgs/JointState (calibrated positions,",
      "velocities, motor current as effort; stamped) at --rate, and the newest std_msgs/Float64MultiArray command",
      "(volts, clamped to the rig's limits) applied as it arrives. ros2_control's forward command controller",
      "would hold the last command forever; this robot holds 0 V after --command-timeout without a command, as",
      "the Bus Watchdog does on the serial rig. No overload model (--overload and --continuous-current are for",
      "the serial bus).",
      "",
      "With --ros2 --camera it also publishes the rig file's camera: frames of the simulation at the camera's",
      "frame rate, stamped with the middle of the exposure and published the camera's latency later, with",
      "camera_info beside them. Their look (backdrop, light, colours, noise, blur) is drawn by --seed (default 0)",
      "from ranges outside the training randomization, so a vision policy meets a camera it never saw.",
      "Rendering runs on a worker thread; a frame whose trigger finds it busy is dropped. On exit the published",
      "rate, drops and latency are reported (with --json as a \"stopped\" line on stdout).",
    ].join("\n"),
  },
  async run(args, io) {
    const rigName = args.positionals[0];
    if (!rigName) throw new UsageError("s2r emulate: which rig? e.g. s2r emulate furuta --link /tmp/furuta-bus");
    if (args.options.ros2) return runRos2(rigName, args, io);
    const link = args.options.link as string | undefined;
    if (!link) throw new UsageError("s2r emulate: --link is required (the path of the serial port to create, e.g. /tmp/furuta-bus), or --ros2");
    for (const o of ROS2_ONLY) if (args.options[o] !== undefined && args.options[o] !== false) throw new UsageError(`s2r emulate: --${o} is for --ros2`);
    const overload = args.options.overload as number;
    if (!(overload > 0)) throw new UsageError(`s2r emulate: --overload must be > 0, got ${overload}`);
    const continuous = args.options["continuous-current"] as number;
    if (!(continuous >= 0)) throw new UsageError(`s2r emulate: --continuous-current must be >= 0 A, got ${continuous}`);

    const { describeEmulatorParams } = await import("../../robot/emulator/emulator-params.js");
    const { EmulatedRig } = await import("../../robot/emulator/emulated-rig.js");
    const { serveEmulator } = await import("../../robot/emulator/serve-emulator.js");

    const { rig, setup, seed, params } = await emulatedRigSetup(rigName, args);
    const latencyText = args.options["bus-latency"] as string | undefined;
    let latency;
    if (latencyText !== undefined) {
      const { BusLatency, parseBusLatency } = await import("../../robot/emulator/bus-latency.js");
      latency = new BusLatency(parseBusLatency(latencyText), seed ?? 0);
    }
    const baudRate = (args.options.baud as number | undefined) ?? rig.bus.baudRate;
    // With --json, torque changes and fault injections are JSON lines with wall-clock times (ms since the epoch), for the fault matrix's timings.
    const epochMs = () => performance.timeOrigin + performance.now();
    const event = (e: Record<string, unknown>) => {
      if (args.options.json) io.out(JSON.stringify({ ...e, atMs: Number(epochMs().toFixed(3)) }) + "\n");
    };
    const corruptText = args.options["corrupt-replies"] as string | undefined;
    let corruption: ReplyCorruption | undefined;
    if (corruptText !== undefined) {
      const { ReplyCorruption, parseReplyCorruption } = await import("../../robot/emulator/reply-faults.js");
      corruption = new ReplyCorruption(parseReplyCorruption(corruptText), seed ?? 0, () => event({ event: "corrupt_replies_started" }));
    }
    const emulated = await EmulatedRig.create({ rig, setup, params, seed: seed ?? 0, overload: { continuousAmps: continuous, tripAmpSquaredSeconds: overload } });
    emulated.warmUp();
    emulated.onTorqueChange((joint, on) => {
      if (on) corruption?.torqueEnabled(performance.now());
      event({ event: "torque", joint, on });
    });
    emulated.onWatchdogTrip((joint) => event({ event: "watchdog", joint }));
    let failure: Error | undefined;
    let server;
    try {
      server = await serveEmulator(emulated, { link, latency, corruption, onError: (e) => (failure ??= e) });
    } catch (e) {
      emulated.dispose();
      io.err(`s2r emulate: ${(e as Error).message}\n`);
      return 1;
    }
    // Hardware answers on time: the serving thread and the pty relay get the loop's priority.
    const realtime = applyRealtimeOption("emulate", args, io, [server.relayPid]);
    const shown = params.hidden && !args.options.reveal ? "hidden (--reveal prints them)" : "shown";
    const ready = { event: "ready", rig: rig.name, link: server.link, baud: baudRate, parameters: params.source, ids: rig.devices.map((d) => d.id), busLatency: latency?.spec ?? null, corruptReplies: corruption?.spec ?? null, scheduling: realtime.scheduling };
    const revealed = args.options.reveal ? describeEmulatorParams(setup, params) : undefined;
    if (args.options.json) {
      io.out(JSON.stringify(revealed ? { ...ready, ...revealed } : ready) + "\n");
    } else {
      io.out(`s2r emulate: serving rig ${rig.name} (IDs ${ready.ids.join(", ")}) on ${server.link} at ${baudRate} baud${latency ? ` with reply delays ${latency.describe()}` : ""}; parameters: ${params.source}${params.hidden ? `, ${shown}` : ""}\n`);
      if (revealed) io.out(`${JSON.stringify(revealed, null, 2)}\n`);
    }

    await untilEndedOrInterrupted(server.ended, io.signal);
    await server.close();
    emulated.dispose();
    const s = emulated.stats;
    io.err(`s2r emulate: stopped; ${(s.physicsSteps * emulated.plant.physicsDt).toFixed(1)} s simulated, ${s.skippedSteps} steps skipped (stalls), ${s.overloadTrips} overload trips, ${s.watchdogTrips} watchdog trips${corruption ? `, ${corruption.corrupted} answers corrupted` : ""}${latency ? `; ${server.delays.replies} answers delayed, mean ${(server.delays.totalMs / Math.max(1, server.delays.replies)).toFixed(2)} ms, max ${server.delays.maxMs.toFixed(2)} ms` : ""}\n`);
    if (failure) {
      io.err(`s2r emulate: ${failure.message}\n`);
      return 1;
    }
    return 0;
  },
};

// --ros2 ----------------------------------------------------------------------

const ROS2_ONLY = ["domain", "command-timeout", "no-velocity", "state-topic", "command-topic", "camera"] as const;
const SERIAL_ONLY = ["link", "baud", "bus-latency", "corrupt-replies"] as const;

/** `s2r emulate <rig> --ros2`: the simulator as a ros2_control robot on the rig file's ROS 2 topics, until Ctrl-C / SIGTERM. */
async function runRos2(rigName: string, args: ParsedArgs, io: CommandIO): Promise<number> {
  for (const o of SERIAL_ONLY) if (args.options[o] !== undefined) throw new UsageError(`s2r emulate: --${o} is for the serial bus; it does not apply with --ros2`);
  const rate = args.options.rate as number;
  if (!(rate > 0 && rate <= 1000)) throw new UsageError(`s2r emulate: --rate must be in (0, 1000] Hz, got ${rate}`);
  const timeoutArg = args.options["command-timeout"] as number | undefined;
  if (timeoutArg !== undefined && !(timeoutArg > 0)) throw new UsageError(`s2r emulate: --command-timeout must be > 0 ms, got ${timeoutArg}`);

  const { describeEmulatorParams } = await import("../../robot/emulator/emulator-params.js");
  const { Ros2EmulatedRobot } = await import("../../robot/emulator/ros2-emulated-robot.js");
  const { serveRos2Emulator } = await import("../../robot/emulator/ros2-serve-emulator.js");
  const { openRos2Transport } = await import("../../robot/ros2/open.js");
  const { serveEmulatedCamera } = await import("../../robot/emulator/ros2-serve-camera.js");
  const { summarize } = await import("../../robot/control/sample-series.js");

  const { rig, setup, seed, params } = await emulatedRigSetup(rigName, args);
  const withCamera = args.options.camera === true;
  if (withCamera && !rig.camera) throw new UsageError(`s2r emulate: rig ${rig.name} has no camera (add a "camera" section to its rig file)`);
  const commandTimeoutMs = timeoutArg ?? rig.safety.watchdogMs;
  const robot = await Ros2EmulatedRobot.create({ rig, setup, params, seed: seed ?? 0, commandTimeoutMs, omitVelocity: args.options["no-velocity"] as boolean });
  robot.warmUp();
  let transport;
  let server;
  let camera;
  let failure: Error | undefined;
  let rejectedShown = 0;
  try {
    transport = await openRos2Transport({ domainId: args.options.domain as number | undefined });
    server = serveRos2Emulator(robot, transport, {
      rateHz: rate,
      stateTopic: args.options["state-topic"] as string | undefined,
      commandTopic: args.options["command-topic"] as string | undefined,
      onError: (e) => (failure ??= e),
      // The first few say what is wrong; a flood would drown the terminal.
      onRejected: (problem) => rejectedShown++ < 5 && io.err(`s2r emulate: ${problem}\n`),
    });
    if (withCamera) {
      camera = serveEmulatedCamera(robot, transport, { camera: rig.camera!, seed: seed ?? 0, onError: (e) => ((failure ??= e), void server!.close()) });
      await camera.ready;
    }
  } catch (e) {
    await camera?.close();
    await server?.close();
    transport?.dispose();
    robot.dispose();
    io.err(`s2r emulate: ${(e as Error).message}\n`);
    return 1;
  }
  const realtime = applyRealtimeOption("emulate", args, io);
  const ready = {
    event: "ready",
    rig: rig.name,
    transport: transport.name,
    domain: transport.domainId,
    stateTopic: server.stateTopic,
    commandTopic: server.commandTopic,
    joints: robot.jointNames,
    rateHz: rate,
    commandTimeoutMs,
    parameters: params.source,
    scheduling: realtime.scheduling,
    ...(camera ? { camera: { imageTopic: camera.imageTopic, infoTopic: camera.infoTopic, encoding: rig.camera!.encoding, width: camera.config.intrinsics.width, height: camera.config.intrinsics.height, frameRate: camera.config.frameRate, latencyMs: camera.config.latency * 1000, lookSeed: seed ?? 0 } } : {}),
  };
  // Encoder zero counts mean nothing here: the robot publishes calibrated positions.
  const revealed = args.options.reveal ? { params: describeEmulatorParams(setup, params).params } : undefined;
  if (args.options.json) {
    io.out(JSON.stringify(revealed ? { ...ready, ...revealed } : ready) + "\n");
  } else {
    io.out(`s2r emulate: rig ${rig.name} as a ros2_control robot on ROS 2 (${transport.name}, domain ${transport.domainId}): ${server.stateTopic} at ${rate} Hz, volts on ${server.commandTopic}; parameters: ${params.source}${params.hidden && !revealed ? ", hidden (--reveal prints them)" : ""}\n`);
    if (camera) io.out(`s2r emulate: camera ${camera.config.name} on ${camera.imageTopic} (${rig.camera!.encoding}, ${camera.config.intrinsics.width}x${camera.config.intrinsics.height} at ${camera.config.frameRate} Hz, ${(camera.config.latency * 1000).toFixed(0)} ms latency) and ${camera.infoTopic}; hidden look drawn by seed ${seed ?? 0}\n`);
    if (revealed) io.out(`${JSON.stringify(revealed, null, 2)}\n`);
  }
  const servingSince = performance.now();
  await untilEndedOrInterrupted(server.ended, io.signal);
  await camera?.close();
  await server.close();
  transport.dispose();
  robot.dispose();
  const s = robot.stats;
  if (camera) {
    const c = camera.stats;
    const seconds = (performance.now() - servingSince) / 1000;
    const report = { event: "stopped", camera: { published: c.published, triggered: c.triggered, dropped: c.dropped, late: c.late, rateHz: c.published / seconds, latencyMs: summarize(c.latencyMs), renderMs: summarize(c.renderMs) } };
    if (args.options.json) io.out(JSON.stringify(report) + "\n");
    io.err(`s2r emulate: camera: ${c.published} frames published (${report.camera.rateHz.toFixed(1)} Hz), ${c.dropped} dropped (renderer busy), ${c.late} later than the camera's latency; exposure to publication p50 ${report.camera.latencyMs.p50} ms, p99 ${report.camera.latencyMs.p99} ms; rendering p50 ${report.camera.renderMs.p50} ms, p99 ${report.camera.renderMs.p99} ms\n`);
  }
  io.err(
    `s2r emulate: stopped; ${(s.physicsSteps * robot.plant.physicsDt).toFixed(1)} s simulated, ${s.skippedSteps} steps skipped (stalls), ${server.published} joint states published, ${s.commandsApplied} commands applied (${s.commandsClamped} clamped, ${s.commandsRejected} ignored), ${s.commandTimeouts} command timeouts\n`,
  );
  if (failure) {
    io.err(`s2r emulate: ${failure.message}\n`);
    return 1;
  }
  return 0;
}

/** The rig, its task's simulator setup and the (hidden) parameters, shared by the serial and ROS 2 emulators. */
async function emulatedRigSetup(rigName: string, args: ParsedArgs) {
  const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
  const { getTask } = await import("../../sim/tasks/registry.js");
  const { setupTask } = await import("../../sim/env/sim-env.js");
  const { emulatorParams } = await import("../../robot/emulator/emulator-params.js");
  const rig = loadRigConfig(rigName);
  const task = getTask(rig.task);
  const setup = setupTask(task, task.configSchema.parse({}, "task"));
  const seed = args.options.seed as number | undefined;
  const file = args.options.params as string | undefined;
  const symbols = file === undefined ? undefined : await symbolMapTargets(file, rig.task);
  const params = emulatorParams(setup, rig, symbols ? { seed, values: symbols, valuesSource: `file ${file}` } : { seed, file });
  return { rig, setup, seed, params };
}

/**
 * A plain {symbol: value} map of physical values ({"Rm": 10.1, "km": 0.0336})
 * as table values; undefined when the file is another format (emulator-params.ts
 * reads those). The symbols are system identification's (calibration/sysid/rig.ts),
 * which the robot layer may not import: the conversion happens here.
 */
async function symbolMapTargets(file: string, task: string): Promise<Record<string, number> | undefined> {
  const { readFileSync } = await import("node:fs");
  const { ConfigError } = await import("../../common/schema.js");
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined; // emulator-params.ts reports what is wrong with the file
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const keys = Object.keys(doc);
  const { SYSID_SYMBOLS, furutaSysidRig, symbolsToTargets } = await import("../../calibration/sysid/rig.js");
  const known = SYSID_SYMBOLS as readonly string[];
  if (keys.length === 0 || !keys.some((k) => known.includes(k))) return undefined;
  const unknown = keys.find((k) => !known.includes(k));
  if (unknown) throw new ConfigError(unknown, `unknown parameter symbol (a plain map takes ${SYSID_SYMBOLS.join(", ")})`, file);
  for (const [k, v] of Object.entries(doc)) if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(k, `expected a finite number, got ${JSON.stringify(v)}`, file);
  if (task !== "furuta") throw new ConfigError("", `physical symbols are defined for the furuta task only; rig task ${task}: give table names in {"values": {...}}`, file);
  return symbolsToTargets(furutaSysidRig(), doc as Record<string, number>);
}

/** Serves until the server ends by itself or the command is interrupted (SIGINT / SIGTERM). */
function untilEndedOrInterrupted(ended: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return Promise.race([
    ended,
    new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    }),
  ]);
}
