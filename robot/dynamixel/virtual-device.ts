/**
 * Device side of Protocol 2.0: one servo's control-table memory and its
 * answers to instruction packets, as the XM430 e-manual and the rig page
 * describe them. Pure (no I/O, no clock): the owner passes the time in
 * milliseconds with every packet and calls tick() so the Bus Watchdog can fire
 * during silence. A simulation couples to it through onWrite (goal values the
 * host wrote) and setPresent (measurements the host will read).
 *
 * Behaviour modelled:
 * - Ping always answered; Read/Write/Reboot to the broadcast ID unanswered;
 *   Status Return Level 0/1/2 honoured.
 * - Writes must cover whole registers (else Data Length Error), only RW ones
 *   (else Access Error), EEPROM only while torque is off (else Access Error),
 *   fixed ranges (Data Range Error) and limits set by other registers, e.g.
 *   Goal PWM within ±PWM Limit (Data Limit Error). A refused write changes nothing.
 * - A hardware error (raiseHardwareError) turns torque off and sets the alert
 *   bit in every status packet until Reboot; Torque Enable = 1 then fails with
 *   Result Fail.
 * - Bus Watchdog: while torque is on, silence on the bus longer than its
 *   period (20 ms units) trips it: the motor stops, the register reads 255 and
 *   goal writes fail with Data Range Error until 0 is written to it.
 * - Reboot: answers first, then resets RAM to its power-up values (EEPROM
 *   kept), clears Hardware Error Status and the watchdog.
 */

import {
  decodeRegisterValue,
  encodeRegisterValue,
  findRegister,
  tableEnd,
  type ControlTable,
  type RegisterEntry,
} from "./control-table.js";
import { hardwareErrorMask } from "./hardware-error.js";
import {
  parseBulkReadParams,
  parseBulkWriteParams,
  parseReadParams,
  parseSyncReadParams,
  parseSyncWriteParams,
  parseWriteParams,
  pingStatusParams,
  ParamsError,
} from "./instruction-params.js";
import { ALERT_BIT, BROADCAST_ID, encodeStatusPacket, Instruction, MAX_ID, StatusErrorNumber, type Packet } from "./protocol.js";
import { XM430_W350 } from "./xm430.js";

export interface VirtualDeviceOptions {
  /** Default 1 (overrides `initial.ID`). */
  id?: number;
  /** Default XM430-W350. */
  table?: ControlTable;
  /** Firmware Version register. Default 46. */
  firmware?: number;
  /**
   * Power-up values by register name, e.g. { "Operating Mode": 16, "Baud Rate": 3 },
   * as if stored in EEPROM (RAM values set here are lost on Reboot, as on the real device).
   */
  initial?: Record<string, number>;
  /** Packets are ignored for this long after a Reboot. Default 0. */
  rebootMs?: number;
}

export type WriteListener = (name: string, value: number, register: RegisterEntry) => void;

type Reply = "ping" | "read" | "other";

const GOAL_REGISTERS = ["Goal PWM", "Goal Current", "Goal Velocity", "Goal Position"];

export class VirtualDevice {
  readonly table: ControlTable;
  readonly rebootMs: number;
  /** Instruction packets this device processed (addressed to it, broadcast, or listing it). */
  packetsHandled = 0;

  private readonly memory: Uint8Array;
  /** The register covering each address, for write validation. */
  private readonly owner: (RegisterEntry | undefined)[];
  private readonly overrides: Map<RegisterEntry, number>;
  private readonly reg: {
    id: RegisterEntry;
    torque: RegisterEntry;
    hardwareError: RegisterEntry;
    watchdog: RegisterEntry;
    statusReturnLevel: RegisterEntry;
    operatingMode: RegisterEntry;
    model: RegisterEntry;
    firmware: RegisterEntry;
    realtimeTick: RegisterEntry | undefined;
    goals: Set<RegisterEntry>;
  };
  private lastPacketMs: number | undefined;
  private tripped = false;
  private ignoreUntilMs = -Infinity;
  private readonly writeListeners = new Set<WriteListener>();
  private readonly rebootListeners = new Set<() => void>();
  private readonly watchdogListeners = new Set<() => void>();

