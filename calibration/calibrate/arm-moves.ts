/**
 * The slow arm moves of a calibration, as session phases (session-loop.ts):
 *
 * - `seekStop`: towards a hard stop until the stall detector sees the arm
 *   pressed against it; when the stop's position is expected, cruises near
 *   the cut speed while far from it and brakes to creep over the last
 *   stretch (approachSpeed); gives up (ProcedureFailedError) past the point
 *   where a stop had to be.
 * - `backOff`: a short way back from the stop, then to rest, so the arm is
 *   not left pressing on it.
 * - `moveTo`: to a position, with a speed profile that brakes in time.
 *
 * Each runs the speed loop (velocity-servo.ts) on the joint's measured speed
 * (differenced positions where the hardware reports none); the target speed
 * changes at a bounded acceleration so the pendulum is not jerked. Each
 * move's time limit follows from its distance and the speed the arm achieves
 * (move-budget.ts); the moves of one calibration share what voltage held the
 * arm at speed (HoldingVolts), so each starts near its breakaway.
 */
import type { JointStateFrame } from "../../robot/hardware/interface.js";
import { ProcedureFailedError } from "../session/session-guard.js";
import type { Phase } from "../session/session-loop.js";
import type { CalibrateMotion } from "./motion-config.js";
import { StallDetector, type Stall } from "./stall-detector.js";
import { MoveBudget, type MoveSegment } from "./move-budget.js";
import { HoldingVolts, VelocityServo } from "./velocity-servo.js";

export interface ArmChannel {
  joint: string;
  /** Index of the joint in the hardware's frame, and of its actuator in the command vector. */
  jointIndex: number;
  actuatorIndex: number;
  /** Sign of the joint's acceleration under a positive command (the rig guard's direction): commands are written times this. */
  sense: 1 | -1;
  /** Shared by the moves of one calibration: the voltage that held this arm at speed. */
  holding?: HoldingVolts;
}

/** Longest period the speed loop integrates over, in control periods. */
const MAX_DT_PERIODS = 5;

/** Shared plumbing of the three moves: period, measured speed, target ramp, servo. */
class MoveState {
  readonly servo: VelocityServo;
  /** Set by the move once it knows its distance (at its first cycle). */
  budget?: MoveBudget;
  target = 0;
  private lastSeconds = NaN;
  private lastPosition = NaN;
  dt = 0;
  position = 0;
  speed = 0;

  constructor(
    readonly m: CalibrateMotion,
    readonly arm: ArmChannel,
    private readonly periodSec: number,
  ) {
    this.servo = new VelocityServo(m, arm.holding);
  }

  /** Takes this cycle's position and speed (differenced where the hardware reports none) and the period since the last. */
  observe(frame: JointStateFrame, seconds: number): void {
    this.position = frame.position[this.arm.jointIndex]!;
    const reported = frame.velocity[this.arm.jointIndex]!;
    // Capped: after a recovery from a bus stall the gap is no period the servo should integrate over.
    this.dt = Number.isNaN(this.lastSeconds) ? this.periodSec : Math.min(MAX_DT_PERIODS * this.periodSec, Math.max(1e-4, seconds - this.lastSeconds));
    this.speed = Number.isFinite(reported) ? reported : Number.isNaN(this.lastPosition) ? 0 : (this.position - this.lastPosition) / this.dt;
    this.lastSeconds = seconds;
    this.lastPosition = this.position;
  }

  /** The move's time limit (before its first cycle: the allowance alone, never reached). */
  get limitSeconds(): number {
    return this.budget?.limitSeconds ?? Infinity;
  }

  plan(segments: MoveSegment[]): void {
    this.budget ??= new MoveBudget(this.m, segments);
  }

  /** Moves the speed target towards `desired` at the allowed acceleration; returns the servo's volts. */
  drive(desired: number): number {
    const step = this.m.acceleration * this.dt;
    this.target += Math.max(-step, Math.min(step, desired - this.target));
    this.budget?.update(this.target, this.speed, this.dt);
    return this.servo.step(this.target, this.speed, this.dt);
  }
}

