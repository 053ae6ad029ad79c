/**
 * A rig on a Dynamixel Protocol 2.0 bus behind the HardwareInterface, driven
 * entirely by its rig file: which IDs, which joints, which are motors (PWM,
 * i.e. voltage control) and which are encoders whose torque stays off.
 *
 * One control cycle is two packets: a Sync Read of Present Current..Present
 * Position from every device, and a Sync Write of Goal PWM to the motors. The
 * Bus Watchdog armed at activation stops the motor if this process dies or
 * hangs, without any help from it.
 */

import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { DynamixelBus } from "../dynamixel/bus.js";
import { decodeRegisterValue, encodeRegisterValue, findRegister, type ControlTable, type RegisterEntry } from "../dynamixel/control-table.js";
import { DxlError, DxlPortLostError, DxlStatusError, DxlTimeoutError } from "../dynamixel/errors.js";
import { XM430_W350 } from "../dynamixel/xm430.js";
import { openSerialTransport, SerialPortOpenError } from "../serial/serial-transport.js";
import { BusSilenceError, HardwareError, type HardwareInterface, type JointStateFrame, type ReadOptions } from "../hardware/interface.js";
import { calibrationArrays, type Calibration } from "./calibration.js";
import { rigActuators, rigJointOrder, type RigConfig, type RigDevice } from "./rig-config.js";
import { RigUnits } from "./units.js";

/** Retries of one control-loop read, whatever the slack: a bus silent for this many attempts is not coming back this cycle. */
const MAX_READ_RETRIES = 6;

const TABLES: Record<string, ControlTable> = { [XM430_W350.model]: XM430_W350 };

export function controlTableFor(model: string): ControlTable {
  const t = TABLES[model];
  if (!t) throw new Error(`no control table for Dynamixel model ${JSON.stringify(model)}; known: ${Object.keys(TABLES).join(", ")}`);
  return t;
}

export interface DynamixelRigOpenOptions {
  /** Default: the rig file's bus.baudRate. */
  baudRate?: number;
}

interface Registers {
  torque: RegisterEntry;
  mode: RegisterEntry;
  pwmLimit: RegisterEntry;
  returnDelay: RegisterEntry;
  watchdog: RegisterEntry;
  goalPwm: RegisterEntry;
  current: RegisterEntry;
  velocity: RegisterEntry;
  position: RegisterEntry;
}

function registersOf(table: ControlTable): Registers {
  const r = (name: string) => findRegister(table, name);
  return {
    torque: r("Torque Enable"),
    mode: r("Operating Mode"),
    pwmLimit: r("PWM Limit"),
    returnDelay: r("Return Delay Time"),
    watchdog: r("Bus Watchdog"),
    goalPwm: r("Goal PWM"),
    current: r("Present Current"),
    velocity: r("Present Velocity"),
    position: r("Present Position"),
  };
}

export class DynamixelRig implements HardwareInterface {
  readonly name: string;
  readonly jointNames: readonly string[];
  readonly commandNames: readonly string[];
  readonly commandUnit = "V";
  readonly effortUnit = "A";
  /** What the last deactivate() could not confirm (empty when every device acknowledged torque off). */
  lastDeactivateProblems: string[] = [];

  private readonly units: RigUnits;
  private readonly reg: Registers;
  private readonly ids: number[];
  private readonly motorIds: number[];
  /** Index in the rig's device order of each motor (command order). */
  private readonly motorIndex: number[];
  /** Per device (rig order): motor or not. */
  private readonly isMotor: boolean[];
  private readonly zero: Float64Array;
  private readonly dir: Float64Array;
  /** Sync Read window: Present Current .. end of Present Position. */
  private readonly readStart: number;
  private readonly readLength: number;
  private readonly frame: JointStateFrame;
  private readonly pwmBytes: Map<number, Uint8Array>;
  private active = false;
  /** performance.now() of the last completed exchange while active. */
  private lastExchange = 0;
  /**
   * Setup exchanges are not time-critical: wait longer and retry more than the
   * control loop does. (Repeating these writes is harmless: they set values.)
   */
  private readonly setupRequest: { timeoutMs: number; retries: number };

