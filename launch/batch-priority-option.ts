/**
 * The `--priority` option of every batch command (train, sysid fit, and
 * future ones: vision train, sweeps): by default the command lowers its own
 * threads and its workers' so that a robot session on the same machine keeps
 * the CPU it needs (common/batch-priority.ts says how and why).
 */

import { UsageError, type OptionSpec, type ParsedArgs } from "./args.js";
import type { CommandIO } from "./command.js";
import { BATCH_PRIORITIES, lowerProcessPriority, type BatchPriority, type BatchPriorityResult } from "../common/batch-priority.js";

export const BATCH_PRIORITY_OPTION: Record<string, OptionSpec> = {
  priority: {
    kind: "string",
    value: BATCH_PRIORITIES.join("|"),
    description: "scheduling of this job's threads and workers: batch (SCHED_BATCH, nice 10), idle (SCHED_IDLE: only when nothing else runs), normal (as started); lowered so a robot session on the same machine keeps its CPU",
    default: "batch",
  },
};

/** Lowers this process to --priority (before any worker starts); warns on stderr when part of it could not be done. */
export function applyBatchPriorityOption(command: string, args: ParsedArgs, io: CommandIO): BatchPriorityResult {
  const level = args.options.priority as string;
  if (!(BATCH_PRIORITIES as readonly string[]).includes(level)) throw new UsageError(`s2r ${command}: --priority must be one of ${BATCH_PRIORITIES.join(", ")}, got "${level}"`);
  const result = lowerProcessPriority(level as BatchPriority);
  if (result.problem) io.err(`s2r ${command}: warning: ${result.problem}\n`);
  return result;
}
