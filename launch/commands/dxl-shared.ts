/**
 * What the `s2r dxl ...` commands share: the port options, opening a bus that
 * closes on Ctrl-C, ID lists, and turning bus errors into one-line messages.
 */

import { UsageError, type CommandSpec, type OptionSpec, type ParsedArgs } from "../args.js";
import type { CommandIO } from "../command.js";
import { DynamixelBus } from "../../robot/dynamixel/bus.js";
import { UnknownRegisterError, type RegisterEntry } from "../../robot/dynamixel/control-table.js";
import { DxlError, DxlPortLostError } from "../../robot/dynamixel/errors.js";
import { MAX_ID } from "../../robot/dynamixel/protocol.js";
import { XM430_W350, xm430Register } from "../../robot/dynamixel/xm430.js";
import { openSerialTransport, SerialPortOpenError } from "../../robot/serial/serial-transport.js";

export const BUS_OPTIONS: Record<string, OptionSpec> = {
  port: { kind: "string", value: "PATH", description: "serial port of the Dynamixel bus, e.g. /dev/ttyUSB0 (required)" },
  baud: { kind: "integer", value: "BAUD", description: "bus speed in baud", default: 1_000_000 },
  timeout: { kind: "number", value: "MS", description: "wait this long for each answer", default: 50 },
};

export function busArgs(args: ParsedArgs, spec: CommandSpec): { port: string; baud: number; timeoutMs: number } {
  const port = args.options.port as string | undefined;
  if (!port) throw new UsageError(`s2r ${spec.name}: --port is required (the serial device of the bus, e.g. /dev/ttyUSB0)`);
  const baud = args.options.baud as number;
  if (baud <= 0) throw new UsageError(`s2r ${spec.name}: --baud must be positive, got ${baud}`);
  const timeoutMs = args.options.timeout as number;
  if (!(timeoutMs > 0)) throw new UsageError(`s2r ${spec.name}: --timeout must be > 0 ms, got ${timeoutMs}`);
  return { port, baud, timeoutMs };
}

export function idArg(args: ParsedArgs, spec: CommandSpec): number {
  const id = args.options.id as number | undefined;
  if (id === undefined) throw new UsageError(`s2r ${spec.name}: --id is required (the device's ID, 0..${MAX_ID}; \`s2r dxl scan\` finds them)`);
  if (id < 0 || id > MAX_ID) throw new UsageError(`s2r ${spec.name}: --id must be 0..${MAX_ID}, got ${id}`);
  return id;
}

/** "1,2,5-8" -> [1, 2, 5, 6, 7, 8]. */
export function parseIdList(text: string, spec: CommandSpec): number[] {
  const ids = new Set<number>();
  for (const part of text.split(",").map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo > hi || hi > MAX_ID) throw new UsageError(`s2r ${spec.name}: --ids expects IDs or ranges within 0..${MAX_ID} such as "1,2,5-8", got ${JSON.stringify(part)}`);
    for (let id = lo; id <= hi; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

export function registerArg(name: string | undefined, spec: CommandSpec): RegisterEntry {
  if (!name) throw new UsageError(`s2r ${spec.name}: which register? e.g. present_position (see --help for the list)`);
  try {
    return xm430Register(name);
  } catch (e) {
    if (e instanceof UnknownRegisterError) throw new UsageError(`s2r ${spec.name}: ${e.message}`);
    throw e;
  }
}

/** The register list shown in --help. */
export function registerHelp(): string {
  const rows = XM430_W350.entries.map((e) => {
    const unit = e.unit ? `${Number(e.scale!.toFixed(4))} ${e.unit}` : "";
    return `  ${String(e.address).padStart(4)}  ${e.name.padEnd(24)} ${`${e.size} B${e.signed ? " signed" : ""}`.padEnd(11)} ${e.access.padEnd(3)} ${e.area.padEnd(7)} ${unit}`.trimEnd();
  });
  return ["Registers (XM430-W350; any spelling: goal_pwm, GoalPWM, \"Goal PWM\", or the address):", "  addr  name                     size        acc area    unit", ...rows].join("\n");
}

/** Opens the bus, runs `fn`, and closes the port afterwards or when the command is interrupted. */
export async function withBus<T>(port: string, baud: number, timeoutMs: number, io: CommandIO, fn: (bus: DynamixelBus) => Promise<T>): Promise<T> {
  const transport = await openSerialTransport(port, { baudRate: baud });
  const bus = new DynamixelBus(transport, { timeoutMs });
  const onAbort = () => void bus.close();
  io.signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await fn(bus);
  } finally {
    io.signal.removeEventListener("abort", onAbort);
    await bus.close();
  }
}

/** Bus and port failures become one line on stderr and exit code 1; anything else propagates. */
export function reportBusError(e: unknown, spec: CommandSpec, io: CommandIO, hint?: string): number {
  if (e instanceof DxlPortLostError && e.closedHere && io.signal.aborted) {
    io.err(`s2r ${spec.name}: interrupted\n`);
    return 130;
  }
  if (e instanceof DxlError || e instanceof SerialPortOpenError || e instanceof RangeError) {
    io.err(`s2r ${spec.name}: ${e.message}${hint ? `\n${hint}` : ""}\n`);
    return 1;
  }
  throw e;
}
