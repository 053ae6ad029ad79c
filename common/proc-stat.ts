/**
 * Reads Linux's /proc/<pid>/stat and /proc/<pid>/task/<tid>/stat lines
 * (proc(5)): "pid (comm) state field4 ...", where comm may itself hold spaces
 * and parentheses, so fields are counted after the last ')'.
 */

export interface ProcStat {
  /** The thread's or process's name (comm). */
  name: string;
  /** Field n (1-based, as numbered in proc(5)) as a number: 14 utime, 15 stime, 19 nice, 41 policy. */
  field(n: number): number;
}

export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  const name = text.slice(text.indexOf("(") + 1, close);
  // rest[0] is field 3 (state).
  const rest = text.slice(close + 2).split(" ");
  return { name, field: (n) => Number(rest[n - 3]) };
}

/** Scheduling policies by their number in field 41. */
export const SCHED_POLICY_NAMES: Record<number, string> = { 0: "SCHED_OTHER", 1: "SCHED_FIFO", 2: "SCHED_RR", 3: "SCHED_BATCH", 5: "SCHED_IDLE", 6: "SCHED_DEADLINE" };