  constructor(
    readonly bus: DynamixelBus,
    readonly rig: RigConfig,
    calibration: Calibration,
  ) {
    const models = new Set(rig.devices.map((d) => d.model));
    if (models.size !== 1) throw new Error(`rig ${rig.name}: devices of different models on one Sync Read are not supported (${[...models].join(", ")})`);
    const table = controlTableFor(rig.devices[0]!.model);
    this.reg = registersOf(table);
    this.units = RigUnits.of(rig);
    this.name = rig.name;
    this.jointNames = rigJointOrder(rig);
    this.commandNames = rigActuators(rig);
    this.ids = rig.devices.map((d) => d.id);
    this.isMotor = rig.devices.map((d) => d.role === "motor");
    this.motorIndex = rig.devices.flatMap((d, i) => (d.role === "motor" ? [i] : []));
    this.motorIds = this.motorIndex.map((i) => rig.devices[i]!.id);
    const { zeroCounts, direction } = calibrationArrays(calibration, rig);
    this.zero = zeroCounts;
    this.dir = direction;
    const { current, position } = this.reg;
    this.readStart = current.address;
    this.readLength = position.address + position.size - current.address;
    const n = this.jointNames.length;
    this.frame = { names: this.jointNames, position: new Float64Array(n), velocity: new Float64Array(n), effort: new Float64Array(n), stamp: 0 };
    this.pwmBytes = new Map(this.motorIds.map((id) => [id, new Uint8Array(this.reg.goalPwm.size)]));
    this.setupRequest = { timeoutMs: Math.max(50, 5 * rig.bus.timeoutMs), retries: 2 };
  }

  /**
   * A Sync Read is safe to repeat: while active, a read that times out is
   * tried again as long as another whole attempt fits in the caller's slack
   * (at least the bus's own retries, the rig file's `bus.retries`; at most MAX_READ_RETRIES). A USB
   * adapter's 10-15 ms tail then costs one late cycle, not the session.
   */
  private retriesWithin(slackSec: number | undefined): { retries: number } | undefined {
    if (slackSec === undefined || !(slackSec > 0)) return undefined;
    const fit = Math.floor((slackSec * 1000) / this.bus.timeoutMs) - 1;
    return { retries: Math.max(this.bus.retries, Math.min(MAX_READ_RETRIES, fit)) };
  }

  /** Read attempts repeated after a timeout or garbled answer, since the bus opened. */
  get readRetries(): number {
    return this.bus.stats.retries;
  }

  /** Opens the serial port and the bus with the rig file's timing. */
  static async open(port: string, rig: RigConfig, calibration: Calibration, options: DynamixelRigOpenOptions = {}): Promise<DynamixelRig> {
    let transport;
    try {
      transport = await openSerialTransport(port, { baudRate: options.baudRate ?? rig.bus.baudRate });
    } catch (e) {
      if (e instanceof SerialPortOpenError) throw new HardwareError(e.message, e);
      throw e;
    }
    const bus = new DynamixelBus(transport, { timeoutMs: rig.bus.timeoutMs, retries: rig.bus.retries, table: controlTableFor(rig.devices[0]!.model) });
    return new DynamixelRig(bus, rig, calibration);
  }

  /**
   * Checks every device (present, right model, no hardware error), then
   * configures the motors with torque off (EEPROM: operating mode, PWM limit,
   * return delay; written only when different, EEPROM wears), arms the Bus
   * Watchdog, zeroes Goal PWM and turns torque on.
   */
  async activate(): Promise<void> {
    const patient = this.setupRequest;
    for (const d of this.rig.devices) {
      const ping = await this.guard(`activate: ping ${this.who(d)}`, () => this.bus.ping(d.id, patient));
      const table = controlTableFor(d.model);
      if (ping.model !== table.modelNumber) {
        throw new HardwareError(`activate: ${this.who(d)} is model number ${ping.model}, but the rig file says ${d.model} (${table.modelNumber})`);
      }
    }
    for (const d of this.rig.devices) {
      const hw = await this.guard(`activate: read Hardware Error Status of ${this.who(d)}`, () => this.bus.readHardwareError(d.id, patient));
      if (hw.raw !== 0) {
        throw new HardwareError(
          `${this.who(d)} reports Hardware Error Status ${hw.names.join(", ")} (${hw.raw}); its torque stays off until it is rebooted or power-cycled — find the cause first (overload: let the motor cool, check nothing blocks the arm)`,
        );
      }
    }
    for (const d of this.rig.devices) await this.setRegister(d, this.reg.torque, 0);
    for (const d of this.rig.devices) {
      if (this.rig.bus.returnDelayMicros !== undefined) await this.setIfDifferent(d, this.reg.returnDelay, Math.round(this.rig.bus.returnDelayMicros / 2));
      if (d.role !== "motor") continue;
      await this.setIfDifferent(d, this.reg.mode, d.operatingMode!);
      await this.setIfDifferent(d, this.reg.pwmLimit, this.rig.safety.maxGoalPwm);
    }
    for (const d of this.rig.devices) {
      if (d.role !== "motor") continue;
      await this.setRegister(d, this.reg.watchdog, 0); // clears a tripped watchdog (goal writes are refused until then)
      await this.setRegister(d, this.reg.goalPwm, 0);
      await this.setRegister(d, this.reg.watchdog, Math.round(this.rig.safety.watchdogMs / 20));
      await this.setRegister(d, this.reg.torque, 1);
    }
    this.active = true;
    this.lastExchange = performance.now();
  }

