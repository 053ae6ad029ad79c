/**
 * Host side of a Dynamixel Protocol 2.0 bus: one request in flight at a time
 * (the bus is half duplex and answers are matched by order), a timeout per
 * attempt, bounded retries for requests that are safe to repeat, and typed
 * errors. Reads and pings are retried by default; writes and reboots are only
 * repeated when the caller asks, because a write whose answer was lost may
 * well have been applied.
 */

import {
  decodeRegisterValue,
  encodeRegisterValue,
  findRegister,
  formatRegisterValue,
  toPhysical,
  type ControlTable,
  type RegisterEntry,
} from "./control-table.js";
import { DxlCrcError, DxlError, DxlPortLostError, DxlProtocolError, DxlStatusError, DxlTimeoutError } from "./errors.js";
import { decodeHardwareError, type HardwareErrorReport } from "./hardware-error.js";
import {
  bulkReadParams,
  bulkWriteParams,
  parsePingStatus,
  readParams,
  syncReadParams,
  syncWriteParams,
  writeParams,
  type BulkReadEntry,
  type BulkWriteEntry,
} from "./instruction-params.js";
import { PacketParser } from "./parser.js";
import { BROADCAST_ID, decodeStatusError, encodeInstructionPacket, Instruction, instructionName, MAX_ID, StatusErrorNumber, type Packet } from "./protocol.js";
import type { Transport } from "./transport.js";
import { XM430_W350 } from "./xm430.js";

export interface DynamixelBusOptions {
  /** Wait for a status packet this long per attempt (restarted by each expected packet of a Sync/Bulk Read). Default 50 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or CRC error, for Ping and reads. Default 2. */
  retries?: number;
  /** Also retry Write and Reboot. Default false: a lost answer does not mean the write was lost. */
  retryWrites?: boolean;
  /** Control table for readRegister/writeRegister. Default XM430-W350. */
  table?: ControlTable;
  /** When a status error carries the alert bit, read Hardware Error Status and name the cause in the error. Default true. */
  explainAlerts?: boolean;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Extra attempts; overrides the default for this request (for writes this is "asking" for retries). */
  retries?: number;
}

export interface StatusResult {
  id: number;
  /** The alert bit of the status packet: the device reports a hardware error (see readHardwareError). */
  alert: boolean;
}

export interface PingResult extends StatusResult {
  model: number;
  firmware: number;
}

export interface ReadResult extends StatusResult {
  data: Uint8Array;
}

export interface RegisterReading extends StatusResult {
  register: RegisterEntry;
  raw: number;
  /** raw × scale in `register.unit`; undefined for unitless registers. */
  value: number | undefined;
  /** e.g. "100 (11.3 %)". */
  text: string;
}

export interface ScanOptions {
  /** Per-ID wait. Default 20 ms. */
  timeoutMs?: number;
  /** Extra pings per ID. Default 0. */
  retries?: number;
  /** Stops the scan early (the devices found so far are returned). */
  signal?: AbortSignal;
}

export interface BusStats {
  requests: number;
  attempts: number;
  retries: number;
  timeouts: number;
  crcErrors: number;
  /** Status packets nobody waited for (late answers, other IDs). */
  strayPackets: number;
  garbageBytes: number;
}

/** Who must answer, and how many parameter bytes a successful answer carries. */
interface Expectation {
  ids: readonly number[];
  paramLength: (id: number) => number;
}

interface Pending {
  instruction: number;
  expect: readonly number[];
  paramLength: (id: number) => number;
  attempt: number;
  received: Map<number, Packet>;
  /** The first garbled answer (CRC mismatch or malformed packet) of this attempt. */
  garbled?: DxlCrcError | DxlProtocolError;
  garbledCount: number;
  finish(error?: unknown): void;
  restartTimer(): void;
}

const NO_ANSWER: Expectation = { ids: [], paramLength: () => 0 };
const ALL_IDS = Array.from({ length: MAX_ID + 1 }, (_, i) => i);

export class DynamixelBus {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryWrites: boolean;
  readonly table: ControlTable;
  readonly stats: BusStats = { requests: 0, attempts: 0, retries: 0, timeouts: 0, crcErrors: 0, strayPackets: 0, garbageBytes: 0 };

  private readonly parser = new PacketParser();
  private readonly explainAlerts: boolean;
  private queue: Promise<void> = Promise.resolve();
  private pending: Pending | undefined;
  private lostError: DxlPortLostError | undefined;
  private readonly unsubscribe: (() => void)[];

