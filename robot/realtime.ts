/**
 * Real-time scheduling for the thread that runs a control loop (and for the
 * emulator's serving thread and its pty relay).
 *
 * Under the default time-sharing scheduler a thread that is woken (a timer,
 * bytes on the serial port) can wait milliseconds for a core while anything
 * else runs; measured on a 2-core machine with nothing else to do, a plain C
 * 5 ms timer woke up to 3.4 ms late (11 times in 30 s), and under SCHED_FIFO
 * at most 0.24 ms late. ros2_control's controller manager asks for
 * SCHED_FIFO priority 50 for the same reason; so does this.
 *
 * Only the given thread is raised (Node's main thread has the process id);
 * the runtime's helper threads stay time-shared, and the reset-on-fork flag
 * keeps children (an emulator, socat) from inheriting the priority: a child
 * whose every thread ran at one FIFO priority made the round trip worse, not
 * better. Node has no call for sched_setscheduler, so this runs `chrt`
 * (util-linux). Without permission (CAP_SYS_NICE, or an rtprio limit in
 * /etc/security/limits.conf) the loop runs time-shared and says so.
 *
 * A raised thread must not wait for time-shared ones. V8 scavenges the young
 * generation (several times a second in a logging loop) with helper threads
 * and the main thread waits for them to finish: traced with ftrace, a 4 ms
 * stall was the FIFO loop thread waiting on a V8 helper queued behind another
 * process's time slice. So the raised process scavenges on its own thread
 * (`--no-parallel-scavenge`, safe to set at run time; a scavenge of the small
 * young generation takes well under a millisecond on one thread).
 */

import { execFileSync } from "node:child_process";
import { setFlagsFromString } from "node:v8";

/** ros2_control's default priority for its real-time thread. */
export const DEFAULT_RT_PRIORITY = 50;

export interface RealtimeResult {
  granted: boolean;
  /** e.g. "SCHED_FIFO 50", or "time-shared (not requested)". */
  scheduling: string;
  /** Why it was not granted, with what to do about it. */
  problem?: string;
}

/**
 * Asks for SCHED_FIFO at `priority` (1-99) for the thread `pid` (default this
 * process's main thread). Priority 0 leaves the scheduling alone.
 */
export function requestRealtimePriority(priority: number, pid: number = process.pid): RealtimeResult {
  if (priority === 0) return { granted: false, scheduling: "time-shared (not requested)" };
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) throw new RangeError(`real-time priority must be an integer in 1..99 (0: leave the scheduling alone), got ${priority}`);
  if (process.platform !== "linux") return { granted: false, scheduling: "time-shared", problem: `real-time scheduling is set up on Linux only (this is ${process.platform})` };
  try {
    execFileSync("chrt", ["--reset-on-fork", "--fifo", "--pid", String(priority), String(pid)], { stdio: ["ignore", "ignore", "pipe"], timeout: 5000 });
    if (pid === process.pid) setFlagsFromString("--no-parallel-scavenge");
    return { granted: true, scheduling: `SCHED_FIFO ${priority}` };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") return { granted: false, scheduling: "time-shared", problem: "chrt (util-linux) is not installed, so real-time scheduling cannot be requested" };
    const said = err.stderr?.toString().trim() ?? err.message;
    const denied = /not permitted|EPERM/i.test(said);
    return {
      granted: false,
      scheduling: "time-shared",
      problem: denied
        ? `not permitted to use SCHED_FIFO ${priority} (grant CAP_SYS_NICE, e.g. \`sudo setcap cap_sys_nice+ep $(readlink -f $(which node))\`, or an rtprio limit in /etc/security/limits.conf); the loop may miss deadlines while other programs run`
        : `chrt failed: ${said}`,
    };
  }
}

/** Back to the time-shared scheduler (after a benchmark, so later work is measured as usual). */
export function releaseRealtimePriority(pid: number = process.pid): void {
  if (process.platform !== "linux") return;
  try {
    execFileSync("chrt", ["--other", "--pid", "0", String(pid)], { stdio: "ignore", timeout: 5000 });
  } catch {
    // Nothing was raised, or chrt is missing: nothing to undo.
  }
}
