/**
 * One calibration session on a rig: the hardware's own checks (e.g. no
 * device reports a hardware error), the procedure (calibrate-procedure.ts),
 * and the calibration built from what it measured; everything guarded so
 * that torque is off and the log is closed on every exit path.
 *
 * Before the calibration exists, the safety layer can only limit the
 * voltage: its hard-stop guards need calibrated positions. The voltage
 * limit is the motion's cap (3 V by default, half the rig's limit), and the
 * slowness of the moves (motion-config.ts) does the rest.
 */
import type { Ticker } from "../../robot/control/control-loop.js";
import type { HardwareInterface } from "../../robot/hardware/interface.js";
import type { SessionLog } from "../../robot/log/session-log.js";
import type { Calibration } from "../../robot/rigs/calibration.js";
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { SafetyLayer } from "../../robot/safety.js";
import { guardSession, type SessionEnd } from "../session/session-guard.js";
import { SessionLoop } from "../session/session-loop.js";
import { runCalibrateProcedure } from "./calibrate-procedure.js";
import { calibrationFromFindings, findingsOf, type JointFindings } from "./calibration-result.js";
import { calibrateMotion, type CalibrateMotion } from "./motion-config.js";

export interface CalibrateSessionOptions {
  /** Read with the provisional calibration (raw encoder angles). */
  hardware: HardwareInterface;
  rig: RigConfig;
  /** Closed by the session. */
  log: SessionLog;
  /** Checks before anything moves (a Dynamixel rig: refuseOnHardwareError). */
  preflight?: () => Promise<void>;
  /** After a failure: what the hardware can tell (a Dynamixel rig: diagnoseDynamixel). */
  diagnose?: () => Promise<string[]>;
  motion?: Partial<CalibrateMotion>;
  /** Control period, s; default the rig's slowest (control.maxPeriodSec). */
  periodSec?: number;
  signal?: AbortSignal;
  ticker?: (periodSec: number) => Ticker;
  /** Lines for the person at the rig. */
  onStatus?: (line: string) => void;
}

export interface CalibrateSessionResult {
  end: SessionEnd;
  motion: CalibrateMotion;
  /** Per joint, what was measured (present once the procedure completed). */
  findings?: JointFindings[];
  calibration?: Calibration;
  /** The session's cycles and phases, for its report. */
  loop: SessionLoop;
}

export async function runCalibrateSession(o: CalibrateSessionOptions): Promise<CalibrateSessionResult> {
  const { hardware: hw, rig, log } = o;
  let motion: CalibrateMotion;
  try {
    motion = calibrateMotion(o.motion);
  } catch (e) {
    log.event("error", `calibrate refused: ${(e as Error).message}`);
    await log.close();
    throw e;
  }
  const periodSec = o.periodSec ?? rig.control.maxPeriodSec;
  const limits = hw.commandNames.map((a) => Math.min(rig.safety.commandLimits[a] ?? 0, motion.maxVolts));
  const loop = new SessionLoop({
    hardware: hw,
    log,
    periodSec,
    safety: new SafetyLayer({ commandLimits: limits, guards: [] }),
    deadlines: rig.safety.deadlines.calibrate,
    signal: o.signal,
    ticker: o.ticker,
  });
  const { value, end } = await guardSession(hw, log, async () => {
    log.event(
      "info",
      `calibrate ${rig.name} at ${(1 / periodSec).toFixed(0)} Hz: speeds ${motion.seekSpeed}/${motion.cruiseSpeed}/${motion.creepSpeed} rad/s (cut above ${motion.cutSpeed}, limit ${motion.speedLimit}), voltage cap ${motion.maxVolts} V, stall at ${motion.stallVolts} V for ${motion.stallSeconds} s`,
    );
    if (o.preflight) await o.preflight();
    const measurement = await runCalibrateProcedure({ loop, rig, motion, onStatus: o.onStatus });
    const findings = findingsOf(rig, measurement);
    const calibration = calibrationFromFindings(rig, findings);
    for (const f of findings) log.event("info", `calibrated ${f.joint}: ${JSON.stringify(f)}`);
    return { findings, calibration };
  }, o.diagnose);
  return { end, motion, loop, findings: value?.findings, calibration: value?.calibration };
}
