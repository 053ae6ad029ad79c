/**
 * The fixed-rate loop of a calibration or identification session on the
 * robot, phase by phase: read -> the phase's controller -> safety layer ->
 * write, then log. A phase is a small controller (move to a hard stop, wait
 * for the pendulum to hang still, play an excitation signal...) that says
 * when it is done; phases that only observe (torque off) read and log.
 *
 * Unlike the policy control loop (robot/control/control-loop.ts) there is no
 * observation or action map: a phase writes volts directly, and every phase
 * has a time limit, so a procedure that does not converge ends in an error
 * instead of running forever. The loop never deactivates the hardware
 * itself: the session owning it does, on every exit path (see
 * session-guard.ts), so torque stays on between consecutive driven phases.
 */
import type { HardwareInterface, JointStateFrame } from "../../robot/hardware/interface.js";
import type { SessionLog } from "../../robot/log/session-log.js";
import { causesText, readRetriesOf, type Ticker } from "../../robot/control/control-loop.js";
import { addDeadlineStats, DeadlineMonitor, emptyDeadlineStats, lateCause, type DeadlineLimits, type DeadlineStats } from "../../robot/control/deadline-policy.js";
import type { SafetyLayer } from "../../robot/safety.js";
import { nowSec, PeriodicTimer } from "../../robot/timing.js";
import { BusSilenceError } from "../../robot/hardware/interface.js";
import { warmUp } from "../../robot/control/warm-up.js";
import { SampleRecorder } from "./sample-recorder.js";

export interface Phase {
  /** Shown in events and errors, e.g. "seek lower stop of arm_joint". */
  name: string;
  /** True: the phase writes commands (torque must be on). False: it only reads (torque off). */
  drive: boolean;
  /** The phase fails with a PhaseTimeoutError after this long, s; read every cycle, so a phase may derive it from its progress. */
  readonly maxSeconds: number;
  /** How the limit was set, for the timeout's message. */
  limitDetail?(): string;
  /**
   * One cycle: `frame` just read, `seconds` since the phase's first reading.
   * Driven phases write their volts (actuator order) into `command`, which
   * arrives zeroed. Return true when the phase is done (that cycle's command
   * is still written).
   */
  step(frame: JointStateFrame, seconds: number, command: Float64Array): boolean;
  /**
   * After a recovery (torque was off, the hardware re-activated): a phase whose
   * data must be contiguous (an excitation the fit replays) starts over; the
   * loop restarts the phase's clock and logs it as started again, so readers
   * of the log take the last run. Without it the phase resumes where it was.
   */
  restart?(): void;
}

/** The session was interrupted (Ctrl-C / SIGTERM): io.signal fired. */
export class SessionInterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionInterruptedError";
  }
}

/** A phase did not finish within its time limit. */
export class PhaseTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PhaseTimeoutError";
  }
}

/** The loop broke a late-cycle limit of the session kind (the rig page: torque off when the loop misses its deadline). */
export class DeadlineLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeadlineLimitError";
  }
}

export interface SessionLoopOptions {
  hardware: HardwareInterface;
  log: SessionLog;
  periodSec: number;
  /** Every driven command passes it. */
  safety: SafetyLayer;
  /** Late-cycle limits of this session kind (the rig's safety.deadlines.<kind>), applied per phase. */
  deadlines: DeadlineLimits;
  signal?: AbortSignal;
  /** Ticker per phase; default a real-time PeriodicTimer. LockstepTicker for simulated hardware. */
  ticker?: (periodSec: number) => Ticker;
  /** Keep every cycle for the session's report; default true. */
  record?: boolean;
}

export interface PhaseResult {
  name: string;
  /** Phase time at its last cycle, s. */
  seconds: number;
  cycles: number;
  deadlineMisses: number;
  deadlineStats: DeadlineStats;
}

export class SessionLoop {
  readonly hardware: HardwareInterface;
  /** Every cycle of every phase (session time, readings, commands written), for reports. */
  readonly recorder: SampleRecorder;
  /** Phases run so far, in order. */
  readonly phases: (PhaseResult & { startSeconds: number })[] = [];
  /** Late cycles, their causes and the longest stale state over every phase run so far (failed ones included). */
  readonly deadlineStats = emptyDeadlineStats();
  private readonly command: Float64Array;
  private readonly safe: Float64Array;
  private readonly zero: Float64Array;
  private sessionStart = NaN;

