/** `s2r dxl doctor`: what makes this bus slow or flaky, and how to fix it. */

import type { CommandSpec } from "../args.js";
import type { Command } from "../command.js";
import { BUS_OPTIONS, busArgs, parseIdList, reportBusError, withBus } from "./dxl-shared.js";

const spec: CommandSpec = {
  name: "dxl doctor",
  summary: "",
  options: {
    ...BUS_OPTIONS,
    baud: { kind: "integer", value: "BAUD", description: "bus speed in baud (default: the rig file's)" },
    rig: { kind: "string", value: "NAME|FILE", description: "the rig whose devices, Sync Read and control rate to check", default: "furuta" },
    ids: { kind: "string", value: "LIST", description: 'IDs to check, e.g. "1,2" (default: the rig file\'s devices)' },
    samples: { kind: "integer", value: "N", description: "Sync Reads to time", default: 500 },
    json: { kind: "boolean", description: 'print {"port", "device", "checks": [{"name","status","summary","advice","data"}], "roundTrip"}' },
    "sysfs-root": { kind: "string", value: "DIR", description: "where sysfs is mounted (a copy for testing)", default: "/sys" },
    "proc-root": { kind: "string", value: "DIR", description: "where procfs is mounted (a copy for testing)", default: "/proc" },
  },
  details: [
    "Checks, each with what to do when it is off:",
    "  the USB adapter's latency timer (FTDI: 16 ms by default, 1 recommended; the command and a udev rule),",
    "  each device's Return Delay Time (0 recommended), Status Return Level (2) and baud rate, the share of the",
    "  control period a cycle's bytes take on the wire, the round trip of the Sync Read the control loop sends",
    "  (p50/p99/max), whether real-time scheduling is available (CAP_SYS_NICE or an rtprio limit), the kernel's",
    "  preemption model, and what else is busy competing with the serial path's time-shared kernel threads.",
    "Nothing is written to the devices. Exit code 1 when a check fails (a device does not answer).",
  ].join("\n"),
};

const MARK = { ok: "ok  ", warn: "WARN", fail: "FAIL", info: "info" } as const;

export const command: Command = {
  spec,
  async run(args, io) {
    const { loadRigConfig, rigActuators } = await import("../../robot/rigs/rig-config.js");
    const { xm430Register } = await import("../../robot/dynamixel/xm430.js");
    const host = await import("../../robot/diagnostics/host-checks.js");
    const busChecks = await import("../../robot/diagnostics/bus-checks.js");
    const rig = loadRigConfig(args.options.rig as string);
    const { port, timeoutMs } = busArgs({ ...args, options: { ...args.options, baud: (args.options.baud as number | undefined) ?? rig.bus.baudRate } }, spec);
    const baud = (args.options.baud as number | undefined) ?? rig.bus.baudRate;
    const ids = args.options.ids ? parseIdList(args.options.ids as string, spec) : rig.devices.map((d) => d.id);
    const samples = args.options.samples as number;
    const roots = { sysfs: args.options["sysfs-root"] as string, proc: args.options["proc-root"] as string };
    const periodSec = rig.control.minPeriodSec;

    const device = host.serialDeviceOf(port);
    const checks = [host.checkLatencyTimer(device, roots)];
    let roundTrip;
    try {
      await withBus(port, baud, timeoutMs, io, async (bus) => {
        const d = await busChecks.checkDevices(bus, { port, baud, ids, timeoutMs, rigReturnDelayMicros: rig.bus.returnDelayMicros });
        checks.push(...d.checks);
        // The block the control loop reads: Present Current .. Present Position; it writes Goal PWM to each motor.
        const current = xm430Register("Present Current");
        const position = xm430Register("Present Position");
        const length = position.address + position.size - current.address;
        const answering = d.findings.filter((f) => f.answered).map((f) => f.id);
        const delays = rig.bus.returnDelayMicros !== undefined ? answering.map(() => rig.bus.returnDelayMicros!) : d.findings.flatMap((f) => (f.answered ? [f.returnDelayMicros ?? 0] : []));
        checks.push(busChecks.checkWireTime(baud, busChecks.cycleWireBytes(ids.length, length, rigActuators(rig).length, xm430Register("Goal PWM").size), periodSec, delays));
        if (answering.length === ids.length && samples > 0) {
          if (!args.options.json) io.err(`s2r dxl doctor: timing ${samples} Sync Reads of IDs ${ids.join(", ")}...\n`);
          roundTrip = await busChecks.measureSyncRead(bus, ids, current.address, length, samples, Math.max(timeoutMs, 50));
          checks.push(busChecks.checkRoundTrip(roundTrip, periodSec));
        }
      });
    } catch (e) {
      return reportBusError(e, spec, io);
    }
    checks.push(host.checkRealtime(roots), host.checkKernel(roots), await host.checkCompetition(roots));

    if (args.options.json) {
      io.out(JSON.stringify({ port, device: device.device, kind: device.kind, baud, ids, checks, roundTrip: roundTrip ?? null }) + "\n");
    } else {
      io.out(`s2r dxl doctor: ${port}${device.device !== port ? ` -> ${device.device}` : ""} (${device.kind}) at ${baud} baud, rig ${rig.name}\n`);
      for (const c of checks) {
        io.out(`  [${MARK[c.status]}] ${c.summary}\n`);
        if (c.advice && c.status !== "ok") for (const line of c.advice.split("\n")) io.out(`         -> ${line}\n`);
      }
      const n = { warn: checks.filter((c) => c.status === "warn").length, fail: checks.filter((c) => c.status === "fail").length };
      io.out(`  ${n.fail ? `${n.fail} failed, ` : ""}${n.warn} warning${n.warn === 1 ? "" : "s"}\n`);
    }
    return checks.some((c) => c.status === "fail") ? 1 : 0;
  },
};
