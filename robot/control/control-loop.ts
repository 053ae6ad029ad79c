/**
 * The fixed-rate control loop: read -> observe -> infer -> safety -> write,
 * once per period, then log. Logging comes after the write so that the log's
 * occasional chunk close never delays a command.
 *
 * It stops on: the cycle budget (episode length), the task ending the episode,
 * a late-cycle limit (deadline-policy.ts: stale state, late cycles in a row,
 * miss rate), a non-finite action, any error (hardware,
 * safety, observation), or the abort signal (SIGINT/SIGTERM). Whatever the
 * reason, the first thing done after the last write is deactivate(): zero
 * command, torque off. Only then are the stop events logged.
 *
 * A late cycle does not start a catch-up burst (the timer drops a tick that
 * is more than a period late); it is logged with its cause, and a bus read
 * that timed out is retried while the state is not yet too stale.
 */

import type { SessionLog } from "../log/session-log.js";
import { HardwareError, type HardwareInterface, type JointStateFrame } from "../hardware/interface.js";
import { SafetyFault, type Intervention, type SafetyLayer } from "../safety.js";
import { nowSec, PeriodicTimer, type TickInfo } from "../timing.js";
import { DeadlineMonitor, lateCause, type DeadlineLimits, type DeadlineStats } from "./deadline-policy.js";
import type { ObservationBuilder } from "../../sim/observation.js";
import type { ActionMap } from "./action-map.js";
import { SampleSeries, summarize } from "./sample-series.js";

/** What the loop needs of a policy (OnnxPolicy provides it). */
export interface LoopPolicy {
  step(obs: Float32Array): { action: Float32Array; osi?: Float32Array };
  reset(): void;
}

/**
 * Joints the policy sees through a camera instead of their encoders
 * (camera-perception.ts). The loop hands it a copy of the read positions;
 * it overwrites the perceived joints with the newest estimate (held between
 * frames) or says why it cannot (a stale camera), which stops the robot
 * like a stale joint state. Its time is the loop's `vision` figure.
 */
export interface LoopPerception {
  /** Overwrites the perceived joints of `position`; returns a problem (stale camera) or undefined. */
  observe(position: Float64Array): string | undefined;
  /** After the cycle's write: logs what was seen this cycle (a new frame and its estimate). */
  log(): void;
  /** A new episode: forget held estimates and frame history. */
  reset(): void;
}

/** A source of ticks: PeriodicTimer in real time, or LockstepTicker for simulated hardware. */
export interface Ticker {
  waitNext(): Promise<TickInfo>;
  /** True when time is simulated: wall-clock deadlines do not apply. */
  readonly lockstep?: boolean;
}

/** Ticks as fast as the hardware goes (yielding to the event loop between ticks, so signals and timers still run). */
export class LockstepTicker implements Ticker {
  readonly lockstep = true;
  private index = 0;
  constructor(readonly period: number) {}
  async waitNext(): Promise<TickInfo> {
    await new Promise<void>((r) => setImmediate(r));
    const t = this.index * this.period;
    return { index: this.index++, due: t, woke: t, missed: false };
  }
}

/** Physical meaning of a normalized OSI output: physical = center + halfRange × osi. */
export interface OsiLayout {
  names: readonly string[];
  center: readonly number[];
  halfRange: readonly number[];
}

export type StopReason =
  /** Ran the requested number of cycles. */
  | "completed"
  /** The task ended the episode (e.g. a hard-stop contact). */
  | "task_ended"
  | "interrupted"
  /** A late-cycle limit of the session kind (stale state, late cycles in a row, miss rate). */
  | "deadline_limit"
  | "nan_action"
  | "hardware_error"
  | "safety_fault"
  /** The session log could not be written (disk full, file size limit): no unrecorded motion. */
  | "log_error"
  | "error";

/** Reasons that are faults of the session (the robot was stopped because something went wrong). */
export const FAULT_REASONS: ReadonlySet<StopReason> = new Set(["deadline_limit", "nan_action", "hardware_error", "safety_fault", "log_error", "error"]);

export interface CycleView {
  index: number;
  /** Episode time, s (cycles × period). */
  time: number;
  frame: JointStateFrame;
  /** Commands written (after safety), in actuator order. */
  command: Float64Array;
  intervention: Intervention;
}