  constructor(options: VirtualDeviceOptions = {}) {
    this.table = options.table ?? XM430_W350;
    this.rebootMs = options.rebootMs ?? 0;
    if (!(this.rebootMs >= 0)) throw new RangeError(`VirtualDevice rebootMs must be >= 0, got ${options.rebootMs}`);
    const need = (name: string) => findRegister(this.table, name);
    this.reg = {
      id: need("ID"),
      torque: need("Torque Enable"),
      hardwareError: need("Hardware Error Status"),
      watchdog: need("Bus Watchdog"),
      statusReturnLevel: need("Status Return Level"),
      operatingMode: need("Operating Mode"),
      model: need("Model Number"),
      firmware: need("Firmware Version"),
      realtimeTick: this.table.entries.find((e) => e.name === "Realtime Tick"),
      goals: new Set(this.table.entries.filter((e) => GOAL_REGISTERS.includes(e.name))),
    };
    this.memory = new Uint8Array(tableEnd(this.table));
    this.owner = new Array(this.memory.length);
    for (const e of this.table.entries) for (let a = e.address; a < e.address + e.size; a++) this.owner[a] = e;

    this.overrides = new Map();
    const initial = { ...options.initial };
    if (options.firmware !== undefined) initial["Firmware Version"] = options.firmware;
    if (options.id !== undefined) initial["ID"] = options.id;
    for (const [name, value] of Object.entries(initial)) {
      const entry = findRegister(this.table, name);
      encodeRegisterValue(entry, value); // size/sign check with a message naming the register
      this.overrides.set(entry, value);
    }
    const id = this.overrides.get(this.reg.id) ?? (this.reg.id.initial as number);
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new RangeError(`VirtualDevice ID must be 0..${MAX_ID}, got ${id}`);
    this.powerUp(this.table.entries, true);
  }

  // Owner-facing state ------------------------------------------------------

  get id(): number {
    return this.value(this.reg.id);
  }

  get torqueEnabled(): boolean {
    return this.value(this.reg.torque) === 1;
  }

  get watchdogTripped(): boolean {
    return this.tripped;
  }

  /** Hardware Error Status is non-zero: torque is off and every status packet carries the alert bit. */
  get alert(): boolean {
    return this.value(this.reg.hardwareError) !== 0;
  }

  /** The motor is driven: torque on and the Bus Watchdog not tripped. */
  get outputActive(): boolean {
    return this.torqueEnabled && !this.tripped;
  }

  /** Raw value of a register by name ("Goal PWM", "goal_pwm", ...). */
  get(name: string): number {
    return this.value(findRegister(this.table, name));
  }

  /**
   * Sets a read-only register the host observes (Present Position, Present
   * Current, Present Temperature, ...). Writable registers belong to the host;
   * hardware errors go through raiseHardwareError.
   */
  setPresent(name: string, value: number): void {
    const entry = findRegister(this.table, name);
    if (entry.access !== "R") throw new RangeError(`setPresent: ${entry.name} (${entry.address}) is written by the host, not measured by the device`);
    if (entry === this.reg.hardwareError) throw new RangeError("setPresent: use raiseHardwareError() for Hardware Error Status (it also turns torque off)");
    this.store(entry, value);
  }

  /** A hardware fault ("Overload Error", "overload", "Overheating Error", ...): torque off and alert until Reboot. */
  raiseHardwareError(name: string): void {
    this.store(this.reg.hardwareError, this.value(this.reg.hardwareError) | hardwareErrorMask(name));
    this.store(this.reg.torque, 0);
  }

  /** Called after each register a host write changed (including Sync/Bulk Write). Returns the unsubscribe function. */
  onWrite(listener: WriteListener): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  onReboot(listener: () => void): () => void {
    this.rebootListeners.add(listener);
    return () => this.rebootListeners.delete(listener);
  }

  onWatchdogTrip(listener: () => void): () => void {
    this.watchdogListeners.add(listener);
    return () => this.watchdogListeners.delete(listener);
  }

  // Bus-facing --------------------------------------------------------------

  /** Advances the device clock: Realtime Tick, and the Bus Watchdog during silence. */
  tick(nowMs: number): void {
    if (this.reg.realtimeTick) this.store(this.reg.realtimeTick, Math.floor(nowMs) % 32768);
    const period = this.value(this.reg.watchdog);
    if (this.tripped || period < 1 || period > 127 || !this.torqueEnabled || this.lastPacketMs === undefined) return;
    if (nowMs - this.lastPacketMs > period * 20) {
      this.tripped = true;
      this.store(this.reg.watchdog, 255);
      for (const l of this.watchdogListeners) l();
    }
  }

  /** Any valid instruction packet on the bus, whoever it is for, ends a silence. */
  noteBusActivity(nowMs: number): void {
    this.tick(nowMs); // the silence that just ended may already have tripped the watchdog
    this.lastPacketMs = nowMs;
  }