export interface SeekStopOptions {
  arm: ArmChannel;
  motion: CalibrateMotion;
  periodSec: number;
  /** +1: towards the upper stop; -1: the lower. */
  direction: 1 | -1;
  /** Cruise speed, rad/s (seekSpeed when the stop is unknown, cruiseSpeed when expected). */
  speed: number;
  /** Where the stop should be (hardware units), when known: creep over the last creepZone, give up past it by overtravel. */
  expected?: number;
  /** Without an expectation: give up after this much travel from the start, rad. */
  maxTravel: number;
}

export interface SeekStopResult {
  stall?: Stall;
  /** Position where the search started. */
  start: number;
  /** Largest |speed| measured during the search. */
  peakSpeed: number;
  /** Periods the servo cut the voltage for over-speed. */
  cuts: number;
}

export function seekStop(o: SeekStopOptions): Phase & { result: SeekStopResult } {
  const s = new MoveState(o.motion, o.arm, o.periodSec);
  const stall = new StallDetector(o.motion, o.direction);
  const side = o.direction > 0 ? "upper" : "lower";
  const result: SeekStopResult = { start: NaN, peakSpeed: 0, cuts: 0 };
  const m = o.motion;
  return {
    name: `seek the ${side} stop of ${o.arm.joint}`,
    drive: true,
    get maxSeconds() {
      return s.limitSeconds;
    },
    limitDetail: () => s.budget?.describe() ?? "",
    result,
    step(frame, seconds, command) {
      s.observe(frame, seconds);
      if (Number.isNaN(result.start)) {
        result.start = s.position;
        if (o.expected === undefined) s.plan([{ distance: o.maxTravel, speed: o.speed }]);
        else {
          const distance = (o.expected - s.position) * o.direction + m.overtravel;
          s.plan([
            { distance: distance - m.creepZone, speed: o.speed },
            { distance: Math.min(distance, m.creepZone), speed: m.creepSpeed },
          ]);
        }
      }
      result.peakSpeed = Math.max(result.peakSpeed, Math.abs(s.speed));
      const travelled = (s.position - result.start) * o.direction;
      if (o.expected !== undefined) {
        const beyond = (s.position - o.expected) * o.direction;
        if (beyond > m.overtravel) {
          throw new ProcedureFailedError(
            `no ${side} stop of ${o.arm.joint} where the rig's travel puts it: the arm went ${beyond.toFixed(3)} rad past the expected position without stalling (is the stop missing, or the arm slipping on its shaft?)`,
          );
        }
      } else if (travelled > o.maxTravel) {
        throw new ProcedureFailedError(`no ${side} stop of ${o.arm.joint} within ${o.maxTravel.toFixed(2)} rad of travel (is the stop missing, or the arm slipping on its shaft?)`);
      }
      const volts = s.drive(o.direction * (o.expected === undefined ? o.speed : approachSpeed(m, o.speed, (o.expected - s.position) * o.direction)));
      if (s.servo.cut) result.cuts++;
      const found = stall.update(seconds, volts, s.speed, s.position);
      if (found) {
        result.stall = found;
        command[o.arm.actuatorIndex] = 0;
        return true;
      }
      command[o.arm.actuatorIndex] = volts * o.arm.sense;
      return false;
    },
  };
}

/**
 * Speed target towards an expected stop `remaining` rad away: `cruise` while
 * far, then down at the move's acceleration so the arm is at creepSpeed when
 * it enters the creep zone (which covers where the stop may really be), so
 * most of the travel runs near the cut speed and only the last stretch
 * creeps.
 */
export function approachSpeed(m: CalibrateMotion, cruise: number, remaining: number): number {
  const beforeCreep = remaining - m.creepZone;
  if (beforeCreep <= 0) return m.creepSpeed;
  return Math.min(cruise, Math.sqrt(m.creepSpeed * m.creepSpeed + 2 * m.acceleration * beforeCreep));
}

export interface BackOffOptions {
  arm: ArmChannel;
  motion: CalibrateMotion;
  periodSec: number;
  /** Direction of the stop being left: the move goes the other way. */
  from: 1 | -1;
}

/**
 * A joint that does not move although the loop pushes it with stallVolts or
 * more for this long, away from any stop: something holds it, or the drive
 * ignores the commands (e.g. a Bus Watchdog that stopped the motor).
 */