export interface ControlLoopOptions {
  hardware: HardwareInterface;
  policy: LoopPolicy;
  /** The shared observation builder; its joint order must be the hardware's. */
  observation: ObservationBuilder;
  actions: ActionMap;
  safety: SafetyLayer;
  log: SessionLog;
  periodSec: number;
  maxCycles: number;
  /** Late-cycle limits of this session kind (the rig's safety.deadlines.<kind>). */
  deadlines: DeadlineLimits;
  /** Default: a PeriodicTimer at periodSec. */
  ticker?: Ticker;
  signal?: AbortSignal;
  osi?: OsiLayout;
  /** After each cycle's write and logging; return true to end the episode. */
  onCycle?: (cycle: CycleView) => boolean | void;
  /** Prefix of event messages, e.g. "episode 2". */
  label?: string;
  /** Joints observed through a camera (the observation gets their estimate; logs and safety keep the encoders). */
  perception?: LoopPerception;
}

export interface TimingFigures {
  p50: number;
  p99: number;
  max: number;
}

export interface LoopResult {
  reason: StopReason;
  fault: boolean;
  /** One line for people: why the loop stopped. */
  message: string;
  error?: unknown;
  cycles: number;
  deadlineMisses: number;
  /** Late cycles by cause, longest stale state, read retries. */
  deadlineStats: DeadlineStats;
  /** Largest |command| written per actuator. */
  peakCommand: number[];
  interventions: Record<Intervention, number>;
  /** Per-cycle figures in µs: wake-up lateness, time between wake-ups, read, vision (camera perception; NaN without), inference (incl. observation and safety), write. */
  timingMicros: { jitter: TimingFigures; period: TimingFigures; read: TimingFigures; vision: TimingFigures; infer: TimingFigures; write: TimingFigures };
  /** What deactivate() could not confirm (hardware that reports it). */
  deactivateProblems: string[];
}

