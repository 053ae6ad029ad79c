/**
 * A minimal Protocol Buffers wire-format encoder: just what the ONNX exporter
 * needs (varints, length-delimited fields, packed repeated scalars, fixed32
 * floats). Written here rather than taken from a library so the exporter has no
 * runtime dependency beyond Node.
 *
 * Wire format (protobuf encoding spec): a field is a key varint
 * `(fieldNumber << 3) | wireType` followed by its payload.
 *   wire type 0 = varint (int32, int64, enum, bool)
 *   wire type 2 = length-delimited (string, bytes, embedded message, packed repeated)
 *   wire type 5 = 32-bit little-endian (float, fixed32)
 * Negative int32/int64 values are sign-extended to 64 bits and take 10 bytes
 * (no zigzag: ONNX uses plain int32/int64, never sint*).
 */

export const WIRE_VARINT = 0;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_64 = 1n << 64n;
const textEncoder = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;
  private readonly view4 = new DataView(new ArrayBuffer(4));

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Raw varint of a non-negative or negative safe integer (negative ones are 64-bit two's complement). */
  varint(value: number | bigint): this {
    let v = typeof value === "bigint" ? value : BigInt(checkInteger(value));
    if (v < 0n) v += TWO_POW_64;
    if (v < 0n || v >= TWO_POW_64) throw new RangeError(`protobuf varint out of 64-bit range: ${value}`);
    // Small values (the vast majority: tags, lengths, dims) avoid BigInt arithmetic.
    if (v < 0x80000000n) {
      let n = Number(v);
      while (n >= 0x80) {
        this.byte((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.byte(n);
      return this;
    }
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) throw new RangeError(`protobuf field number out of range: ${field}`);
    return this.varint(field * 8 + wireType);
  }

  /** int32 / int64 / enum / bool field. */
  int(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** float field (wire type 5, IEEE-754 single, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.view4.setFloat32(0, value, true);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = this.view4.getUint8(i);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Embedded message: encoded into its own writer first so its length prefix is known. */
  message(field: number, encode: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    encode(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated int32/int64 (one length-delimited field holding consecutive varints). */
  packedInts(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated float (consecutive little-endian fixed32 values). */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkInteger(v: number): number {
  if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf varint needs a safe integer, got ${v}`);
  return v;
}
