/**
 * `s2r sysid record`: a safe excitation of a calibrated rig, logged for the
 * fit. After the checks (no hardware error, positions within the stops) the
 * arm is homed to its centre, then the sysid core's default excitation
 * (a chirp, then a PRBS; calibration/sysid/excitation.ts) is played at the
 * task's control period, wrapped by its TravelKeeper so the arm stays within
 * +-1.5 rad, every command through the rig's safety layer (voltage limit and
 * hard-stop guards). The log holds, per cycle, the joint states (calibrated
 * positions, velocities, the motor current as effort) and the volts actually
 * written after the safety layer; the excitation's "started"/"done" events
 * bracket the samples the fit reads (log-dataset.ts).
 *
 * Amplitude: the default 3 V keeps the motor current (about 0.36 A at the
 * nominal 8.4 ohm) under what the servo carries continuously, so a record of
 * tens of seconds does not trip the overload the rig page warns about; 5 V
 * (the core's default) excites more but heats the motor several times faster.
 */
import type { Ticker } from "../../robot/control/control-loop.js";
import { rigSafetyLayer } from "../../robot/control/rig-safety.js";
import type { HardwareInterface } from "../../robot/hardware/interface.js";
import type { SessionLog } from "../../robot/log/session-log.js";
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { defaultExcitation, RIG_MAX_VOLTS, TravelKeeper } from "../sysid/excitation.js";
import type { SysidRig } from "../sysid/rig.js";
import { homePhase } from "./home-phase.js";
import { refuseOnImplausiblePositions } from "./preflight.js";
import { guardSession, ProcedureFailedError, type SessionEnd } from "./session-guard.js";
import { SessionLoop, type Phase } from "./session-loop.js";
import { checkRigForSysid, EXCITATION_PHASE, sysidChannels } from "./sysid-channels.js";

export const DEFAULT_EXCITATION_VOLTS = 3;

export interface SysidRecordOptions {
  /** Calibrated hardware. */
  hardware: HardwareInterface;
  rig: RigConfig;
  sysid: SysidRig;
  /** Closed by the session. */
  log: SessionLog;
  /** Excitation length, s. */
  seconds: number;
  /** Chirp phase and PRBS start state. */
  seed: number;
  /** Peak excitation volts (before the travel-keeping term); default DEFAULT_EXCITATION_VOLTS. */
  amplitude?: number;
  /** Checks before anything moves (a Dynamixel rig: refuseOnHardwareError). */
  preflight?: () => Promise<void>;
  /** After a failure: what the hardware can tell (a Dynamixel rig: diagnoseDynamixel). */
  diagnose?: () => Promise<string[]>;
  signal?: AbortSignal;
  ticker?: (periodSec: number) => Ticker;
  onStatus?: (line: string) => void;
}

export interface SysidRecordStats {
  samples: number;
  seconds: number;
  /** Largest |volts| written, largest |theta| and |alpha| seen, RMS motor current. */
  peakVolts: number;
  peakTheta: number;
  peakAlpha: number;
  rmsCurrent: number;
  /** Cycles in which the safety layer changed the command. */
  safetyInterventions: number;
  homed: boolean;
  /** Times the excitation started over after a recovery from a timing fault (the log's last run is the data). */
  restarts: number;
}

export interface SysidRecordResult {
  end: SessionEnd;
  stats: SysidRecordStats;
  loop: SessionLoop;
}

