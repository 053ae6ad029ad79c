/**
 * Streaming decoder for Protocol 2.0 packets. Serial reads arrive in arbitrary
 * pieces, possibly with line noise or the tail of an abandoned exchange in
 * front, so the parser buffers bytes, hunts for the header FF FF FD 00,
 * frames by the length field, checks the CRC and removes byte stuffing.
 * It decodes both directions (instruction and status packets): the host sees
 * status packets (and on some adapters the echo of its own instructions), the
 * virtual device sees instruction packets.
 */

import { crc16 } from "./crc.js";
import { Instruction, MAX_ID, BROADCAST_ID, type Packet } from "./protocol.js";
import { removeStuffing, StuffingError } from "./stuffing.js";

export type ParseEvent =
  | { kind: "packet"; packet: Packet; raw: Uint8Array }
  /** A complete frame whose CRC did not match: the header fields are reported but cannot be trusted. */
  | { kind: "crc-error"; id: number; instruction: number; expected: number; received: number; raw: Uint8Array }
  /** Bytes skipped while looking for a header. */
  | { kind: "garbage"; bytes: Uint8Array }
  /** CRC matched but the content is not a valid packet (bad stuffing, status packet without error byte). */
  | { kind: "malformed"; id: number; reason: string; raw: Uint8Array };

export interface PacketParserOptions {
  /**
   * Largest accepted value of the length field. A corrupted length would
   * otherwise make the parser wait for bytes that never come; frames claiming
   * more are treated as a false header. Default 4096.
   */
  maxLength?: number;
}

const MIN_LENGTH = 3; // instruction + CRC

export class PacketParser {
  private buf = new Uint8Array(256);
  private start = 0;
  private end = 0;
  private readonly maxLength: number;

  constructor(options: PacketParserOptions = {}) {
    this.maxLength = options.maxLength ?? 4096;
    if (!Number.isInteger(this.maxLength) || this.maxLength < MIN_LENGTH || this.maxLength > 0xffff) {
      throw new RangeError(`PacketParser maxLength must be an integer ${MIN_LENGTH}..65535, got ${options.maxLength}`);
    }
  }

  /** Bytes held while waiting for the rest of a packet. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Drops any partial packet (e.g. before a new request, so stale bytes cannot complete it). */
  reset(): void {
    this.start = this.end = 0;
  }

  /** Feeds received bytes; returns what became decodable, in stream order. */
  push(chunk: Uint8Array): ParseEvent[] {
    this.append(chunk);
    const events: ParseEvent[] = [];
    const b = this.buf;
    let pos = this.start;
    for (;;) {
      const h = this.findHeader(pos);
      if (h < 0) {
        // Keep up to 3 trailing bytes: they may be the start of a header.
        const keep = longestHeaderPrefixSuffix(b, pos, this.end);
        if (this.end - keep > pos) events.push({ kind: "garbage", bytes: b.slice(pos, this.end - keep) });
        pos = this.end - keep;
        break;
      }
      if (h > pos) events.push({ kind: "garbage", bytes: b.slice(pos, h) });
      pos = h;
      if (this.end - h < 7) break;
      const id = b[h + 4]!;
      const length = b[h + 5]! | (b[h + 6]! << 8);
      if ((id > MAX_ID && id !== BROADCAST_ID) || length < MIN_LENGTH || length > this.maxLength) {
        // Not a real header (e.g. noise that happens to look like one): skip its first byte and rescan.
        events.push({ kind: "garbage", bytes: b.slice(h, h + 1) });
        pos = h + 1;
        continue;
      }
      const total = 7 + length;
      if (this.end - h < total) break;
      const raw = b.slice(h, h + total);
      const expected = crc16(raw, 0, total - 2);
      const received = raw[total - 2]! | (raw[total - 1]! << 8);
      if (expected !== received) {
        events.push({ kind: "crc-error", id, instruction: raw[7]!, expected, received, raw });
        // Resume right after the header rather than after the claimed length:
        // if the length itself was corrupted, the next packet may start inside.
        pos = h + 4;
        continue;
      }
      pos = h + total;
      let body: Uint8Array;
      try {
        body = removeStuffing(raw.subarray(7, total - 2));
      } catch (e) {
        if (!(e instanceof StuffingError)) throw e;
        events.push({ kind: "malformed", id, reason: e.message, raw });
        continue;
      }
      const instruction = body[0]!;
      if (instruction === Instruction.Status) {
        if (body.length < 2) {
          events.push({ kind: "malformed", id, reason: "status packet without an error byte", raw });
          continue;
        }
        events.push({ kind: "packet", packet: { id, instruction, error: body[1]!, params: body.slice(2) }, raw });
      } else {
        events.push({ kind: "packet", packet: { id, instruction, params: body.slice(1) }, raw });
      }
    }
    this.start = pos;
    if (this.start === this.end) this.start = this.end = 0;
    return events;
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      if (held + chunk.length > this.buf.length) {
        const grown = new Uint8Array(Math.max(this.buf.length * 2, held + chunk.length));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = held;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private findHeader(from: number): number {
    const b = this.buf;
    for (let i = from; i + 3 < this.end; i++) {
      if (b[i] === 0xff && b[i + 1] === 0xff && b[i + 2] === 0xfd && b[i + 3] === 0x00) return i;
    }
    return -1;
  }
}

const HEADER_BYTES = [0xff, 0xff, 0xfd, 0x00];

function isHeaderPrefix(b: Uint8Array, from: number, end: number): boolean {
  for (let i = from; i < end; i++) if (b[i] !== HEADER_BYTES[i - from]) return false;
  return true;
}

/** Length of the longest proper prefix of the header that ends the buffer (0..3). */
function longestHeaderPrefixSuffix(b: Uint8Array, from: number, end: number): number {
  for (let k = Math.min(3, end - from); k > 0; k--) if (isHeaderPrefix(b, end - k, end)) return k;
  return 0;
}
