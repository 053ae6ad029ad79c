import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { formatSessionSummary, summarizeSessionLog, summaryToJson } from "../../robot/log/summarize.js";

export const command: Command = {
  spec: {
    name: "log summary",
    summary: "",
    positionals: "<run.mcap>",
    options: {
      json: { kind: "boolean", description: "Print the summary as JSON" },
      events: { kind: "integer", description: "List every event when there are at most this many; otherwise only errors", default: 20 },
    },
    details: `Reads a session log written by s2r (deploy, calibrate, sysid, finetune), also one
whose writer was killed, and prints: the session kind and metadata, start, end and
duration, messages and rate per channel, events, loop timing (period, jitter,
read/infer/write times, deadline misses) when the log has /timing, image channels with
their rate, size and encoding, and whether the
file was closed cleanly or cut short (a truncated log is still summarized; exit code 0).`,
  },
  async run(args, io) {
    const [file, ...extra] = args.positionals;
    if (!file) throw new UsageError("s2r log summary: which log? (s2r log summary run.mcap)");
    if (extra.length) throw new UsageError(`s2r log summary: one log at a time; unexpected ${extra.join(" ")}`);
    const maxEvents = args.options.events as number;
    if (maxEvents < 0) throw new UsageError("s2r log summary: --events must be >= 0");
    let summary;
    try {
      summary = await summarizeSessionLog(file, { maxEvents });
    } catch (e) {
      io.err(`s2r log summary: ${(e as Error).message}\n`);
      return 1;
    }
    io.out(args.options.json ? summaryToJson(summary) : formatSessionSummary(summary));
    return 0;
  },
};