export async function runSysidRecord(o: SysidRecordOptions): Promise<SysidRecordResult> {
  const { hardware: hw, rig, log, sysid } = o;
  const ch = sysidChannels(sysid);
  const amplitude = o.amplitude ?? DEFAULT_EXCITATION_VOLTS;
  const limit = Math.min(RIG_MAX_VOLTS, rig.safety.commandLimits[ch.actuator] ?? 0);
  try {
    if (!(amplitude > 0 && amplitude <= limit)) throw new RangeError(`sysid record: the amplitude must be in (0, ${limit}] V (the rig's limit for ${ch.actuator}), got ${amplitude}`);
    if (!(o.seconds > 0)) throw new RangeError(`sysid record: seconds must be > 0, got ${o.seconds}`);
    checkRigForSysid(rig, sysid, ch, hw.jointNames, hw.commandNames);
  } catch (e) {
    // Nothing moved; the log still ends complete, saying why.
    log.event("error", `sysid record refused: ${(e as Error).message}`);
    await log.close();
    throw e;
  }
  const safety = rigSafetyLayer(rig, hw.jointNames, hw.commandNames);
  const loop = new SessionLoop({
    hardware: hw,
    log,
    periodSec: ch.controlDt,
    safety,
    deadlines: rig.safety.deadlines.sysid,
    signal: o.signal,
    ticker: o.ticker,
  });
  const theta = hw.jointNames.indexOf(ch.theta);
  const alpha = hw.jointNames.indexOf(ch.alpha);
  const motor = hw.commandNames.indexOf(ch.actuator);
  const stats: SysidRecordStats = { samples: 0, seconds: 0, peakVolts: 0, peakTheta: 0, peakAlpha: 0, rmsCurrent: 0, safetyInterventions: 0, homed: false, restarts: 0 };

  const { end } = await guardSession(hw, log, async () => {
    if (o.preflight) await o.preflight();
    await refuseOnImplausiblePositions(hw, rig);
    const signal = defaultExcitation({ seconds: o.seconds, controlDt: ch.controlDt, amplitude, seed: o.seed });
    log.event("info", `sysid record on ${rig.name}: ${signal.length} steps of ${ch.controlDt} s (chirp then PRBS, ${amplitude} V peak, seed ${o.seed}), travel kept within +-1.5 rad, voltage limit ${limit} V`);
    await loop.warmUp();
    await hw.activate();
    const home = rig.episodes.home;
    if (home && home.joint === ch.theta) {
      o.onStatus?.(`bringing ${home.joint} to ${home.target}`);
      const phase = homePhase({ home, jointIndex: theta, actuatorIndex: hw.commandNames.indexOf(home.actuator) });
      await loop.run(phase);
      stats.homed = phase.result.reached;
      if (!phase.result.reached) log.event("warn", `homing did not reach ${home.joint} = ${home.target} (error ${phase.result.error.toFixed(3)} rad); the excitation starts from there`);
    }
    const keeper = new TravelKeeper({ controlDt: ch.controlDt, maxVolts: limit });
    let k = 0;
    let restarts = 0;
    let sumI2 = 0;
    let currentSamples = 0;
    const before = { ...safety.counts };
    const excitation: Phase = {
      name: EXCITATION_PHASE,
      drive: true,
      maxSeconds: 2 * o.seconds + 5,
      step(frame, _seconds, command) {
        const th = frame.position[theta]!;
        if (Math.abs(th) > 1.9) throw new ProcedureFailedError(`${ch.theta} at ${th.toFixed(3)} rad, beyond where the travel keeper holds it: stopping the excitation`);
        command[motor] = keeper.command(signal[k]!, th);
        stats.peakTheta = Math.max(stats.peakTheta, Math.abs(th));
        stats.peakAlpha = Math.max(stats.peakAlpha, Math.abs(frame.position[alpha]!));
        const i = frame.effort[theta]!;
        if (Number.isFinite(i)) {
          sumI2 += i * i;
          currentSamples++;
        }
        k++;
        return k >= signal.length;
      },
      // The fit replays contiguous commands: after a bus silence (torque went off) the excitation plays again from its start.
      restart() {
        k = 0;
        sumI2 = 0;
        currentSamples = 0;
        keeper.reset();
        restarts++;
      },
    };
    o.onStatus?.(`exciting for ${o.seconds} s`);
    try {
      const r = await loop.run(excitation);
      stats.seconds = r.seconds;
    } finally {
      stats.samples = k;
      stats.restarts = restarts;
      stats.rmsCurrent = currentSamples ? Math.sqrt(sumI2 / currentSamples) : NaN;
      stats.safetyInterventions = (["clamped", "soft_zone", "braking"] as const).reduce((s, c) => s + safety.counts[c] - before[c], 0);
      const cmd = loop.recorder.command(ch.actuator);
      for (let i = 0; i < cmd.length; i++) if (Number.isFinite(cmd[i]!)) stats.peakVolts = Math.max(stats.peakVolts, Math.abs(cmd[i]!));
    }
  }, o.diagnose);
  return { end, stats, loop };
}
