/**
 * The `--rt-priority` option of every command that runs a real-time loop
 * (deploy, calibrate, sysid record) or serves one (emulate), and what the
 * command says when the scheduling it asked for was refused.
 */

import { UsageError, type OptionSpec, type ParsedArgs } from "./args.js";
import type { CommandIO } from "./command.js";
import { DEFAULT_RT_PRIORITY, requestRealtimePriority, type RealtimeResult } from "../robot/realtime.js";

export const RT_PRIORITY_OPTION: Record<string, OptionSpec> = {
  "rt-priority": {
    kind: "integer",
    value: "N",
    description: "SCHED_FIFO priority (1-99) for the loop's thread, as ros2_control uses; 0 leaves the scheduling alone. Without permission the loop runs time-shared, with a warning",
    default: DEFAULT_RT_PRIORITY,
  },
};

/** Raises this process's main thread (and `alsoPids`, e.g. a pty relay) to the --rt-priority; warns on stderr when refused. */
export function applyRealtimeOption(command: string, args: ParsedArgs, io: CommandIO, alsoPids: number[] = []): RealtimeResult {
  const priority = args.options["rt-priority"] as number;
  let result: RealtimeResult;
  try {
    result = requestRealtimePriority(priority);
  } catch (e) {
    // The bounds live with the request; on the command line they are a usage error.
    if (e instanceof RangeError) throw new UsageError(`s2r ${command}: --rt-priority: ${e.message}`);
    throw e;
  }
  if (result.granted) for (const pid of alsoPids) requestRealtimePriority(priority, pid);
  if (result.problem) io.err(`s2r ${command}: warning: ${result.problem}\n`);
  return result;
}
