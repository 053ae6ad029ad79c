/**
 * When a late control cycle is a reason to stop, by what is at stake.
 *
 * A late cycle matters by how long the robot went without a fresh state (and
 * so without a command computed from one), not by how many times it happened
 * in a phase: a slow homing move shrugs off a 40 ms gap that would drop a
 * balanced pendulum. So the limits say what they protect, and are set per
 * session kind in the rig file (`safety.deadlines.<kind>`):
 *
 * - `staleStateSec`: the longest time between two fresh states (the end of one
 *   successful bus read and the next). It also bounds the retries of a bus
 *   read that timed out (a Sync Read is safe to repeat).
 * - `maxConsecutiveLate`: late cycles in a row (a loop that cannot keep up at
 *   all, whatever the gaps).
 * - `missRate`: the fraction of late cycles over a sliding window (a loop
 *   whose timing has degraded, e.g. a machine too busy for this rate).
 *
 * The device's Bus Watchdog (`safety.watchdogMs`) stays the last line: it
 * stops the motor when the host falls silent whatever this policy says.
 */
import { int, num, obj, type Infer } from "../../common/schema.js";

export const SESSION_KINDS = ["deploy", "calibrate", "sysid", "finetune"] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

interface LimitDefaults {
  recoveries: number;
  staleStateSec: number;
  maxConsecutiveLate: number;
  windowSec: number;
  maxFraction: number;
}

function limitsSchema(d: LimitDefaults) {
  return obj({
    staleStateSec: num(d.staleStateSec, { min: 0, exclusiveMin: true, description: "longest time without a fresh state, s" }),
    maxConsecutiveLate: int(d.maxConsecutiveLate, { min: 1 }),
    missRate: obj({
      windowSec: num(d.windowSec, { min: 0, exclusiveMin: true }),
      maxFraction: num(d.maxFraction, { min: 0, max: 1 }),
    }),
    /**
     * Times per session the hardware may be re-activated after a timing fault
     * (a limit above broken, or the bus silent: BusSilenceError) and the session
     * carry on: torque off first, then the calibration phase resumes, or deploy
     * goes on to its next episode (the faulted one counts as failed). 0: the
     * session ends at the first.
     */
    recoveries: int(d.recoveries, { min: 0 }),
  });
}

/**
 * Defaults. Every stale-state limit stays inside the 100 ms Bus Watchdog,
 * which stops the motor whatever this policy says. A balancing policy
 * (deploy, finetune) was trained with up to 10 ms of latency and holds its
 * last command through a gap: 80 ms is a quarter of the upright pendulum's
 * time constant, and a USB adapter's 10-15 ms tails plus several retries fit
 * in it; what it tolerates little is a loop late again and again (4 in a
 * row, 10 % over 2 s). Calibration moves at a few tenths of a rad/s under a
 * speed loop: 90 ms moves the arm by under 0.05 rad, and long runs of late
 * cycles change nothing. A bus silence costs it a recovery of about 0.3 s
 * and nothing else (the phase resumes; each move's time limit still bounds a
 * bus that keeps failing, and a failed re-activation ends the session): 10.
 * Identification drives larger voltages: between; it recovers like
 * calibration, but its excitation plays again from the start (the fit
 * replays contiguous commands; session-loop.ts `restart`), so each recovery
 * costs the excitation's length: 3.
 */
export const deadlinePolicySchema = obj({
  deploy: limitsSchema({ recoveries: 2, staleStateSec: 0.08, maxConsecutiveLate: 4, windowSec: 2, maxFraction: 0.1 }),
  calibrate: limitsSchema({ recoveries: 10, staleStateSec: 0.09, maxConsecutiveLate: 25, windowSec: 5, maxFraction: 0.5 }),
  sysid: limitsSchema({ recoveries: 3, staleStateSec: 0.09, maxConsecutiveLate: 10, windowSec: 5, maxFraction: 0.25 }),
  finetune: limitsSchema({ recoveries: 0, staleStateSec: 0.08, maxConsecutiveLate: 4, windowSec: 2, maxFraction: 0.1 }),
});

export type DeadlineLimits = Infer<ReturnType<typeof limitsSchema>>;
export type DeadlinePolicy = Infer<typeof deadlinePolicySchema>;

/** Limits for tests and tools that must never stop on timing (the benchmarks of the loop itself). */
export const UNLIMITED_DEADLINES: DeadlineLimits = { recoveries: 0, staleStateSec: Infinity, maxConsecutiveLate: Number.MAX_SAFE_INTEGER, missRate: { windowSec: 1, maxFraction: 1 } };

/** What made a cycle late: the part of the cycle that took longest. */
export type LateCause = "scheduling" | "read" | "vision" | "inference" | "write";

export interface CycleTimes {
  /** Wake-up lateness (woke - due), read, inference (incl. observation and safety) and write durations, s. */
  scheduling: number;
  read: number;
  /** Perception of a camera frame (0 without a camera). */
  vision?: number;
  inference: number;
  write: number;
}