const STUCK_SECONDS = 1;

function stuckError(arm: ArmChannel, what: string, volts: number): ProcedureFailedError {
  return new ProcedureFailedError(`${arm.joint} does not move ${what} although ${Math.abs(volts).toFixed(1)} V push it: something holds the arm, or the motor ignores the commands`);
}

export function backOff(o: BackOffOptions): Phase {
  const s = new MoveState(o.motion, o.arm, o.periodSec);
  const m = o.motion;
  const stuck = new StallDetector({ ...m, stallSeconds: STUCK_SECONDS }, (-o.from) as 1 | -1);
  let start = NaN;
  let restSince = NaN;
  return {
    name: `back off the ${o.from > 0 ? "upper" : "lower"} stop of ${o.arm.joint}`,
    drive: true,
    get maxSeconds() {
      return s.limitSeconds;
    },
    limitDetail: () => s.budget?.describe() ?? "",
    step(frame, seconds, command) {
      s.observe(frame, seconds);
      if (Number.isNaN(start)) {
        start = s.position;
        s.plan([{ distance: m.backOff, speed: m.creepSpeed }]);
      }
      const away = (start - s.position) * o.from;
      const desired = away < m.backOff ? -o.from * m.creepSpeed : 0;
      const volts = s.drive(desired);
      if (stuck.update(seconds, volts, s.speed, s.position)) throw stuckError(o.arm, "away from the stop", volts);
      command[o.arm.actuatorIndex] = volts * o.arm.sense;
      if (desired === 0 && Math.abs(s.speed) <= m.stallSpeed) {
        if (Number.isNaN(restSince)) restSince = seconds;
        if (seconds - restSince >= 0.1) {
          command[o.arm.actuatorIndex] = 0;
          return true;
        }
      } else restSince = NaN;
      return false;
    },
  };
}

export interface MoveToOptions {
  arm: ArmChannel;
  motion: CalibrateMotion;
  periodSec: number;
  /** Target position, hardware units. */
  target: number;
  label: string;
}

export function moveTo(o: MoveToOptions): Phase {
  const s = new MoveState(o.motion, o.arm, o.periodSec);
  const m = o.motion;
  let parkedSince = NaN;
  const stuckUp = new StallDetector({ ...m, stallSeconds: STUCK_SECONDS }, 1);
  const stuckDown = new StallDetector({ ...m, stallSeconds: STUCK_SECONDS }, -1);
  return {
    name: `move ${o.arm.joint} to ${o.label}`,
    drive: true,
    get maxSeconds() {
      return s.limitSeconds;
    },
    limitDetail: () => s.budget?.describe() ?? "",
    step(frame, seconds, command) {
      s.observe(frame, seconds);
      const error = o.target - s.position;
      // The braking stretch is covered at about creep speed.
      s.plan([
        { distance: Math.abs(error) - m.creepZone, speed: m.cruiseSpeed },
        { distance: Math.min(Math.abs(error), m.creepZone), speed: m.creepSpeed },
      ]);
      // The fastest speed from which the acceleration limit still stops the arm at the target.
      const braking = Math.sqrt(2 * m.acceleration * Math.max(0, Math.abs(error) - m.parkTolerance / 2));
      const desired = Math.abs(error) <= m.parkTolerance / 2 ? 0 : Math.sign(error) * Math.min(m.cruiseSpeed, Math.max(braking, m.creepSpeed / 2));
      const volts = s.drive(desired);
      if (stuckUp.update(seconds, volts, s.speed, s.position) || stuckDown.update(seconds, volts, s.speed, s.position)) throw stuckError(o.arm, `towards ${o.label}`, volts);
      command[o.arm.actuatorIndex] = volts * o.arm.sense;
      if (Math.abs(error) <= m.parkTolerance && Math.abs(s.speed) <= m.stallSpeed) {
        if (Number.isNaN(parkedSince)) parkedSince = seconds;
        if (seconds - parkedSince >= 0.1) {
          command[o.arm.actuatorIndex] = 0;
          return true;
        }
      } else parkedSince = NaN;
      return false;
    },
  };
}
