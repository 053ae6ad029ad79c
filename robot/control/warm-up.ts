/**
 * Untimed cycles before a session's first timed one. The first cycles of a
 * fresh process run the bus read, the parser, the observation, the policy
 * and the safety filter for the first time: V8 compiles them then, and their
 * data and code are not in the caches, so without this the first timed cycle
 * is late (issue 11). Warm-up cycles run those paths at the loop's period
 * with torque off: they read the bus (so the serial path and the devices'
 * Bus Watchdog see the loop's rhythm), pass the state through `body` (the
 * policy step and the safety filter on a zero command), and write nothing
 * and log nothing. A bus silence while warming costs nothing (torque is off):
 * it is logged and the warm-up carries on.
 */
import { BusSilenceError, type HardwareInterface, type JointStateFrame } from "../hardware/interface.js";
import type { SessionLog } from "../log/session-log.js";
import { PeriodicTimer } from "../timing.js";
import type { Ticker } from "./control-loop.js";

/** How long the warm-up runs: enough cycles for V8 to compile the loop's hot paths at 100-500 Hz. */
export const WARM_UP_SECONDS = 0.5;

export interface WarmUpOptions {
  hardware: HardwareInterface;
  periodSec: number;
  /** Default a PeriodicTimer at periodSec; a lockstep ticker skips the warm-up (simulated time has no deadlines). */
  ticker?: Ticker;
  /** The loop's work on a state, minus the write: e.g. observation, policy step, safety filter. */
  body?: (frame: JointStateFrame) => void;
  /** How long a read may retry (the session kind's stale-state limit), s. */
  retryForSec: number;
  log: SessionLog;
  label: string;
  signal?: AbortSignal;
  seconds?: number;
}

/** Runs the warm-up; returns the cycles run (0 in lockstep). */
export async function warmUp(o: WarmUpOptions): Promise<number> {
  const ticker: Ticker = o.ticker ?? new PeriodicTimer(o.periodSec);
  if (ticker.lockstep) return 0;
  const n = Math.max(1, Math.ceil((o.seconds ?? WARM_UP_SECONDS) / o.periodSec));
  let silences = 0;
  let i = 0;
  for (; i < n && !o.signal?.aborted; i++) {
    await ticker.waitNext();
    try {
      const frame = await o.hardware.read({ retryForSec: o.retryForSec });
      o.body?.(frame);
    } catch (e) {
      if (!(e instanceof BusSilenceError)) throw e;
      silences++;
    }
  }
  o.log.event(silences ? "warn" : "info", `${o.label}: warmed up with ${i} untimed cycles, torque off${silences ? ` (${silences} bus silence(s) while warming, harmless with torque off)` : ""}`);
  return i;
}
