/** `s2r dxl read`: read one control-table register of one device by name, with its unit. */

import type { CommandSpec } from "../args.js";
import type { Command } from "../command.js";
import { BUS_OPTIONS, busArgs, idArg, registerArg, registerHelp, reportBusError, withBus } from "./dxl-shared.js";

const spec: CommandSpec = {
  name: "dxl read",
  summary: "",
  positionals: "<register>",
  options: {
    ...BUS_OPTIONS,
    id: { kind: "integer", value: "N", description: "device ID (required)" },
    json: { kind: "boolean", description: 'print {"id","register","address","raw","value","unit","alert"}' },
  },
  details: registerHelp(),
};

export const command: Command = {
  spec,
  async run(args, io) {
    const { port, baud, timeoutMs } = busArgs(args, spec);
    const id = idArg(args, spec);
    const entry = registerArg(args.positionals[0], spec);
    try {
      return await withBus(port, baud, timeoutMs, io, async (bus) => {
        const r = await bus.readRegister(id, entry);
        if (args.options.json) {
          io.out(JSON.stringify({ id, register: entry.name, address: entry.address, raw: r.raw, value: r.value ?? null, unit: entry.unit ?? null, alert: r.alert }) + "\n");
        } else {
          io.out(`ID ${id} ${entry.name} (${entry.address}) = ${r.text}\n`);
        }
        if (r.alert) {
          const hw = await bus.readHardwareError(id).catch(() => undefined);
          io.err(`warning: ID ${id} has its alert bit set${hw ? `: Hardware Error Status = ${hw.names.join(", ") || "none"}` : ""}; torque stays off until the device is rebooted\n`);
        }
        return 0;
      });
    } catch (e) {
      return reportBusError(e, spec, io);
    }
  },
};
