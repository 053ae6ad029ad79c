/**
 * A minimal Protocol Buffers wire-format reader, strict enough to tell a
 * truncated or corrupt file from a real message: every length must fit in the
 * buffer, and only the wire types protobuf defines (0, 1, 2, 5) are accepted
 * (groups, 3 and 4, are obsolete and never appear in ONNX files).
 */

export class ProtoDecodeError extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${problem} at byte ${offset}`);
    this.name = "ProtoDecodeError";
  }
}

export interface ProtoField {
  field: number;
  wireType: number;
  /** Varint value for wire type 0 (as a Number; ONNX's int64s here are small). */
  varint: number;
  /** Payload for wire types 1, 2 and 5. */
  bytes: Uint8Array;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });

export class ProtoReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Offset of `buf` in the enclosing file, so errors point at the right byte. */
    private readonly base = 0,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(problem: string): never {
    throw new ProtoDecodeError(this.base + this.pos, problem);
  }

  /** A varint as int64 (negative values are 10-byte two's complement), as a Number. */
  readVarint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail("truncated varint");
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return i < 7 ? result : this.wideVarint(start);
    }
    this.pos = start;
    return this.fail("varint longer than 10 bytes");
  }

  /** Re-reads a varint of 8+ bytes exactly (doubles lose bits past 2^53). */
  private wideVarint(start: number): number {
    let v = 0n;
    for (let i = this.pos - 1; i >= start; i--) v = (v << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, v));
  }

  /** The next field, or undefined at the end of the message. */
  next(): ProtoField | undefined {
    if (this.done) return undefined;
    const start = this.pos;
    const key = this.readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field < 1) {
      this.pos = start;
      this.fail(`invalid field number ${field}`);
    }
    const empty = this.buf.subarray(0, 0);
    switch (wireType) {
      case 0:
        return { field, wireType, varint: this.readVarint(), bytes: empty };
      case 1:
        return { field, wireType, varint: 0, bytes: this.take(8) };
      case 2: {
        const length = this.readVarint();
        if (length < 0) this.fail("negative length");
        return { field, wireType, varint: 0, bytes: this.take(length) };
      }
      case 5:
        return { field, wireType, varint: 0, bytes: this.take(4) };
      default:
        this.pos = start;
        return this.fail(`invalid wire type ${wireType} (field ${field})`);
    }
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) this.fail(`field of ${n} bytes runs past the end (truncated)`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A reader over an embedded message's payload, keeping file offsets. */
  sub(bytes: Uint8Array): ProtoReader {
    return new ProtoReader(bytes, this.base + (bytes.byteOffset - this.buf.byteOffset));
  }

  /** Decodes a length-delimited payload as UTF-8. */
  text(bytes: Uint8Array): string {
    try {
      return textDecoder.decode(bytes);
    } catch {
      return this.fail("string field is not valid UTF-8");
    }
  }
}