  constructor(
    readonly transport: Transport,
    options: DynamixelBusOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 50;
    this.retries = options.retries ?? 2;
    this.retryWrites = options.retryWrites ?? false;
    this.table = options.table ?? XM430_W350;
    this.explainAlerts = options.explainAlerts ?? true;
    if (!(this.timeoutMs > 0)) throw new RangeError(`DynamixelBus timeoutMs must be > 0, got ${options.timeoutMs}`);
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new RangeError(`DynamixelBus retries must be an integer >= 0, got ${options.retries}`);
    this.unsubscribe = [transport.onData((bytes) => this.receive(bytes)), transport.onLost((e) => this.markLost(e))];
  }

  /** Set once the port is gone or the bus closed; every later request fails with it. */
  get lost(): DxlPortLostError | undefined {
    return this.lostError;
  }

  // Requests ---------------------------------------------------------------

  async ping(id: number, options: RequestOptions = {}): Promise<PingResult> {
    checkUnicast(id);
    const [packet] = await this.request(id, Instruction.Ping, new Uint8Array(0), { ids: [id], paramLength: () => 3 }, options, true);
    let info;
    try {
      info = parsePingStatus(packet!.params);
    } catch (e) {
      throw new DxlProtocolError(`Ping to ID ${id}: ${(e as Error).message}`);
    }
    return { id, alert: isAlert(packet!), ...info };
  }

  async read(id: number, address: number, length: number, options: RequestOptions = {}): Promise<ReadResult> {
    checkUnicast(id);
    const [packet] = await this.request(id, Instruction.Read, readParams(address, length), { ids: [id], paramLength: () => length }, options, true);
    return readResult(packet!, length, Instruction.Read);
  }

  /** Unicast writes return the status; a broadcast write (ID 254) gets no answer and returns undefined. */
  async write(id: number, address: number, data: Uint8Array, options: RequestOptions = {}): Promise<StatusResult | undefined> {
    checkTarget(id);
    const expect = { ids: id === BROADCAST_ID ? [] : [id], paramLength: () => 0 };
    const [packet] = await this.request(id, Instruction.Write, writeParams(address, data), expect, options, false, `address ${address}, ${data.length} byte${data.length > 1 ? "s" : ""}`);
    return packet ? { id, alert: isAlert(packet) } : undefined;
  }

  async readRegister(id: number, register: string | RegisterEntry, options: RequestOptions = {}): Promise<RegisterReading> {
    const entry = typeof register === "string" ? findRegister(this.table, register) : register;
    const result = await this.read(id, entry.address, entry.size, options);
    const raw = decodeRegisterValue(entry, result.data);
    return { id, alert: result.alert, register: entry, raw, value: toPhysical(entry, raw), text: formatRegisterValue(entry, raw) };
  }

  /**
   * Writes a raw value (in register counts). Read-only registers, values that
   * do not fit the register and values outside its fixed range are refused
   * here, before anything is sent; limits that depend on other registers are
   * the device's to check.
   */
  async writeRegister(id: number, register: string | RegisterEntry, value: number, options: RequestOptions = {}): Promise<StatusResult | undefined> {
    const entry = typeof register === "string" ? findRegister(this.table, register) : register;
    if (entry.access !== "RW") throw new RangeError(`${entry.name} (${entry.address}) is read-only`);
    const bytes = encodeRegisterValue(entry, value);
    if (entry.range && (value < entry.range[0] || value > entry.range[1])) {
      throw new RangeError(`${entry.name} (${entry.address}) accepts ${entry.range[0]}..${entry.range[1]}, got ${value}`);
    }
    if (entry.labels && !entry.range && !(value in entry.labels)) {
      throw new RangeError(`${entry.name} (${entry.address}) accepts ${Object.entries(entry.labels).map(([v, l]) => `${v} (${l})`).join(", ")}; got ${value}`);
    }
    return this.write(id, entry.address, bytes, options);
  }

  /** Reads and decodes Hardware Error Status (address 70 on the X series). */
  async readHardwareError(id: number, options: RequestOptions = {}): Promise<HardwareErrorReport & StatusResult> {
    const reading = await this.readRegister(id, "Hardware Error Status", options);
    return { id, alert: reading.alert, ...decodeHardwareError(reading.raw) };
  }

  /** Reboot clears Hardware Error Status and resets RAM. The device answers before it restarts. */
  async reboot(id: number, options: RequestOptions = {}): Promise<StatusResult | undefined> {
    checkTarget(id);
    const expect = { ids: id === BROADCAST_ID ? [] : [id], paramLength: () => 0 };
    const [packet] = await this.request(id, Instruction.Reboot, new Uint8Array(0), expect, options, false);
    return packet ? { id, alert: isAlert(packet) } : undefined;
  }