export async function runControlLoop(o: ControlLoopOptions): Promise<LoopResult> {
  const hw = o.hardware;
  const nAct = o.actions.size;
  const names = hw.jointNames;
  if (o.observation.jointOrder.length !== names.length || o.observation.jointOrder.some((j, i) => j !== names[i])) {
    throw new RangeError(`control loop: the observation's joint order [${o.observation.jointOrder.join(", ")}] is not the hardware's [${names.join(", ")}]`);
  }
  if (hw.commandNames.length !== nAct) throw new RangeError(`control loop: the policy has ${nAct} actions, the hardware ${hw.commandNames.length} commands`);
  const label = o.label ? `${o.label}: ` : "";
  const ticker: Ticker = o.ticker ?? new PeriodicTimer(o.periodSec);
  const periodMs = o.periodSec * 1000;
  const obs = new Float32Array(o.observation.size);
  const perceived = new Float64Array(names.length);
  const prevAction = new Float32Array(nAct);
  const clipped = new Float32Array(nAct);
  const command = new Float64Array(nAct);
  const safe = new Float64Array(nAct);
  const osiPhysical = new Float64Array(o.osi?.names.length ?? 0);
  // The log takes float64 arrays; copies made once, not per cycle.
  const obsLogged = new Float64Array(obs.length);
  const actionLogged = new Float64Array(nAct);
  const peak = new Array<number>(nAct).fill(0);
  const counts: Record<Intervention, number> = { none: 0, clamped: 0, soft_zone: 0, braking: 0 };
  const series = { jitter: new SampleSeries(o.maxCycles), period: new SampleSeries(o.maxCycles), read: new SampleSeries(o.maxCycles), vision: new SampleSeries(o.perception ? o.maxCycles : 1), infer: new SampleSeries(o.maxCycles), write: new SampleSeries(o.maxCycles) };
  let lastIntervention: Intervention = "none";
  const monitor = new DeadlineMonitor(o.deadlines, o.periodSec);
  const retriesBefore = readRetriesOf(hw);
  let cycles = 0;
  let prevWoke = NaN;
  let reason: StopReason = "completed";
  let message = `ran ${o.maxCycles} cycles`;
  let error: unknown;

  o.policy.reset();
  o.observation.reset();
  o.perception?.reset();
  o.log.event("info", `${label}control loop started: ${(1 / o.periodSec).toFixed(1)} Hz, ${o.maxCycles} cycles, late-cycle limits: state at most ${(o.deadlines.staleStateSec * 1000).toFixed(0)} ms old, ${o.deadlines.maxConsecutiveLate} late in a row, ${(o.deadlines.missRate.maxFraction * 100).toFixed(1)} % over ${o.deadlines.missRate.windowSec} s`);
  try {
    for (let cycle = 0; cycle < o.maxCycles; cycle++) {
      if (o.signal?.aborted) {
        reason = "interrupted";
        break;
      }
      const tick = await ticker.waitNext();
      if (o.signal?.aborted) {
        reason = "interrupted";
        break;
      }
      const t0 = nowSec();
      const frame = await hw.read(ticker.lockstep ? undefined : { retryForSec: monitor.readSlackSeconds(t0) });
      const t1 = nowSec();
      const staleMs = ticker.lockstep ? NaN : monitor.staleSeconds(t1) * 1000;
      const staleProblem = ticker.lockstep ? undefined : monitor.freshState(t1);
      if (staleProblem) {
        // Nothing computed from a state this late is written: the robot stops.
        reason = "deadline_limit";
        message = `cycle ${cycle}: ${staleProblem}`;
        break;
      }
      let observed = frame.position;
      if (o.perception) {
        perceived.set(frame.position);
        const cameraProblem = o.perception.observe(perceived);
        if (cameraProblem) {
          // A stale camera is a stale state: nothing computed from it is written.
          reason = "deadline_limit";
          message = `cycle ${cycle}: ${cameraProblem}`;
          break;
        }
        observed = perceived;
      }
      const tv = nowSec();
      o.observation.build(observed, prevAction, obs);
      const out = o.policy.step(obs);
      const bad = o.actions.apply(out.action, clipped, command);
      if (bad >= 0) {
        reason = "nan_action";
        message = `the policy produced a non-finite action (${o.actions.elements[bad]!.name} = ${out.action[bad]}) at cycle ${cycle}`;
        break;
      }
      // The state is as old as the read: the arm has moved on since (safety.ts).
      const intervention = o.safety.filter(command, frame.position, frame.velocity, safe, ticker.lockstep ? 0 : nowSec() - t0);
      const t2 = nowSec();
      await hw.write(safe);
      const t3 = nowSec();
      cycles++;
      prevAction.set(clipped);
      counts[intervention]++;
      for (let k = 0; k < nAct; k++) peak[k] = Math.max(peak[k]!, Math.abs(safe[k]!));
      const late = ticker.lockstep ? false : tick.missed || t3 - tick.due > o.periodSec;
      const cause = lateCause({ scheduling: tick.woke - tick.due, read: t1 - t0, vision: tv - t1, inference: t2 - tv, write: t3 - t2 });
      const measuredPeriodMs = ticker.lockstep || Number.isNaN(prevWoke) ? periodMs : (tick.woke - prevWoke) * 1000;
      if (!ticker.lockstep) {
        series.jitter.push((tick.woke - tick.due) * 1e6);
        if (!Number.isNaN(prevWoke)) series.period.push(measuredPeriodMs * 1000);
      }
      prevWoke = tick.woke;
      series.read.push((t1 - t0) * 1e6);
      if (o.perception) series.vision.push((tv - t1) * 1e6);
      series.infer.push((t2 - tv) * 1e6);
      series.write.push((t3 - t2) * 1e6);

      // Logging, after the write.
      o.log.jointState({ name: names, position: frame.position, velocity: frame.velocity, effort: frame.effort });
      o.log.command(safe);
      o.perception?.log();
      if (o.osi) for (let i = 0; i < osiPhysical.length; i++) osiPhysical[i] = o.osi.center[i]! + o.osi.halfRange[i]! * out.osi![i]!;
      obsLogged.set(obs);
      actionLogged.set(out.action);
      o.log.policy({ observation: obsLogged, action: actionLogged, value: NaN, osiNames: o.osi?.names ?? [], osiEstimate: osiPhysical });
      o.log.timing({
        cycle,
        periodMs: measuredPeriodMs,
        targetPeriodMs: periodMs,
        readMs: (t1 - t0) * 1000,
        visionMs: o.perception ? (tv - t1) * 1000 : NaN,
        inferMs: (t2 - tv) * 1000,
        writeMs: (t3 - t2) * 1000,
        deadlineMissed: late,
        wakeLateMs: ticker.lockstep ? 0 : (tick.woke - tick.due) * 1000,
        staleMs,
        lateCause: late ? cause : "",
      });
      if (intervention !== lastIntervention) {
        if (intervention !== "none") o.log.event("warn", `${label}safety: ${intervention} at cycle ${cycle} (commanded ${fmt(command)}, wrote ${fmt(safe)}; position ${fmt(frame.position)}, velocity ${fmt(frame.velocity)})`);
        lastIntervention = intervention;
      }
      if (late) o.log.event("warn", `${label}late cycle ${cycle} (${cause}): write done ${((t3 - tick.due) * 1000).toFixed(2)} ms after the tick (period ${periodMs.toFixed(2)} ms; woke ${((tick.woke - tick.due) * 1000).toFixed(2)}, read ${((t1 - t0) * 1000).toFixed(2)}, ${o.perception ? `vision ${((tv - t1) * 1000).toFixed(2)}, ` : ""}inference ${((t2 - tv) * 1000).toFixed(2)}, write ${((t3 - t2) * 1000).toFixed(2)} ms)`);
      // A log that cannot be written ends the motion at this cycle: the robot does not move unrecorded.
      const logError = o.log.error;
      if (logError) {
        reason = "log_error";
        message = `cycle ${cycle}: the session log could not be written: ${logError.message}`;
        break;
      }
      const lateProblem = late ? monitor.cycle(true, cause) : monitor.cycle(false, cause);
      if (lateProblem) {
        reason = "deadline_limit";
        message = `cycle ${cycle}: ${lateProblem}`;
        break;
      }
      if (o.onCycle?.({ index: cycle, time: (cycle + 1) * o.periodSec, frame, command: safe, intervention })) {
        reason = "task_ended";
        message = `the task ended the episode at cycle ${cycle}`;
        break;
      }
    }
  } catch (e) {
    error = e;
    reason = e instanceof HardwareError ? "hardware_error" : e instanceof SafetyFault ? "safety_fault" : "error";
    message = (e as Error)?.message ?? String(e);
  }
  if (reason === "interrupted") message = `interrupted (${abortReason(o.signal)})`;

  // Torque off first; the log can wait.
  await hw.deactivate();
  const deactivateProblems = deactivateProblemsOf(hw);

  if (deactivateProblems.length && reason !== "completed" && reason !== "task_ended") message += `; torque off not confirmed: ${deactivateProblems.join("; ")}`;
  const fault = FAULT_REASONS.has(reason);
  const deadlineStats = monitor.stats;
  deadlineStats.readRetries = readRetriesOf(hw) - retriesBefore;
  const misses = deadlineStats.lateCycles;
  try {
    if (deactivateProblems.length) o.log.event("error", `${label}torque off attempted; not confirmed: ${deactivateProblems.join("; ")}`);
    else o.log.event("info", `${label}torque off`);
    o.log.event(fault ? "error" : reason === "interrupted" ? "warn" : "info", `${label}control loop stopped (${reason}): ${message}; ${cycles} cycles, ${misses} late (${causesText(deadlineStats)}), longest without a fresh state ${(deadlineStats.longestStaleSec * 1000).toFixed(1)} ms, ${deadlineStats.readRetries} read retries`);
  } catch {
    // A log that cannot take the stop events must not hide the reason the loop stopped.
  }
  return {
    reason,
    fault,
    message,
    error,
    cycles,
    deadlineMisses: misses,
    deadlineStats,
    peakCommand: peak,
    interventions: counts,
    timingMicros: {
      jitter: summarize(series.jitter),
      period: summarize(series.period),
      read: summarize(series.read),
      vision: summarize(series.vision),
      infer: summarize(series.infer),
      write: summarize(series.write),
    },
    deactivateProblems,
  };
}

/**
 * What the hardware's last deactivate() could not confirm. HardwareInterface
 * promises only that deactivate() never throws; interfaces that can tell
 * (DynamixelRig) list their doubts in `lastDeactivateProblems`.
 */
export function deactivateProblemsOf(hw: HardwareInterface): string[] {
  return (hw as { lastDeactivateProblems?: string[] }).lastDeactivateProblems ?? [];
}

/** Read retries so far, for hardware that counts them (DynamixelRig). */
export function readRetriesOf(hw: HardwareInterface): number {
  return (hw as { readRetries?: number }).readRetries ?? 0;
}

/** "read 3, scheduling 1" (causes that occurred), or "none". */
export function causesText(s: DeadlineStats): string {
  const parts = Object.entries(s.causes)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(", ") : "none";
}

function fmt(a: ArrayLike<number>): string {
  return `[${Array.from(a, (x) => (Number.isFinite(x) ? Number(x.toFixed(3)) : x)).join(", ")}]`;
}

function abortReason(signal: AbortSignal | undefined): string {
  const r = signal?.reason as unknown;
  if (r instanceof Error) return r.message;
  return r === undefined ? "aborted" : String(r);
}
