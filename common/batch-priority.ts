/**
 * Batch work yields to the robot. Training, fitting and rendering keep both
 * cores busy for minutes; a robot session on the same machine needs a core
 * the moment its timer fires or serial bytes arrive, and so do the kernel
 * threads that carry those bytes (a pty's workqueue, a USB adapter's), which
 * are time-shared: a SCHED_FIFO loop does not lift them. So batch commands
 * lower every thread of their own process, and worker threads lower
 * themselves as they start:
 *
 * - "batch": SCHED_BATCH (the scheduler treats the thread as CPU-bound and
 *   does not let it preempt a thread just woken) and nice 10 (a tenth of a
 *   nice-0 thread's share when both want the CPU);
 * - "idle": SCHED_IDLE (runs only when nothing else wants the CPU);
 * - "normal": left alone.
 *
 * Linux keeps nice and the scheduling policy per thread, and a thread
 * inherits both from the thread that creates it; lowering needs no
 * privilege. Node has no call for sched_setscheduler, so the policy is set
 * with `chrt` (util-linux, as robot/realtime.ts does) and nice with
 * os.setPriority, which takes a thread id on Linux.
 */

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { parseProcStat, SCHED_POLICY_NAMES } from "./proc-stat.js";

export const BATCH_PRIORITIES = ["batch", "idle", "normal"] as const;
export type BatchPriority = (typeof BATCH_PRIORITIES)[number];

/** The nice value batch work runs at (0 is the default, 19 the lowest). */
export const BATCH_NICE = 10;

export interface BatchPriorityResult {
  level: BatchPriority;
  /** e.g. "SCHED_BATCH, nice 10 (5 threads)". */
  applied: string;
  /** What could not be done, and what it means. */
  problem?: string;
}

/** The level this process's threads were set to (worker threads read it to lower themselves). */
let processLevel: BatchPriority = "normal";

export function currentBatchPriority(): BatchPriority {
  return processLevel;
}

export function parseBatchPriority(v: unknown, where: string): BatchPriority {
  if (typeof v === "string" && (BATCH_PRIORITIES as readonly string[]).includes(v)) return v as BatchPriority;
  throw new RangeError(`${where}: expected one of ${BATCH_PRIORITIES.join(", ")}, got ${JSON.stringify(v)}`);
}

/** The calling thread's kernel id (Node's main thread: the process id; a worker thread: its own). */
export function currentThreadId(): number {
  // /proc/thread-self is a link to /proc/<pid>/task/<tid> of whichever thread reads it.
  return Number(readlinkSync("/proc/thread-self").split("/").pop());
}

export interface ThreadScheduling {
  tid: number;
  /** The thread's name (comm). */
  name: string;
  policy: string;
  nice: number;
}

/** Scheduling of every thread of process `pid`, read from /proc/<pid>/task/<tid>/stat. */
export function readThreadScheduling(pid: number | "self" = "self"): ThreadScheduling[] {
  const dir = `/proc/${pid}/task`;
  const out: ThreadScheduling[] = [];
  for (const t of readdirSync(dir)) {
    let stat: string;
    try {
      stat = readFileSync(`${dir}/${t}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const s = parseProcStat(stat);
    const policy = s.field(41);
    out.push({ tid: Number(t), name: s.name, policy: SCHED_POLICY_NAMES[policy] ?? `policy ${policy}`, nice: s.field(19) });
  }
  return out;
}

function chrtArgs(level: Exclude<BatchPriority, "normal">): string[] {
  return level === "idle" ? ["--idle", "--pid", "0"] : ["--batch", "--pid", "0"];
}

function describe(level: BatchPriority): string {
  return level === "idle" ? `SCHED_IDLE, nice ${BATCH_NICE}` : level === "batch" ? `SCHED_BATCH, nice ${BATCH_NICE}` : "normal";
}

/** Raises the nice value of thread `tid` to BATCH_NICE (never lowers a nicer thread's). */
function niceThread(tid: number): void {
  if (getPriority(tid) < BATCH_NICE) setPriority(tid, BATCH_NICE);
}

function chrtProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
  if (err.code === "ENOENT") return "chrt (util-linux) is not installed: the scheduling policy stays SCHED_OTHER (nice still applies)";
  return `chrt failed: ${err.stderr?.toString().trim() || err.message}`;
}

/**
 * Lowers every thread of this process to `level` and remembers it for the
 * worker threads started afterwards (see lowerThisThread). "normal" leaves
 * everything alone.
 */
export function lowerProcessPriority(level: BatchPriority): BatchPriorityResult {
  processLevel = level;
  if (level === "normal") return { level, applied: "normal (not lowered)" };
  if (process.platform !== "linux") return { level, applied: "normal", problem: `lowering the scheduling priority is set up on Linux only (this is ${process.platform})` };
  const problems: string[] = [];
  try {
    execFileSync("chrt", ["--all-tasks", ...chrtArgs(level), String(process.pid)], { stdio: ["ignore", "ignore", "pipe"], timeout: 5000 });
  } catch (e) {
    problems.push(chrtProblem(e));
  }
  const tids = readdirSync("/proc/self/task").map(Number);
  for (const tid of tids) {
    try {
      niceThread(tid);
    } catch (e) {
      // A helper thread that ended between the listing and here.
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") problems.push(`nice ${BATCH_NICE} for thread ${tid}: ${(e as Error).message}`);
    }
  }
  return { level, applied: `${describe(level)} (${tids.length} threads)`, ...(problems.length ? { problem: problems.join("; ") } : {}) };
}

/** Lowers the calling thread (a worker thread at its start) to `level`. */
export function lowerThisThread(level: BatchPriority): BatchPriorityResult {
  if (level === "normal" || process.platform !== "linux") return { level, applied: "normal (not lowered)" };
  const tid = currentThreadId();
  const problems: string[] = [];
  try {
    execFileSync("chrt", [...chrtArgs(level), String(tid)], { stdio: ["ignore", "ignore", "pipe"], timeout: 5000 });
  } catch (e) {
    problems.push(chrtProblem(e));
  }
  try {
    niceThread(tid);
  } catch (e) {
    problems.push(`nice ${BATCH_NICE}: ${(e as Error).message}`);
  }
  return { level, applied: `${describe(level)} (thread ${tid})`, ...(problems.length ? { problem: problems.join("; ") } : {}) };
}
