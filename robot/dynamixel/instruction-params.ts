/**
 * Parameter layouts of the Protocol 2.0 instructions (e-manual, "Instruction
 * Details"): builders used by the host and the matching parsers used by the
 * virtual device. Addresses and lengths are 16-bit little-endian.
 */

import { MAX_ID } from "./protocol.js";

/** A parameter block that does not match its instruction's layout (device side). */
export class ParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParamsError";
  }
}

export interface BulkReadEntry {
  id: number;
  address: number;
  length: number;
}

export interface BulkWriteEntry {
  id: number;
  address: number;
  data: Uint8Array;
}

export interface PingInfo {
  model: number;
  firmware: number;
}

function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) throw new RangeError(`address must be an integer 0..65535, got ${address}`);
}

function checkLength(length: number, what = "length"): void {
  if (!Number.isInteger(length) || length < 1 || length > 0xffff) throw new RangeError(`${what} must be an integer 1..65535, got ${length}`);
}

function checkIds(ids: Iterable<number>): number[] {
  const list = [...ids];
  if (list.length === 0) throw new RangeError("at least one device ID is needed");
  const seen = new Set<number>();
  for (const id of list) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new RangeError(`device ID must be an integer 0..${MAX_ID}, got ${id}`);
    if (seen.has(id)) throw new RangeError(`device ID ${id} is listed twice (each device may appear once per packet)`);
    seen.add(id);
  }
  return list;
}

const u16 = (p: Uint8Array, i: number) => p[i]! | (p[i + 1]! << 8);
function put16(p: Uint8Array, i: number, v: number): void {
  p[i] = v & 0xff;
  p[i + 1] = v >>> 8;
}

// Ping ----------------------------------------------------------------------

export function pingStatusParams(info: PingInfo): Uint8Array {
  const p = new Uint8Array(3);
  put16(p, 0, info.model);
  p[2] = info.firmware;
  return p;
}

export function parsePingStatus(params: Uint8Array): PingInfo {
  if (params.length !== 3) throw new ParamsError(`Ping status carries 3 parameters (model number, firmware), got ${params.length}`);
  return { model: u16(params, 0), firmware: params[2]! };
}

// Read ----------------------------------------------------------------------

export function readParams(address: number, length: number): Uint8Array {
  checkAddress(address);
  checkLength(length);
  const p = new Uint8Array(4);
  put16(p, 0, address);
  put16(p, 2, length);
  return p;
}

export function parseReadParams(params: Uint8Array): { address: number; length: number } {
  if (params.length !== 4) throw new ParamsError(`Read takes 4 parameter bytes (address, length), got ${params.length}`);
  return { address: u16(params, 0), length: u16(params, 2) };
}

// Write ---------------------------------------------------------------------

export function writeParams(address: number, data: Uint8Array): Uint8Array {
  checkAddress(address);
  checkLength(data.length, "data length");
  const p = new Uint8Array(2 + data.length);
  put16(p, 0, address);
  p.set(data, 2);
  return p;
}

export function parseWriteParams(params: Uint8Array): { address: number; data: Uint8Array } {
  if (params.length < 3) throw new ParamsError(`Write takes an address and at least one data byte, got ${params.length} parameter bytes`);
  return { address: u16(params, 0), data: params.slice(2) };
}

// Sync Read -----------------------------------------------------------------

export function syncReadParams(address: number, length: number, ids: Iterable<number>): Uint8Array {
  checkAddress(address);
  checkLength(length);
  const list = checkIds(ids);
  const p = new Uint8Array(4 + list.length);
  put16(p, 0, address);
  put16(p, 2, length);
  p.set(list, 4);
  return p;
}

export function parseSyncReadParams(params: Uint8Array): { address: number; length: number; ids: number[] } {
  if (params.length < 5) throw new ParamsError(`Sync Read takes address, length and at least one ID, got ${params.length} parameter bytes`);
  return { address: u16(params, 0), length: u16(params, 2), ids: [...params.subarray(4)] };
}

// Sync Write ----------------------------------------------------------------