  /** Same address and length from several devices in one exchange; every listed device must answer. */
  async syncRead(ids: readonly number[], address: number, length: number, options: RequestOptions = {}): Promise<Map<number, ReadResult>> {
    const packets = await this.request(BROADCAST_ID, Instruction.SyncRead, syncReadParams(address, length, ids), { ids, paramLength: () => length }, options, true);
    return new Map(packets.map((p) => [p.id, readResult(p, length, Instruction.SyncRead)]));
  }

  /** Same address and length to several devices; no device answers. */
  async syncWrite(address: number, length: number, data: Map<number, Uint8Array>): Promise<void> {
    await this.request(BROADCAST_ID, Instruction.SyncWrite, syncWriteParams(address, length, data), NO_ANSWER, {}, false);
  }

  async bulkRead(entries: readonly BulkReadEntry[], options: RequestOptions = {}): Promise<Map<number, ReadResult>> {
    const lengths = new Map(entries.map((e) => [e.id, e.length]));
    const expect = { ids: entries.map((e) => e.id), paramLength: (id: number) => lengths.get(id)! };
    const packets = await this.request(BROADCAST_ID, Instruction.BulkRead, bulkReadParams(entries), expect, options, true);
    return new Map(packets.map((p) => [p.id, readResult(p, lengths.get(p.id)!, Instruction.BulkRead)]));
  }

  async bulkWrite(entries: readonly BulkWriteEntry[]): Promise<void> {
    await this.request(BROADCAST_ID, Instruction.BulkWrite, bulkWriteParams(entries), NO_ANSWER, {}, false);
  }

  /** Pings each ID in turn; returns the devices that answered, in ID order. */
  async scan(ids: readonly number[] = ALL_IDS, options: ScanOptions = {}): Promise<PingResult[]> {
    const found: PingResult[] = [];
    const request = { timeoutMs: options.timeoutMs ?? 20, retries: options.retries ?? 0 };
    for (const id of ids) {
      if (options.signal?.aborted) break;
      try {
        found.push(await this.ping(id, request));
      } catch (e) {
        // Silence is the normal answer of an absent ID; a garbled answer is
        // also skipped (the caller can ping that ID again with retries).
        if (e instanceof DxlTimeoutError || e instanceof DxlCrcError) continue;
        throw e;
      }
    }
    return found;
  }

  /** Closes the port. Pending and later requests fail with DxlPortLostError. */
  async close(): Promise<void> {
    if (!this.lostError) this.markLost(new DxlPortLostError(this.transport.path, undefined, true));
    for (const u of this.unsubscribe) u();
    await this.transport.close();
  }

  // Exchange machinery -----------------------------------------------------

