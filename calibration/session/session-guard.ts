/**
 * Runs the body of a session on the robot so that every exit path (success,
 * a refusal, a hardware error, a timeout, Ctrl-C, a bug) ends the same way:
 * torque off first, then the reason in the log, then the log closed, so the
 * MCAP file is complete and readable whatever happened.
 */
import { deactivateProblemsOf } from "../../robot/control/control-loop.js";
import { HardwareError, type HardwareInterface } from "../../robot/hardware/interface.js";
import type { SessionLog } from "../../robot/log/session-log.js";
import { SafetyFault } from "../../robot/safety.js";
import { DeadlineLimitError, PhaseTimeoutError, SessionInterruptedError } from "./session-loop.js";

/** The session would not start: the robot is not in a state to move (a hardware error, positions beyond the stops...). */
export class SessionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionRefusedError";
  }
}

/** The procedure ran but its result fails a check (e.g. the measured travel is not the rig's). */
export class ProcedureFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProcedureFailedError";
  }
}

export type SessionOutcome = "completed" | "interrupted" | "refused" | "failed" | "hardware_error" | "timeout" | "deadline_limit" | "safety_fault" | "error";

export interface SessionEnd {
  outcome: SessionOutcome;
  /** One line for people. */
  message: string;
  /** What the final deactivate() could not confirm (empty when torque off was acknowledged). */
  deactivateProblems: string[];
  error?: unknown;
}

/** 0 completed, 130 interrupted, 1 anything else. */
export function exitCodeOf(end: SessionEnd): number {
  return end.outcome === "completed" ? 0 : end.outcome === "interrupted" ? 130 : 1;
}

function outcomeOf(e: unknown): SessionOutcome {
  if (e instanceof SessionInterruptedError) return "interrupted";
  if (e instanceof SessionRefusedError) return "refused";
  if (e instanceof ProcedureFailedError) return "failed";
  if (e instanceof HardwareError) return "hardware_error";
  if (e instanceof PhaseTimeoutError) return "timeout";
  if (e instanceof DeadlineLimitError) return "deadline_limit";
  if (e instanceof SafetyFault) return "safety_fault";
  return "error";
}

/**
 * Runs `body`; then, always: deactivate (zero command, torque off), log why
 * the session ended, close the log. Never throws for the body's errors: they
 * come back in `end` (a bug's stack goes to the log).
 */
export async function guardSession<T>(
  hardware: HardwareInterface,
  log: SessionLog,
  body: () => Promise<T>,
  /** After a failure (torque already off): what the hardware can tell about it, e.g. a tripped Bus Watchdog. */
  diagnose?: () => Promise<string[]>,
): Promise<{ value?: T; end: SessionEnd }> {
  let value: T | undefined;
  let outcome: SessionOutcome = "completed";
  let message = "completed";
  let error: unknown;
  try {
    value = await body();
  } catch (e) {
    error = e;
    outcome = outcomeOf(e);
    message = e instanceof Error ? e.message : String(e);
  }
  // Torque off before anything else, on every path.
  await hardware.deactivate();
  const deactivateProblems = deactivateProblemsOf(hardware);
  if (deactivateProblems.length && outcome !== "completed") message += `; torque off not confirmed: ${deactivateProblems.join("; ")}`;
  if (diagnose && outcome !== "completed" && outcome !== "interrupted" && outcome !== "refused") {
    try {
      const found = await diagnose();
      if (found.length) message += `; the hardware reports: ${found.join("; ")}`;
    } catch {
      // A diagnosis that fails (port gone) adds nothing to what is already known.
    }
  }
  try {
    if (deactivateProblems.length) log.event("error", `torque off attempted; not confirmed: ${deactivateProblems.join("; ")}`);
    else log.event("info", "torque off");
    if (outcome === "error" && error instanceof Error && error.stack) log.event("error", error.stack);
    const level = outcome === "completed" ? "info" : outcome === "interrupted" ? "warn" : "error";
    log.event(level, `${log.session} session ended (${outcome}): ${message}`);
  } catch {
    // A log that cannot take the last events must not hide why the session ended.
  }
  await log.close();
  return { value, end: { outcome, message, deactivateProblems, error } };
}
