import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { DEFAULT_THERMAL_OVERLOAD } from "../../robot/emulator/thermal-overload.js";

/** `s2r emulate <rig> --link PATH`: the rig's Dynamixel bus on a pseudo-terminal, backed by the simulator in real time. */
export const command: Command = {
  spec: {
    name: "emulate",
    summary: "",
    positionals: "<rig>",
    options: {
      link: { kind: "string", value: "PATH", description: "path of the serial port to create (what `s2r deploy --port` opens) (required)" },
      params: { kind: "string", value: "FILE", description: 'hidden parameters: {"values": {"actuators.arm.Rm": 9.1, ...}, "zeroCounts": {...}} or a sysid params.json' },
      seed: { kind: "integer", value: "N", description: "draw hidden parameters from the task's randomization ranges and hidden encoder zeros" },
      baud: { kind: "integer", value: "BAUD", description: "bus speed (default: the rig file's)" },
      overload: { kind: "number", value: "A2S", description: "heat (I² above the continuous current, integrated) at which the motor's overload trips", default: DEFAULT_THERMAL_OVERLOAD.tripAmpSquaredSeconds },
      "continuous-current": { kind: "number", value: "A", description: "current the motor carries indefinitely without heating", default: DEFAULT_THERMAL_OVERLOAD.continuousAmps },
      reveal: { kind: "boolean", description: "print the hidden parameters and encoder zeros" },
      json: { kind: "boolean", description: "print the ready line (and --reveal's figures) as JSON" },
    },
    details: [
      "The emulator serves every device of the rig file (e.g. ID 1 arm motor, ID 2 pendulum encoder) with the",
      "XM430-W350 control table: Goal PWM drives the simulated motor (latency, dead zone, friction included),",
      "present position/velocity/current come from the simulation, the Bus Watchdog, EEPROM lock and an",
      "overload trip (Hardware Error Status bit 5, cleared by Reboot) behave as on the real servo.",
      "Without --params or --seed the parameters are nominal and the encoders read 0 at the joint zeros.",
      "Runs until Ctrl-C / SIGTERM, then removes the link.",
    ].join("\n"),
  },
  async run(args, io) {
    const rigName = args.positionals[0];
    if (!rigName) throw new UsageError("s2r emulate: which rig? e.g. s2r emulate furuta --link /tmp/furuta-bus");
    const link = args.options.link as string | undefined;
    if (!link) throw new UsageError("s2r emulate: --link is required (the path of the serial port to create, e.g. /tmp/furuta-bus)");
    const overload = args.options.overload as number;
    if (!(overload > 0)) throw new UsageError(`s2r emulate: --overload must be > 0, got ${overload}`);
    const continuous = args.options["continuous-current"] as number;
    if (!(continuous >= 0)) throw new UsageError(`s2r emulate: --continuous-current must be >= 0 A, got ${continuous}`);

    const { loadRigConfig } = await import("../../robot/rigs/rig-config.js");
    const { getTask } = await import("../../sim/tasks/registry.js");
    const { setupTask } = await import("../../sim/env/sim-env.js");
    const { emulatorParams, describeEmulatorParams } = await import("../../robot/emulator/emulator-params.js");
    const { EmulatedRig } = await import("../../robot/emulator/emulated-rig.js");
    const { serveEmulator } = await import("../../robot/emulator/serve-emulator.js");

    const rig = loadRigConfig(rigName);
    const task = getTask(rig.task);
    const setup = setupTask(task, task.configSchema.parse({}, "task"));
    const seed = args.options.seed as number | undefined;
    const params = emulatorParams(setup, rig, { seed, file: args.options.params as string | undefined });
    const baudRate = (args.options.baud as number | undefined) ?? rig.bus.baudRate;
    const emulated = await EmulatedRig.create({ rig, setup, params, seed: seed ?? 0, overload: { continuousAmps: continuous, tripAmpSquaredSeconds: overload } });
    emulated.warmUp();
    let failure: Error | undefined;
    let server;
    try {
      server = await serveEmulator(emulated, { link, baudRate, onError: (e) => (failure ??= e) });
    } catch (e) {
      emulated.dispose();
      io.err(`s2r emulate: ${(e as Error).message}\n`);
      return 1;
    }
    const shown = params.hidden && !args.options.reveal ? "hidden (--reveal prints them)" : "shown";
    const ready = { event: "ready", rig: rig.name, link: server.link, baud: baudRate, parameters: params.source, ids: rig.devices.map((d) => d.id) };
    const revealed = args.options.reveal ? describeEmulatorParams(setup, params) : undefined;
    if (args.options.json) {
      io.out(JSON.stringify(revealed ? { ...ready, ...revealed } : ready) + "\n");
    } else {
      io.out(`s2r emulate: serving rig ${rig.name} (IDs ${ready.ids.join(", ")}) on ${server.link} at ${baudRate} baud; parameters: ${params.source}${params.hidden ? `, ${shown}` : ""}\n`);
      if (revealed) io.out(`${JSON.stringify(revealed, null, 2)}\n`);
    }

    await Promise.race([
      server.ended,
      new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        io.signal.addEventListener("abort", () => resolve(), { once: true });
      }),
    ]);
    await server.close();
    emulated.dispose();
    const s = emulated.stats;
    io.err(`s2r emulate: stopped; ${(s.physicsSteps * emulated.plant.physicsDt).toFixed(1)} s simulated, ${s.skippedSteps} steps skipped (stalls), ${s.overloadTrips} overload trips, ${s.watchdogTrips} watchdog trips\n`);
    if (failure) {
      io.err(`s2r emulate: ${failure.message}\n`);
      return 1;
    }
    return 0;
  },
};