  /**
   * One Sync Read of every device; a device raising its alert bit is
   * reported with its decoded Hardware Error Status. While active the rig
   * file's (short) timeout applies; with torque off nothing is urgent and
   * the setup timing is used.
   */
  async read(options: ReadOptions = {}): Promise<JointStateFrame> {
    await this.checkSilence();
    const timing = this.active ? this.retriesWithin(options.retryForSec) : this.setupRequest;
    const results = await this.guard("read", () => this.bus.syncRead(this.ids, this.readStart, this.readLength, timing));
    this.lastExchange = performance.now();
    const f = this.frame;
    const { current, velocity, position } = this.reg;
    let alerted: number[] | undefined;
    for (let i = 0; i < this.ids.length; i++) {
      const r = results.get(this.ids[i]!)!;
      if (r.alert) (alerted ??= []).push(i);
      const d = this.dir[i]!;
      f.position[i] = this.units.countsToRad(decodeRegisterValue(position, r.data, position.address - this.readStart), this.zero[i]!, d);
      f.velocity[i] = this.units.velocityToRadPerSec(decodeRegisterValue(velocity, r.data, velocity.address - this.readStart), d);
      // Current of an encoder whose torque is off is meaningless: NaN, as the interface asks for "not reported".
      f.effort[i] = this.isMotor[i] ? this.units.currentToAmps(decodeRegisterValue(current, r.data, 0)) * d : NaN;
    }
    f.stamp = performance.now() / 1000;
    if (alerted) await this.reportAlerts(alerted);
    return f;
  }

  /** Volts per motor (command order) -> one Sync Write of Goal PWM, rounded and clamped to the rig's PWM limit. */
  async write(commands: ArrayLike<number>): Promise<void> {
    if (!this.active) throw new HardwareError(`${this.name}: write() before activate() (or after deactivate())`);
    if (commands.length !== this.motorIds.length) throw new RangeError(`${this.name}: ${commands.length} commands for ${this.motorIds.length} motors (${this.commandNames.join(", ")})`);
    for (let k = 0; k < this.motorIds.length; k++) {
      // A joint counted against the motor's direction is driven against it too.
      const pwm = this.units.voltsToPwm(commands[k]! * this.dir[this.motorIndex[k]!]!);
      this.pwmBytes.get(this.motorIds[k]!)!.set(encodeRegisterValue(this.reg.goalPwm, pwm));
    }
    await this.checkSilence();
    await this.guard("write", () => this.bus.syncWrite(this.reg.goalPwm.address, this.reg.goalPwm.size, this.pwmBytes));
    this.lastExchange = performance.now();
  }

  /**
   * After bus silence longer than the watchdog period (this process stalled),
   * the motors may have stopped themselves and would now refuse every goal
   * write without a word (Sync Write has no answer): find out, and say so.
   */
  private async checkSilence(): Promise<void> {
    if (!this.active || performance.now() - this.lastExchange <= this.rig.safety.watchdogMs) return;
    for (const d of this.rig.devices) {
      if (d.role !== "motor") continue;
      const wd = await this.guard(`read Bus Watchdog of ${this.who(d)}`, () => this.bus.readRegister(d.id, this.reg.watchdog, this.setupRequest));
      if (wd.raw === 255) {
        throw new BusSilenceError(
          `${this.who(d)}: the Bus Watchdog stopped the motor after more than ${this.rig.safety.watchdogMs} ms without bus traffic (this process stalled); goal writes are refused until the rig is activated again`,
        );
      }
    }
  }