  constructor(private readonly o: SessionLoopOptions) {
    if (!(o.periodSec > 0)) throw new RangeError(`session loop: periodSec must be > 0, got ${o.periodSec}`);
    this.hardware = o.hardware;
    const nCmd = o.hardware.commandNames.length;
    this.command = new Float64Array(nCmd);
    this.safe = new Float64Array(nCmd);
    this.zero = new Float64Array(nCmd);
    this.recorder = new SampleRecorder(o.hardware.jointNames, o.hardware.commandNames, o.record ?? true);
  }

  get periodSec(): number {
    return this.o.periodSec;
  }

  /** Session time of a hardware stamp: seconds since the first reading of the session. */
  sessionSeconds(stamp: number): number {
    if (Number.isNaN(this.sessionStart)) this.sessionStart = stamp;
    return stamp - this.sessionStart;
  }

  /**
   * Untimed cycles with torque off before the session's first timed one, so
   * that cycle is not late from V8 compiling the read path and cold caches
   * (robot/control/warm-up.ts): reads, and a zero command through the safety
   * layer; nothing written, nothing recorded.
   */
  async warmUp(): Promise<void> {
    const { hardware, log, safety, signal, periodSec, deadlines } = this.o;
    await warmUp({
      hardware,
      periodSec,
      ticker: this.o.ticker?.(periodSec),
      retryForSec: deadlines.staleStateSec,
      log,
      label: log.session,
      signal,
      body: (f) => void safety.filter(this.zero, f.position, f.velocity, this.safe, 0),
    });
  }

  /** An event in the session's log (findings, status). */
  event(level: "info" | "warn" | "error", message: string): void {
    this.o.log.event(level, message);
  }

  /** Runs `phase` until it is done; throws on interruption, timeout, a late-cycle limit or any hardware error. */
  async run(phase: Phase): Promise<PhaseResult> {
    const monitor = new DeadlineMonitor(this.o.deadlines, this.o.periodSec);
    const retriesBefore = readRetriesOf(this.o.hardware);
    try {
      return await this.runPhase(phase, monitor);
    } finally {
      monitor.stats.readRetries = readRetriesOf(this.o.hardware) - retriesBefore;
      addDeadlineStats(this.deadlineStats, monitor.stats);
    }
  }

