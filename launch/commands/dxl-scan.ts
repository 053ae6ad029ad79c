/** `s2r dxl scan`: ping every ID on a Dynamixel bus and list what answers. */

import type { CommandSpec } from "../args.js";
import type { Command } from "../command.js";
import { XM430_W350 } from "../../robot/dynamixel/xm430.js";
import { BUS_OPTIONS, busArgs, parseIdList, reportBusError, withBus } from "./dxl-shared.js";

const MODEL_NAMES: Record<number, string> = { [XM430_W350.modelNumber]: XM430_W350.model };

const spec: CommandSpec = {
  name: "dxl scan",
  summary: "",
  options: {
    ...BUS_OPTIONS,
    timeout: { ...BUS_OPTIONS.timeout!, default: 20, description: "wait this long for each ID" },
    ids: { kind: "string", value: "LIST", description: 'IDs to ping, e.g. "1,2" or "0-20"', default: "0-252" },
    json: { kind: "boolean", description: 'print [{"id":1,"model":1020,"firmware":46}, ...]' },
  },
  details: "Pings each ID in turn (a full scan takes about 253 × timeout). Exit code 1 when nothing answers.",
};

export const command: Command = {
  spec,
  async run(args, io) {
    const { port, baud, timeoutMs } = busArgs(args, spec);
    const ids = parseIdList(args.options.ids as string, spec);
    try {
      const found = await withBus(port, baud, timeoutMs, io, (bus) => bus.scan(ids, { timeoutMs, signal: io.signal }));
      if (args.options.json) {
        io.out(JSON.stringify(found.map((d) => ({ id: d.id, model: d.model, firmware: d.firmware, ...(d.alert ? { alert: true } : {}) }))) + "\n");
      } else if (found.length) {
        io.out("  ID  model              firmware\n");
        for (const d of found) {
          const model = `${d.model}${MODEL_NAMES[d.model] ? ` (${MODEL_NAMES[d.model]})` : ""}`;
          io.out(`${String(d.id).padStart(4)}  ${model.padEnd(18)} ${d.firmware}${d.alert ? "   ALERT: read hardware_error_status" : ""}\n`);
        }
      }
      if (found.length === 0) {
        io.err(`s2r ${spec.name}: no device answered on ${port} at ${baud} baud (IDs ${args.options.ids}); check power, wiring, baud rate and protocol version\n`);
        return 1;
      }
      return 0;
    } catch (e) {
      return reportBusError(e, spec, io);
    }
  },
};