  /**
   * Goal PWM 0 to the motors, then torque off on every device, each step on
   * its own so one failure does not skip the rest. Never throws; what could
   * not be confirmed is in lastDeactivateProblems.
   */
  async deactivate(): Promise<void> {
    this.active = false;
    if (this.portGone()) {
      this.lastDeactivateProblems = [this.portGoneText()];
      return;
    }
    const problems: string[] = [];
    try {
      for (const bytes of this.pwmBytes.values()) bytes.fill(0);
      await this.bus.syncWrite(this.reg.goalPwm.address, this.reg.goalPwm.size, this.pwmBytes);
    } catch (e) {
      problems.push(`Goal PWM 0: ${(e as Error).message}`);
    }
    for (const d of this.rig.devices) {
      try {
        await this.bus.writeRegister(d.id, this.reg.torque, 0, { retries: 1 });
      } catch (e) {
        problems.push(`torque off on ${this.who(d)}: ${(e as Error).message}`);
      }
    }
    // Silence from every device is often a port that vanished meanwhile (its node disappears a moment later).
    this.lastDeactivateProblems = problems.length > 0 && this.portGone() ? [this.portGoneText()] : problems;
  }

  /** The bus reported the port lost, or its device node no longer exists (adapter unplugged, emulator gone). */
  portGone(): boolean {
    const path = this.bus.transport.path;
    return (this.bus.lost !== undefined && !this.bus.lost.closedHere) || (isAbsolute(path) && !existsSync(path));
  }

  private portGoneText(): string {
    return `serial port ${this.bus.transport.path} is gone (${this.bus.lost?.reason ?? "its device node no longer exists"}): the devices cannot be reached; their Bus Watchdog stops the motor`;
  }

  async close(): Promise<void> {
    await this.bus.close();
  }

  // Internals ----------------------------------------------------------------

  private who(d: RigDevice): string {
    return `ID ${d.id} (${d.joint})`;
  }

  private async setRegister(d: RigDevice, entry: RegisterEntry, value: number): Promise<void> {
    await this.guard(`activate: write ${entry.name} = ${value} to ${this.who(d)}`, () => this.bus.writeRegister(d.id, entry, value, this.setupRequest));
  }

  private async setIfDifferent(d: RigDevice, entry: RegisterEntry, value: number): Promise<void> {
    const now = await this.guard(`activate: read ${entry.name} of ${this.who(d)}`, () => this.bus.readRegister(d.id, entry, this.setupRequest));
    if (now.raw !== value) await this.setRegister(d, entry, value);
  }

  /** Reads Hardware Error Status of the alerting devices and throws a HardwareError naming the errors. */
  private async reportAlerts(indices: number[]): Promise<never> {
    const parts: string[] = [];
    for (const i of indices) {
      const d = this.rig.devices[i]!;
      try {
        const hw = await this.bus.readHardwareError(d.id, { retries: 1 });
        parts.push(`${this.who(d)}: ${hw.names.join(", ") || "alert bit set but Hardware Error Status reads 0"}`);
      } catch (e) {
        parts.push(`${this.who(d)}: alert bit set (Hardware Error Status unreadable: ${(e as Error).message})`);
      }
    }
    throw new HardwareError(`hardware error: ${parts.join("; ")}; the device turned its torque off and keeps it off until rebooted`);
  }

  /** Runs a bus request and turns its failure into a HardwareError that says what was being done. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.asHardwareError(what, e);
    }
  }

  private asHardwareError(what: string, e: unknown): Error {
    if (e instanceof HardwareError) return e;
    if (e instanceof DxlPortLostError) return new HardwareError(`${this.name}: ${what}: ${e.message}`, e);
    if (e instanceof DxlStatusError && e.hardwareError) {
      return new HardwareError(`${this.name}: ${what}: hardware error ${e.hardwareError.names.join(", ")}: ${e.message}`, e);
    }
    if (e instanceof DxlTimeoutError && this.portGone()) return new HardwareError(`${this.name}: ${what}: ${this.portGoneText()}`, e);
    if (e instanceof DxlTimeoutError) return new BusSilenceError(`${this.name}: ${what}: ${e.message}`, e);
    if (e instanceof DxlError) return new HardwareError(`${this.name}: ${what}: ${e.message}`, e);
    return e instanceof Error ? e : new Error(String(e));
  }
}