  private async request(
    target: number,
    instruction: number,
    params: Uint8Array,
    expect: Expectation,
    options: RequestOptions,
    idempotent: boolean,
    detail?: string,
  ): Promise<Packet[]> {
    const packet = encodeInstructionPacket(target, instruction, params);
    const retries = options.retries ?? (idempotent || this.retryWrites ? this.retries : 0);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer >= 0, got ${options.retries}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${options.timeoutMs}`);
    try {
      return await this.serialize(async () => {
        this.stats.requests++;
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.attempt(packet, instruction, target, expect, timeoutMs, attempt);
          } catch (e) {
            // Silence and garbled answers are worth another try, and so is the
            // device's "CRC Error" (our packet was garbled on the way); other
            // error answers would only repeat.
            const transient =
              e instanceof DxlTimeoutError ||
              e instanceof DxlCrcError ||
              e instanceof DxlProtocolError ||
              (e instanceof DxlStatusError && e.errorNumber === StatusErrorNumber.CrcError);
            if (!transient || attempt > retries) throw e;
            this.stats.retries++;
          }
        }
      });
    } catch (e) {
      if (e instanceof DxlStatusError && (detail || (e.alert && this.explainAlerts))) throw await this.explain(e, detail);
      throw e;
    }
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private attempt(packet: Uint8Array, instruction: number, target: number, expectation: Expectation, timeoutMs: number, attempt: number): Promise<Packet[]> {
    const expect = expectation.ids;
    if (this.lostError) return Promise.reject(this.lostError);
    this.stats.attempts++;
    this.parser.reset(); // bytes of an abandoned exchange must not complete this one
    const started = performance.now();
    return new Promise<Packet[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const pending: Pending = {
        instruction,
        expect,
        paramLength: expectation.paramLength,
        attempt,
        received: new Map(),
        garbledCount: 0,
        finish: (error?: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (this.pending === pending) this.pending = undefined;
          if (error !== undefined) return reject(error);
          if (pending.garbled) return reject(pending.garbled);
          const statusError = expect.map((id) => pending.received.get(id)!).find((p) => (p.error! & 0x7f) !== 0);
          if (statusError) return reject(new DxlStatusError(statusError.id, instruction, decodeStatusError(statusError.error!)));
          resolve(expect.map((id) => pending.received.get(id)!));
        },
        restartTimer: () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            const missing = expect.filter((id) => !pending.received.has(id));
            if (pending.garbled && missing.length <= pending.garbledCount) return pending.finish(); // the garbled packet was the missing one
            this.stats.timeouts++;
            pending.finish(new DxlTimeoutError(missing[0] ?? target, instruction, performance.now() - started, attempt, missing));
          }, timeoutMs);
        },
      };
      if (expect.length > 0) {
        this.pending = pending;
        pending.restartTimer(); // covers a write that never completes; restarted once the bytes are out
      }
      this.transport.write(packet).then(
        () => {
          if (done) return;
          if (expect.length === 0) pending.finish();
          else pending.restartTimer();
        },
        (e: unknown) => pending.finish(e instanceof DxlError ? e : new DxlPortLostError(this.transport.path, (e as Error)?.message)),
      );
    });
  }

  private receive(bytes: Uint8Array): void {
    for (const event of this.parser.push(bytes)) {
      const pending = this.pending;
      if (event.kind === "garbage") {
        this.stats.garbageBytes += event.bytes.length;
      } else if (event.kind === "crc-error" || event.kind === "malformed") {
        if (event.kind === "crc-error") this.stats.crcErrors++;
        if (!pending) continue;
        pending.garbledCount++;
        pending.garbled ??=
          event.kind === "crc-error"
            ? new DxlCrcError(event.id, pending.instruction, event.expected, event.received, pending.attempt)
            : new DxlProtocolError(`${instructionName(pending.instruction)}: malformed status packet from ID ${event.id}: ${event.reason}`);
        this.settle(pending);
      } else if (event.packet.instruction === Instruction.Status) {
        const p = event.packet;
        // A late answer to an abandoned request has the right ID but (usually)
        // the wrong size: it must not stand in for this request's answer.
        const fits = (p.error! & 0x7f) !== 0 || (pending !== undefined && p.params.length === pending.paramLength(p.id));
        if (!pending || !pending.expect.includes(p.id) || pending.received.has(p.id) || !fits) {
          this.stats.strayPackets++;
          continue;
        }
        pending.received.set(p.id, p);
        this.settle(pending);
      }
      // Instruction packets are our own transmission echoed by the adapter: ignored.
    }
  }

  /** Finishes the attempt when every expected device has answered (or garbled its answer); else waits on. */
  private settle(pending: Pending): void {
    if (pending.received.size + pending.garbledCount >= pending.expect.length) pending.finish();
    else pending.restartTimer();
  }

  private markLost(error: DxlPortLostError): void {
    this.lostError ??= error;
    this.pending?.finish(this.lostError);
  }

  /** Adds the write's context and, when the alert bit is set, the decoded Hardware Error Status. */
  private async explain(error: DxlStatusError, detail?: string): Promise<DxlStatusError> {
    let hardware: HardwareErrorReport | undefined;
    if (error.alert && this.explainAlerts && error.id <= MAX_ID && !this.lostError) {
      try {
        hardware = await this.readHardwareError(error.id, { retries: 0 });
      } catch {
        // The explanation is best effort; the original error stands.
      }
    }
    return new DxlStatusError(error.id, error.instruction, error.status, hardware, detail);
  }
}

function isAlert(packet: Packet): boolean {
  return (packet.error! & 0x80) !== 0;
}

function readResult(packet: Packet, length: number, instruction: number): ReadResult {
  if (packet.params.length !== length) {
    throw new DxlProtocolError(`${instructionName(instruction)}: ID ${packet.id} returned ${packet.params.length} data bytes, expected ${length}`);
  }
  return { id: packet.id, alert: isAlert(packet), data: packet.params };
}

function checkUnicast(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new RangeError(`device ID must be an integer 0..${MAX_ID}, got ${id}`);
}

function checkTarget(id: number): void {
  if (id !== BROADCAST_ID) checkUnicast(id);
}
