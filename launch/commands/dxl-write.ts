/** `s2r dxl write`: write one control-table register of one device by name (raw counts). */

import { UsageError, type CommandSpec } from "../args.js";
import type { Command } from "../command.js";
import { formatRegisterValue } from "../../robot/dynamixel/control-table.js";
import { DxlStatusError } from "../../robot/dynamixel/errors.js";
import { BUS_OPTIONS, busArgs, idArg, registerArg, registerHelp, reportBusError, withBus } from "./dxl-shared.js";

const spec: CommandSpec = {
  name: "dxl write",
  summary: "",
  positionals: "<register> <value>",
  options: {
    ...BUS_OPTIONS,
    id: { kind: "integer", value: "N", description: "device ID (required)" },
  },
  details: `The value is in raw register counts (e.g. goal_pwm 100 = 11.3 %). The write is sent once, never repeated.\n\n${registerHelp()}`,
};

export const command: Command = {
  spec,
  async run(args, io) {
    const { port, baud, timeoutMs } = busArgs(args, spec);
    const id = idArg(args, spec);
    const entry = registerArg(args.positionals[0], spec);
    const text = args.positionals[1];
    if (text === undefined) throw new UsageError(`s2r ${spec.name}: which value? e.g. s2r dxl write --port P --id ${id} ${args.positionals[0]} 0`);
    if (args.positionals.length > 2) throw new UsageError(`s2r ${spec.name}: expected <register> <value>, got extra ${JSON.stringify(args.positionals.slice(2).join(" "))}`);
    const value = Number(text);
    if (text.trim() === "" || !Number.isInteger(value)) throw new UsageError(`s2r ${spec.name}: value must be an integer in raw counts, got ${JSON.stringify(text)}`);
    try {
      return await withBus(port, baud, timeoutMs, io, async (bus) => {
        const r = await bus.writeRegister(id, entry, value);
        io.out(`ID ${id} ${entry.name} (${entry.address}) <- ${formatRegisterValue(entry, value)}\n`);
        if (r?.alert) io.err(`warning: ID ${id} has its alert bit set; \`s2r dxl read --id ${id} hardware_error_status\` names the cause\n`);
        return 0;
      });
    } catch (e) {
      const eepromLocked = e instanceof DxlStatusError && e.errorName === "Access Error" && entry.area === "EEPROM";
      return reportBusError(e, spec, io, eepromLocked ? `${entry.name} is in EEPROM, writable only with torque off: s2r dxl write --port ${args.options.port} --id ${id} torque_enable 0` : undefined);
    }
  },
};