  private async runPhase(phase: Phase, monitor: DeadlineMonitor): Promise<PhaseResult> {
    const { hardware: hw, log, safety, signal } = this.o;
    const ticker: Ticker = this.o.ticker?.(this.o.periodSec) ?? new PeriodicTimer(this.o.periodSec);
    const periodSec = this.o.periodSec;
    let start = NaN;
    let startSeconds = 0;
    let cycles = 0;
    let seconds = 0;
    let prevWoke = NaN;
    log.event("info", `${phase.name}: started`);
    for (;;) {
      if (signal?.aborted) throw new SessionInterruptedError(`interrupted during ${phase.name} (${abortReason(signal)})`);
      const tick = await ticker.waitNext();
      if (signal?.aborted) throw new SessionInterruptedError(`interrupted during ${phase.name} (${abortReason(signal)})`);
      // Stamped when the reading is requested, not when it arrives: the devices sample their
      // registers as the request reaches them, and the tick schedule is regular to a few
      // microseconds while the answers' arrival jitters by milliseconds (a fit that steps its
      // simulator by these stamps would see that jitter as commands held for the wrong time).
      let done = false;
      try {
        const logTime = log.now();
        const t0 = nowSec();
        const frame = await hw.read(ticker.lockstep ? undefined : { retryForSec: monitor.readSlackSeconds(t0) });
        const t1 = nowSec();
        const staleMs = ticker.lockstep ? NaN : monitor.staleSeconds(t1) * 1000;
        const staleProblem = ticker.lockstep ? undefined : monitor.freshState(t1);
        if (staleProblem) throw new DeadlineLimitError(`${phase.name}: ${staleProblem}`);
        if (Number.isNaN(start)) {
          start = frame.stamp;
          startSeconds = this.sessionSeconds(frame.stamp);
        }
        seconds = frame.stamp - start;
        this.command.fill(0);
        done = phase.step(frame, seconds, this.command);
        let written = this.zero;
        const t2 = nowSec();
        if (phase.drive) {
          safety.filter(this.command, frame.position, frame.velocity, this.safe, ticker.lockstep ? 0 : nowSec() - t0);
          await hw.write(this.safe);
          written = this.safe;
        }
        const t3 = nowSec();
        cycles++;
        // Logging after the write, as in the policy loop: the log never delays a command.
        log.jointState({ name: frame.names, position: frame.position, velocity: frame.velocity, effort: frame.effort }, logTime);
        if (phase.drive) log.command(written, logTime);
        this.recorder.push(this.sessionSeconds(frame.stamp), frame, written, phase.drive);
        const late = !ticker.lockstep && (tick.missed || t3 - tick.due > periodSec);
        const periodMs = ticker.lockstep || Number.isNaN(prevWoke) ? periodSec * 1000 : (tick.woke - prevWoke) * 1000;
        prevWoke = tick.woke;
        const cause = lateCause({ scheduling: tick.woke - tick.due, read: t1 - t0, inference: t2 - t1, write: t3 - t2 });
        const wakeLateMs = ticker.lockstep ? 0 : (tick.woke - tick.due) * 1000;
        log.timing(
          { cycle: cycles - 1, periodMs, targetPeriodMs: periodSec * 1000, readMs: (t1 - t0) * 1000, inferMs: (t2 - t1) * 1000, writeMs: (t3 - t2) * 1000, deadlineMissed: late, wakeLateMs, staleMs, lateCause: late ? cause : "" },
          logTime,
        );
        if (late) {
          log.event("warn", `${phase.name}: late cycle ${cycles} (${cause}): write done ${((t3 - tick.due) * 1000).toFixed(2)} ms after the tick (woke ${wakeLateMs.toFixed(2)}, read ${((t1 - t0) * 1000).toFixed(2)}, controller ${((t2 - t1) * 1000).toFixed(2)}, write ${((t3 - t2) * 1000).toFixed(2)} ms)`);
        }
        const lateProblem = monitor.cycle(late, cause);
        if (lateProblem) throw new DeadlineLimitError(`${phase.name}: ${lateProblem} at ${(1 / periodSec).toFixed(0)} Hz`);
      } catch (e) {
        if (!this.recoverable(e, monitor)) throw e;
        await this.recover(phase, e as Error, monitor);
        prevWoke = NaN;
        if (phase.restart) {
          phase.restart();
          start = NaN;
          cycles = 0;
          log.event("info", `${phase.name}: started again after the recovery (the run before it is incomplete)`);
        }
        continue;
      }
      if (done) break;
      if (seconds > phase.maxSeconds) throw new PhaseTimeoutError(`${phase.name} did not finish within ${Number(phase.maxSeconds.toFixed(1))} s${phase.limitDetail ? ` (${phase.limitDetail()})` : ""}`);
    }
    const misses = monitor.stats.lateCycles;
    const result = { name: phase.name, seconds, cycles, deadlineMisses: misses, deadlineStats: monitor.stats };
    this.phases.push({ ...result, startSeconds });
    log.event("info", `${phase.name}: done after ${seconds.toFixed(2)} s (${cycles} cycles, ${misses} late: ${causesText(monitor.stats)}; longest without a fresh state ${(monitor.stats.longestStaleSec * 1000).toFixed(1)} ms)`);
    return result;
  }

  /** A timing fault (a late-cycle limit, or the bus silent) with recoveries left for this session kind. */
  private recoverable(e: unknown, monitor: DeadlineMonitor): boolean {
    if (!(e instanceof DeadlineLimitError || e instanceof BusSilenceError)) return false;
    return this.deadlineStats.recoveries + monitor.stats.recoveries < this.o.deadlines.recoveries;
  }

  /**
   * Torque off, a pause, then the hardware re-activated (a Bus Watchdog that
   * tripped is re-armed) and the phase carries on from where the arm is: a
   * slow calibration move loses nothing but time. Activation failing ends the
   * session (its error propagates).
   */
  private async recover(phase: Phase, e: Error, monitor: DeadlineMonitor): Promise<void> {
    const { hardware: hw, log } = this.o;
    monitor.stats.recoveries++;
    const n = this.deadlineStats.recoveries + monitor.stats.recoveries;
    log.event("warn", `${phase.name}: ${e.message}; torque off and re-activating (recovery ${n} of ${this.o.deadlines.recoveries})`);
    await hw.deactivate();
    await new Promise((r) => setTimeout(r, RECOVERY_PAUSE_MS));
    if (phase.drive) await hw.activate();
    monitor.restart();
  }
}

/** Pause between torque off and re-activation after a timing fault: lets a stalled bus path drain. */
const RECOVERY_PAUSE_MS = 200;

function abortReason(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  if (r instanceof Error) return r.message;
  return r === undefined ? "aborted" : String(r);
}
