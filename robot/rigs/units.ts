/**
 * Register values <-> physical units for a rig's devices, from the rig file's
 * `units` and `supplyVolts`. Pure arithmetic, shared by the host side
 * (dynamixel-rig.ts) and the emulator so they cannot disagree.
 */

import type { RigConfig } from "./rig-config.js";

export class RigUnits {
  /** Radians per encoder count. */
  readonly radPerCount: number;
  /** rad/s per Present Velocity count. */
  readonly radPerSecPerVelocityCount: number;
  readonly ampsPerCurrentCount: number;
  /** Goal PWM counts per volt. */
  readonly pwmPerVolt: number;

  constructor(
    units: RigConfig["units"],
    readonly supplyVolts: number,
    /** |Goal PWM| is never above this. */
    readonly maxGoalPwm: number,
  ) {
    this.radPerCount = (2 * Math.PI) / units.countsPerRev;
    this.radPerSecPerVelocityCount = (units.velocityRpmPerCount * 2 * Math.PI) / 60;
    this.ampsPerCurrentCount = units.currentAmpsPerCount;
    this.pwmPerVolt = units.pwmFullScale / supplyVolts;
  }

  static of(rig: RigConfig): RigUnits {
    return new RigUnits(rig.units, rig.supplyVolts, rig.safety.maxGoalPwm);
  }

  /**
   * Goal PWM for a voltage: rounded half away from zero (so +-6 V give
   * +-443 alike), then clamped to +-maxGoalPwm. Non-finite volts are refused.
   */
  voltsToPwm(volts: number): number {
    if (!Number.isFinite(volts)) throw new RangeError(`command of ${volts} V cannot be sent to the motor`);
    const raw = volts * this.pwmPerVolt;
    const rounded = Math.sign(raw) * Math.round(Math.abs(raw));
    const m = this.maxGoalPwm;
    return rounded > m ? m : rounded < -m ? -m : rounded === 0 ? 0 : rounded;
  }

  pwmToVolts(pwm: number): number {
    return pwm / this.pwmPerVolt;
  }

  /** Calibrated angle of a raw position. */
  countsToRad(counts: number, zeroCounts: number, direction: number): number {
    return (counts - zeroCounts) * this.radPerCount * direction;
  }

  velocityToRadPerSec(raw: number, direction: number): number {
    return raw * this.radPerSecPerVelocityCount * direction;
  }

  /** Present Velocity counts of an angular velocity (device direction), rounded toward zero as the device's truncation does. */
  radPerSecToVelocity(radPerSec: number): number {
    return Math.trunc(radPerSec / this.radPerSecPerVelocityCount);
  }

  currentToAmps(raw: number): number {
    return raw * this.ampsPerCurrentCount;
  }

  ampsToCurrent(amps: number): number {
    return Math.round(amps / this.ampsPerCurrentCount);
  }
}
