/**
 * Between episodes: bring a joint back to its start (optional homing with a
 * gentle PD voltage law through the safety layer), then torque off and wait
 * until every joint hangs still, so each episode starts at rest as in
 * training. Durations are measured on the readings' own stamps, so the same
 * code runs against real hardware and lockstep simulation.
 */

import type { HardwareInterface } from "../hardware/interface.js";
import type { SafetyLayer } from "../safety.js";
import { PeriodicTimer } from "../timing.js";
import type { RigHome, RigSettle } from "../rigs/rig-config.js";
import type { Ticker } from "./control-loop.js";

export interface SettleResult {
  still: boolean;
  /** Seconds spent waiting (reading stamps). */
  seconds: number;
  /** Why it stopped early (interrupted). */
  interrupted?: boolean;
}

export interface SettleOptions {
  settle: RigSettle;
  signal?: AbortSignal;
  /** Default a PeriodicTimer at settle.pollHz. */
  ticker?: Ticker;
  /** Called about once a second while waiting, with the largest movement in the current window. */
  onWait?: (seconds: number, movement: number) => void;
}

/**
 * Reads until every joint stays within positionTolerance of where it was for
 * stillSeconds (torque must already be off). Gives up after timeoutSeconds.
 */
export async function waitUntilStill(hw: HardwareInterface, o: SettleOptions): Promise<SettleResult> {
  const s = o.settle;
  const ticker = o.ticker ?? new PeriodicTimer(1 / s.pollHz);
  let first = NaN;
  let anchorStamp = NaN;
  let anchor: Float64Array | undefined;
  let lastReport = NaN;
  for (;;) {
    if (o.signal?.aborted) return { still: false, seconds: 0, interrupted: true };
    await ticker.waitNext();
    const f = await hw.read();
    if (Number.isNaN(first)) first = f.stamp;
    const waited = f.stamp - first;
    let moved = 0;
    if (anchor) for (let i = 0; i < anchor.length; i++) moved = Math.max(moved, Math.abs(f.position[i]! - anchor[i]!));
    if (!anchor || moved > s.positionTolerance) {
      anchor = Float64Array.from(f.position);
      anchorStamp = f.stamp;
    } else if (f.stamp - anchorStamp >= s.stillSeconds) {
      return { still: true, seconds: waited };
    }
    if (waited >= s.timeoutSeconds) return { still: false, seconds: waited };
    if (o.onWait && (Number.isNaN(lastReport) || f.stamp - lastReport >= 1)) {
      lastReport = f.stamp;
      o.onWait(waited, moved);
    }
  }
}

export interface HomeOptions {
  home: RigHome;
  safety: SafetyLayer;
  pollHz: number;
  signal?: AbortSignal;
  ticker?: Ticker;
  /** How long a read may keep retrying a silent bus (the session kind's stale-state limit), s. */
  readRetryForSec?: number;
}

export interface HomeResult {
  reached: boolean;
  seconds: number;
  /** Final position error, rad. */
  error: number;
  interrupted?: boolean;
}

/** Seconds the joint must stay within tolerance (and slow) to count as home. */
const HOME_HOLD_SECONDS = 0.3;
const HOME_MAX_SPEED = 0.3;

/**
 * Drives `home.joint` to `home.target` with command = clamp(kp·e − kd·q̇,
 * ±maxCommand), every command through the safety layer. Activates the
 * hardware and deactivates it at the end, whatever happens.
 */
export async function homeJoint(hw: HardwareInterface, o: HomeOptions): Promise<HomeResult> {
  const h = o.home;
  const j = hw.jointNames.indexOf(h.joint);
  const a = hw.commandNames.indexOf(h.actuator);
  if (j < 0 || a < 0) throw new Error(`homing: the hardware has no joint ${h.joint} or actuator ${h.actuator}`);
  const ticker = o.ticker ?? new PeriodicTimer(1 / o.pollHz);
  const cmd = new Float64Array(hw.commandNames.length);
  const safe = new Float64Array(hw.commandNames.length);
  let start = NaN;
  let inSince = NaN;
  let err = NaN;
  await hw.activate();
  try {
    for (;;) {
      if (o.signal?.aborted) return { reached: false, seconds: 0, error: err, interrupted: true };
      await ticker.waitNext();
      const f = await hw.read(o.readRetryForSec === undefined ? undefined : { retryForSec: o.readRetryForSec });
      if (Number.isNaN(start)) start = f.stamp;
      const q = f.position[j]!;
      const qd = Number.isFinite(f.velocity[j]!) ? f.velocity[j]! : 0;
      err = h.target - q;
      if (Math.abs(err) <= h.tolerance && Math.abs(qd) <= HOME_MAX_SPEED) {
        if (Number.isNaN(inSince)) inSince = f.stamp;
        if (f.stamp - inSince >= HOME_HOLD_SECONDS) return { reached: true, seconds: f.stamp - start, error: err };
      } else inSince = NaN;
      if (f.stamp - start >= h.timeoutSeconds) return { reached: false, seconds: f.stamp - start, error: err };
      cmd.fill(0);
      cmd[a] = Math.max(-h.maxCommand, Math.min(h.maxCommand, h.kp * err - h.kd * qd));
      o.safety.filter(cmd, f.position, f.velocity, safe);
      await hw.write(safe);
    }
  } finally {
    await hw.deactivate();
  }
}