export function syncWriteParams(address: number, length: number, data: Map<number, Uint8Array> | Iterable<[number, Uint8Array]>): Uint8Array {
  checkAddress(address);
  checkLength(length);
  const entries = [...data];
  checkIds(entries.map(([id]) => id));
  for (const [id, bytes] of entries) {
    if (bytes.length !== length) throw new RangeError(`Sync Write: data for ID ${id} has ${bytes.length} bytes, expected ${length}`);
  }
  const p = new Uint8Array(4 + entries.length * (1 + length));
  put16(p, 0, address);
  put16(p, 2, length);
  let o = 4;
  for (const [id, bytes] of entries) {
    p[o++] = id;
    p.set(bytes, o);
    o += length;
  }
  return p;
}

export function parseSyncWriteParams(params: Uint8Array): { address: number; length: number; entries: { id: number; data: Uint8Array }[] } {
  if (params.length < 4) throw new ParamsError(`Sync Write takes address and length, got ${params.length} parameter bytes`);
  const address = u16(params, 0);
  const length = u16(params, 2);
  const rest = params.length - 4;
  if (length === 0 || rest === 0 || rest % (1 + length) !== 0) {
    throw new ParamsError(`Sync Write: ${rest} bytes after address/length are not a whole number of (ID + ${length} data bytes) blocks`);
  }
  const entries: { id: number; data: Uint8Array }[] = [];
  for (let o = 4; o < params.length; o += 1 + length) entries.push({ id: params[o]!, data: params.slice(o + 1, o + 1 + length) });
  return { address, length, entries };
}

// Bulk Read -----------------------------------------------------------------

export function bulkReadParams(entries: readonly BulkReadEntry[]): Uint8Array {
  checkIds(entries.map((e) => e.id));
  const p = new Uint8Array(entries.length * 5);
  entries.forEach((e, i) => {
    checkAddress(e.address);
    checkLength(e.length, `Bulk Read length for ID ${e.id}`);
    p[i * 5] = e.id;
    put16(p, i * 5 + 1, e.address);
    put16(p, i * 5 + 3, e.length);
  });
  return p;
}

export function parseBulkReadParams(params: Uint8Array): BulkReadEntry[] {
  if (params.length === 0 || params.length % 5 !== 0) throw new ParamsError(`Bulk Read takes 5 bytes (ID, address, length) per device, got ${params.length}`);
  const out: BulkReadEntry[] = [];
  for (let o = 0; o < params.length; o += 5) out.push({ id: params[o]!, address: u16(params, o + 1), length: u16(params, o + 3) });
  return out;
}

// Bulk Write ----------------------------------------------------------------

export function bulkWriteParams(entries: readonly BulkWriteEntry[]): Uint8Array {
  checkIds(entries.map((e) => e.id));
  let size = 0;
  for (const e of entries) {
    checkAddress(e.address);
    checkLength(e.data.length, `Bulk Write data length for ID ${e.id}`);
    size += 5 + e.data.length;
  }
  const p = new Uint8Array(size);
  let o = 0;
  for (const e of entries) {
    p[o] = e.id;
    put16(p, o + 1, e.address);
    put16(p, o + 3, e.data.length);
    p.set(e.data, o + 5);
    o += 5 + e.data.length;
  }
  return p;
}

export function parseBulkWriteParams(params: Uint8Array): BulkWriteEntry[] {
  const out: BulkWriteEntry[] = [];
  let o = 0;
  while (o < params.length) {
    if (params.length - o < 5) throw new ParamsError(`Bulk Write: ${params.length - o} trailing bytes do not form an (ID, address, length) block`);
    const length = u16(params, o + 3);
    if (length === 0 || o + 5 + length > params.length) throw new ParamsError(`Bulk Write: block for ID ${params[o]} claims ${length} data bytes, ${params.length - o - 5} remain`);
    out.push({ id: params[o]!, address: u16(params, o + 1), data: params.slice(o + 5, o + 5 + length) });
    o += 5 + length;
  }
  if (out.length === 0) throw new ParamsError("Bulk Write without any device block");
  return out;
}