export function lateCause(t: CycleTimes): LateCause {
  let cause: LateCause = "scheduling";
  let worst = t.scheduling;
  for (const k of ["read", "vision", "inference", "write"] as const) {
    const d = t[k] ?? 0;
    if (d > worst) {
      worst = d;
      cause = k;
    }
  }
  return cause;
}

export interface DeadlineStats {
  lateCycles: number;
  /** Late cycles by cause. */
  causes: Record<LateCause, number>;
  /** Longest time between two fresh states, s. */
  longestStaleSec: number;
  longestLateRun: number;
  /** Bus reads repeated after a timeout within the stale-state limit. */
  readRetries: number;
  /** Timing faults the session recovered from (torque off, re-activated, carried on). */
  recoveries: number;
}

export function emptyDeadlineStats(): DeadlineStats {
  return { lateCycles: 0, causes: { scheduling: 0, read: 0, vision: 0, inference: 0, write: 0 }, longestStaleSec: 0, longestLateRun: 0, readRetries: 0, recoveries: 0 };
}

/** Adds `b` into `a` (sessions summing their phases). */
export function addDeadlineStats(a: DeadlineStats, b: DeadlineStats): void {
  a.lateCycles += b.lateCycles;
  for (const k of Object.keys(a.causes) as LateCause[]) a.causes[k] += b.causes[k];
  a.longestStaleSec = Math.max(a.longestStaleSec, b.longestStaleSec);
  a.longestLateRun = Math.max(a.longestLateRun, b.longestLateRun);
  a.readRetries += b.readRetries;
  a.recoveries += b.recoveries;
}

/**
 * Tracks one loop's cycles against its limits. `freshState(t)` at each
 * successful read; `cycle(late, times)` after each cycle's write; either
 * returns a sentence naming the limit broken, or undefined.
 */
export class DeadlineMonitor {
  readonly stats = emptyDeadlineStats();
  private lastFresh = NaN;

  /** After a recovery (torque was off, the hardware re-activated): the next state starts a new stretch. */
  restart(): void {
    this.lastFresh = NaN;
    this.run = 0;
  }
  private run = 0;
  private readonly window: Uint8Array;
  private at = 0;
  private inWindow = 0;
  private readonly maxInWindow: number;

  constructor(
    readonly limits: DeadlineLimits,
    readonly periodSec: number,
  ) {
    const n = Number.isFinite(limits.missRate.windowSec) ? Math.max(1, Math.round(limits.missRate.windowSec / periodSec)) : 1;
    this.window = new Uint8Array(Math.min(n, 1 << 20));
    this.maxInWindow = Math.floor(limits.missRate.maxFraction * this.window.length);
  }

  /** Seconds since the last fresh state (0 before the first). */
  staleSeconds(now: number): number {
    return Number.isNaN(this.lastFresh) ? 0 : now - this.lastFresh;
  }

  /** How long a read starting now may keep retrying before the state is too stale, s. */
  readSlackSeconds(now: number): number {
    return this.limits.staleStateSec - this.staleSeconds(now);
  }

  freshState(now: number): string | undefined {
    const gap = this.staleSeconds(now);
    this.lastFresh = now;
    if (gap > this.stats.longestStaleSec) this.stats.longestStaleSec = gap;
    if (gap > this.limits.staleStateSec) return `no fresh state for ${(gap * 1000).toFixed(1)} ms, more than the stale-state limit of ${(this.limits.staleStateSec * 1000).toFixed(0)} ms`;
    return undefined;
  }

  /** After a cycle's write; `cause` only matters when late. */
  cycle(late: boolean, cause: LateCause): string | undefined {
    const old = this.window[this.at]!;
    this.window[this.at] = late ? 1 : 0;
    this.at = (this.at + 1) % this.window.length;
    this.inWindow += (late ? 1 : 0) - old;
    if (!late) {
      this.run = 0;
      return undefined;
    }
    this.stats.lateCycles++;
    this.stats.causes[cause]++;
    this.run++;
    if (this.run > this.stats.longestLateRun) this.stats.longestLateRun = this.run;
    if (this.run > this.limits.maxConsecutiveLate) return `${this.run} late cycles in a row, more than the limit of ${this.limits.maxConsecutiveLate}`;
    if (this.inWindow > this.maxInWindow) {
      return `${this.inWindow} late cycles in the last ${this.window.length} (${((100 * this.inWindow) / this.window.length).toFixed(1)} %), more than the limit of ${(100 * this.limits.missRate.maxFraction).toFixed(1)} % over ${this.limits.missRate.windowSec} s`;
    }
    return undefined;
  }
}

/** The same limits for every session kind (rig files of tests that are not about timing, on a loaded machine). */
export function sameDeadlinesForAll(limits: DeadlineLimits): DeadlinePolicy {
  return Object.fromEntries(SESSION_KINDS.map((k) => [k, limits])) as DeadlinePolicy;
}

/** Limits that only a stalled loop breaks: for tests and benchmarks about something other than timing, on a shared machine. */
export const TIMING_TOLERANT: DeadlineLimits = { recoveries: 0, staleStateSec: 1, maxConsecutiveLate: 1000, missRate: { windowSec: 1, maxFraction: 1 } };
