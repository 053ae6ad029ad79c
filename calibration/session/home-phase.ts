/**
 * Bringing a calibrated joint to its start (the rig file's episodes.home,
 * e.g. the Furuta arm to its centre) as a logged session phase: the same
 * gentle PD voltage law as between deployment episodes
 * (robot/control/settle.ts), commands through the session's safety layer.
 * Not reaching the target in time is not an error here (`reached` says
 * so): what follows starts from wherever the joint is.
 */
import type { RigHome } from "../../robot/rigs/rig-config.js";
import type { Phase } from "./session-loop.js";

/** Seconds within tolerance and slow before the joint counts as home (as settle.ts). */
const HOLD_SECONDS = 0.3;
const MAX_SPEED = 0.3;

export function homePhase(o: { home: RigHome; jointIndex: number; actuatorIndex: number }): Phase & { result: { reached: boolean; error: number } } {
  const h = o.home;
  const result = { reached: false, error: NaN };
  let inSince = NaN;
  return {
    name: `home ${h.joint} to ${h.target}`,
    drive: true,
    // The phase ends itself at timeoutSeconds; the loop's limit is only a backstop.
    maxSeconds: h.timeoutSeconds + 1,
    result,
    step(frame, seconds, command) {
      const q = frame.position[o.jointIndex]!;
      const qd = Number.isFinite(frame.velocity[o.jointIndex]!) ? frame.velocity[o.jointIndex]! : 0;
      result.error = h.target - q;
      if (Math.abs(result.error) <= h.tolerance && Math.abs(qd) <= MAX_SPEED) {
        if (Number.isNaN(inSince)) inSince = seconds;
        if (seconds - inSince >= HOLD_SECONDS) {
          result.reached = true;
          return true;
        }
      } else inSince = NaN;
      if (seconds >= h.timeoutSeconds) return true;
      command[o.actuatorIndex] = Math.max(-h.maxCommand, Math.min(h.maxCommand, h.kp * result.error - h.kd * qd));
      return false;
    },
  };
}
