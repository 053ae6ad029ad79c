/**
 * Dynamixel Protocol 2.0 framing (ROBOTIS e-manual, "Protocol 2.0"):
 *
 *   FF FF FD 00 | ID | LEN_L LEN_H | INST | [ERR] PARAM... | CRC_L CRC_H
 *
 * LEN counts the bytes after itself (instruction, error byte of a status
 * packet, stuffed parameters, CRC). Everything here is pure; the streaming
 * decoder is in parser.ts and the parameter layout of each instruction in
 * instruction-params.ts.
 */

import { crc16 } from "./crc.js";
import { addStuffing } from "./stuffing.js";

export const HEADER = Object.freeze([0xff, 0xff, 0xfd, 0x00] as const);
/** Addresses every device; only Ping, Sync/Bulk Read are answered when sent to it. */
export const BROADCAST_ID = 0xfe;
/** Highest assignable ID (253 and 255 would collide with the header bytes). */
export const MAX_ID = 252;

export const Instruction = {
  Ping: 0x01,
  Read: 0x02,
  Write: 0x03,
  RegWrite: 0x04,
  Action: 0x05,
  FactoryReset: 0x06,
  Reboot: 0x08,
  Clear: 0x10,
  Status: 0x55,
  SyncRead: 0x82,
  SyncWrite: 0x83,
  BulkRead: 0x92,
  BulkWrite: 0x93,
} as const;
export type InstructionCode = (typeof Instruction)[keyof typeof Instruction];

const INSTRUCTION_NAMES = new Map<number, string>([
  [0x01, "Ping"],
  [0x02, "Read"],
  [0x03, "Write"],
  [0x04, "Reg Write"],
  [0x05, "Action"],
  [0x06, "Factory Reset"],
  [0x08, "Reboot"],
  [0x10, "Clear"],
  [0x55, "Status"],
  [0x82, "Sync Read"],
  [0x83, "Sync Write"],
  [0x92, "Bulk Read"],
  [0x93, "Bulk Write"],
]);

export function instructionName(code: number): string {
  return INSTRUCTION_NAMES.get(code) ?? `instruction 0x${code.toString(16).padStart(2, "0")}`;
}

/** Bit 7 of a status packet's error byte: the device has a hardware problem (see Hardware Error Status). */
export const ALERT_BIT = 0x80;

/** Error numbers (bits 0..6 of the error byte), with the e-manual's names. */
export const StatusErrorNumber = {
  ResultFail: 1,
  InstructionError: 2,
  CrcError: 3,
  DataRangeError: 4,
  DataLengthError: 5,
  DataLimitError: 6,
  AccessError: 7,
} as const;

const STATUS_ERROR_NAMES = ["", "Result Fail", "Instruction Error", "CRC Error", "Data Range Error", "Data Length Error", "Data Limit Error", "Access Error"];
const STATUS_ERROR_MEANINGS = [
  "",
  "the device failed to process the instruction",
  "undefined instruction, or Action without Reg Write",
  "the CRC of the instruction packet did not match",
  "the value is outside the register's range",
  "the data is shorter or longer than the register(s) it addresses",
  "the value is outside the limit set by another register",
  "the address is read-only or undefined, or EEPROM is locked because torque is on",
];

export interface StatusErrorInfo {
  /** The raw error byte. */
  byte: number;
  alert: boolean;
  /** 0 when the instruction succeeded. */
  number: number;
  /** "Result Fail" ... "Access Error", "" for 0, "Error 0x.." for numbers the manual does not define. */
  name: string;
  meaning: string;
}

export function decodeStatusError(byte: number): StatusErrorInfo {
  const number = byte & 0x7f;
  const name = number === 0 ? "" : (STATUS_ERROR_NAMES[number] ?? `Error 0x${number.toString(16).padStart(2, "0")}`);
  return { byte, alert: (byte & ALERT_BIT) !== 0, number, name, meaning: STATUS_ERROR_MEANINGS[number] ?? "undefined error number" };
}

/** A decoded packet: parameters are unstuffed. `error` is present on status packets only. */
export interface Packet {
  id: number;
  instruction: number;
  error?: number;
  params: Uint8Array;
}

function checkId(id: number, allowBroadcast: boolean): void {
  if (!Number.isInteger(id) || id < 0 || (id > MAX_ID && !(allowBroadcast && id === BROADCAST_ID))) {
    throw new RangeError(`Dynamixel ID must be an integer 0..${MAX_ID}${allowBroadcast ? " or 254 (broadcast)" : ""}, got ${id}`);
  }
}

function frame(id: number, body: Uint8Array): Uint8Array {
  const stuffed = addStuffing(body);
  const length = stuffed.length + 2;
  if (length > 0xffff) throw new RangeError(`packet too long: ${length} bytes after the length field (max 65535)`);
  const out = new Uint8Array(7 + stuffed.length + 2);
  out.set(HEADER, 0);
  out[4] = id;
  out[5] = length & 0xff;
  out[6] = length >>> 8;
  out.set(stuffed, 7);
  const crc = crc16(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >>> 8;
  return out;
}

/** An instruction packet, byte stuffing applied. */
export function encodeInstructionPacket(id: number, instruction: number, params: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkId(id, true);
  if (!Number.isInteger(instruction) || instruction < 0 || instruction > 0xff || instruction === Instruction.Status) {
    throw new RangeError(`instruction must be a byte other than 0x55 (Status), got ${instruction}`);
  }
  const body = new Uint8Array(1 + params.length);
  body[0] = instruction;
  body.set(params, 1);
  return frame(id, body);
}

/** A status packet (instruction 0x55) as a device sends it. */
export function encodeStatusPacket(id: number, error: number, params: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkId(id, false);
  if (!Number.isInteger(error) || error < 0 || error > 0xff) throw new RangeError(`status error byte must be 0..255, got ${error}`);
  const body = new Uint8Array(2 + params.length);
  body[0] = Instruction.Status;
  body[1] = error;
  body.set(params, 2);
  return frame(id, body);
}

/** "FF FF FD 00 01 ..." for messages and logs. */
export function hex(bytes: Uint8Array, max = 64): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
  return bytes.length > max ? `${shown} ... (${bytes.length} bytes)` : shown;
}