  /**
   * Processes an instruction packet that reached this device; returns its
   * status packet, or undefined when it stays silent (not addressed, broadcast,
   * Status Return Level, rebooting).
   */
  handle(packet: Packet, nowMs: number): Uint8Array | undefined {
    if (nowMs < this.ignoreUntilMs) return undefined;
    const id = this.id;
    const broadcast = packet.id === BROADCAST_ID;
    const unicast = packet.id === id;
    const bulk = ([Instruction.SyncRead, Instruction.SyncWrite, Instruction.BulkRead, Instruction.BulkWrite] as number[]).includes(packet.instruction);
    if (!unicast && !broadcast) return undefined;
    if (bulk && !broadcast) return this.reply(false, "other", StatusErrorNumber.InstructionError);
    this.tick(nowMs);
    try {
      switch (packet.instruction) {
        case Instruction.Ping:
          this.packetsHandled++;
          return this.reply(false, "ping", 0, pingStatusParams({ model: this.value(this.reg.model), firmware: this.value(this.reg.firmware) }));
        case Instruction.Read: {
          this.packetsHandled++;
          const { address, length } = parseReadParams(packet.params);
          const r = this.read(address, length);
          return this.reply(broadcast, "read", r.error, r.data);
        }
        case Instruction.Write: {
          this.packetsHandled++;
          const { address, data } = parseWriteParams(packet.params);
          return this.reply(broadcast, "other", this.write(address, data));
        }
        case Instruction.Reboot: {
          this.packetsHandled++;
          const answer = this.reply(broadcast, "other", 0);
          this.reboot(nowMs);
          return answer;
        }
        case Instruction.SyncRead: {
          const { address, length, ids } = parseSyncReadParams(packet.params);
          if (!ids.includes(id)) return undefined;
          this.packetsHandled++;
          const r = this.read(address, length);
          return this.reply(false, "read", r.error, r.data);
        }
        case Instruction.BulkRead: {
          const mine = parseBulkReadParams(packet.params).find((e) => e.id === id);
          if (!mine) return undefined;
          this.packetsHandled++;
          const r = this.read(mine.address, mine.length);
          return this.reply(false, "read", r.error, r.data);
        }
        case Instruction.SyncWrite: {
          const { address, entries } = parseSyncWriteParams(packet.params);
          const mine = entries.find((e) => e.id === id);
          if (mine) {
            this.packetsHandled++;
            this.write(address, mine.data);
          }
          return undefined;
        }
        case Instruction.BulkWrite: {
          const mine = parseBulkWriteParams(packet.params).find((e) => e.id === id);
          if (mine) {
            this.packetsHandled++;
            this.write(mine.address, mine.data);
          }
          return undefined;
        }
        default:
          return this.reply(broadcast, "other", StatusErrorNumber.InstructionError);
      }
    } catch (e) {
      if (!(e instanceof ParamsError)) throw e;
      return this.reply(broadcast || bulk, "other", StatusErrorNumber.DataLengthError);
    }
  }

  /** A packet for this ID arrived with a bad CRC: answer CRC Error (a broadcast one stays unanswered). */
  handleCorrupt(packetId: number, nowMs: number): Uint8Array | undefined {
    if (nowMs < this.ignoreUntilMs || packetId !== this.id) return undefined;
    return this.reply(false, "other", StatusErrorNumber.CrcError);
  }

  // Internals ---------------------------------------------------------------

  private value(entry: RegisterEntry): number {
    return decodeRegisterValue(entry, this.memory, entry.address);
  }

  private store(entry: RegisterEntry, value: number): void {
    this.memory.set(encodeRegisterValue(entry, value), entry.address);
  }

  private reply(silent: boolean, kind: Reply, error: number, params?: Uint8Array): Uint8Array | undefined {
    if (silent) return undefined;
    const level = this.value(this.reg.statusReturnLevel);
    if (kind === "read" && level < 1) return undefined;
    if (kind === "other" && level < 2) return undefined;
    const alert = this.alert ? ALERT_BIT : 0;
    return encodeStatusPacket(this.id, error | alert, error === 0 ? params : undefined);
  }

  private read(address: number, length: number): { error: number; data?: Uint8Array } {
    if (length === 0) return { error: StatusErrorNumber.DataLengthError };
    if (address + length > this.memory.length) return { error: StatusErrorNumber.AccessError };
    return { error: 0, data: this.memory.slice(address, address + length) };
  }

  /** Validates every register the write covers, then applies all of them (or none). Returns the error number. */
  private write(address: number, data: Uint8Array): number {
    const end = address + data.length;
    if (end > this.memory.length) return StatusErrorNumber.AccessError;
    const writes: { entry: RegisterEntry; value: number }[] = [];
    for (let a = address; a < end; ) {
      const entry = this.owner[a];
      if (!entry) return StatusErrorNumber.AccessError;
      if (entry.address !== a || entry.address + entry.size > end) return StatusErrorNumber.DataLengthError;
      writes.push({ entry, value: decodeRegisterValue(entry, data, a - address) });
      a += entry.size;
    }
    const next = new Map(writes.map((w) => [w.entry, w.value]));
    const after = (e: RegisterEntry) => next.get(e) ?? this.value(e);
    for (const { entry, value } of writes) {
      const error = this.refusal(entry, value, after);
      if (error) return error;
    }
    const modeChanged = next.has(this.reg.operatingMode) && next.get(this.reg.operatingMode) !== this.value(this.reg.operatingMode);
    for (const { entry, value } of writes) this.store(entry, value);
    if (next.get(this.reg.watchdog) === 0) this.tripped = false;
    if (modeChanged) this.resetForModeChange(next);
    for (const { entry, value } of writes) for (const l of this.writeListeners) l(entry.name, value, entry);
    return 0;
  }

  private refusal(entry: RegisterEntry, value: number, after: (e: RegisterEntry) => number): number {
    if (entry.access !== "RW") return StatusErrorNumber.AccessError;
    if (entry.area === "EEPROM" && this.torqueEnabled) return StatusErrorNumber.AccessError;
    if (this.tripped && this.reg.goals.has(entry)) return StatusErrorNumber.DataRangeError;
    if (this.tripped && entry === this.reg.watchdog && value !== 0) return StatusErrorNumber.DataRangeError;
    if (entry.range && (value < entry.range[0] || value > entry.range[1])) return StatusErrorNumber.DataRangeError;
    if (entry.labels && !entry.range && !(value in entry.labels)) return StatusErrorNumber.DataRangeError;
    if (entry.limit) {
      if ("symmetric" in entry.limit) {
        const max = after(findRegister(this.table, entry.limit.symmetric));
        if (Math.abs(value) > max) return StatusErrorNumber.DataLimitError;
      } else if (!entry.limit.modes || entry.limit.modes.includes(after(this.reg.operatingMode))) {
        const lo = after(findRegister(this.table, entry.limit.min));
        const hi = after(findRegister(this.table, entry.limit.max));
        if (value < lo || value > hi) return StatusErrorNumber.DataLimitError;
      }
    }
    if (entry === this.reg.torque && value === 1 && this.alert) return StatusErrorNumber.ResultFail;
    return 0;
  }

  /** The e-manual: switching Operating Mode resets Goal PWM/Current to their limits and the profile to 0. */
  private resetForModeChange(written: Map<RegisterEntry, number>): void {
    for (const e of this.table.entries) {
      if (written.has(e)) continue;
      if (typeof e.initial === "object" && this.reg.goals.has(e)) this.store(e, this.value(findRegister(this.table, e.initial.copy)));
      if (e.name === "Profile Acceleration" || e.name === "Profile Velocity") this.store(e, 0);
    }
  }

  /** Power-up values: EEPROM (when `all`) and RAM; overrides only at first power-up of EEPROM-kept values. */
  private powerUp(entries: readonly RegisterEntry[], withOverrides: boolean): void {
    const copies: RegisterEntry[] = [];
    for (const e of entries) {
      const override = withOverrides ? this.overrides.get(e) : undefined;
      if (override !== undefined) this.store(e, override);
      else if (typeof e.initial === "number") this.store(e, e.initial);
      else copies.push(e);
    }
    for (const e of copies) this.store(e, this.value(findRegister(this.table, (e.initial as { copy: string }).copy)));
  }

  private reboot(nowMs: number): void {
    // RAM written by the host returns to power-up values; measurements stay (the physics did not reboot).
    this.powerUp(
      this.table.entries.filter((e) => e.area === "RAM" && (e.access === "RW" || e === this.reg.hardwareError || e.name === "Registered Instruction")),
      false,
    );
    this.tripped = false;
    this.lastPacketMs = undefined;
    this.ignoreUntilMs = nowMs + this.rebootMs;
    for (const l of this.rebootListeners) l();
  }
}
