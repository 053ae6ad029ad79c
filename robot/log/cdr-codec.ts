/**
 * CDR (XCDR1, little-endian, the ROS 2 wire format) encoding and decoding of
 * plain JS objects, driven by parsed ros2msg definitions. Field values use the
 * .msg field names; 64-bit integers decode to bigint, other numbers to number,
 * arrays to plain arrays (uint8/byte arrays to Uint8Array).
 */
import { CdrReader, CdrWriter } from "@foxglove/cdr";
import type { MsgDefinitions, MsgField, MsgType, PrimitiveType } from "./ros2msg.js";

export class CdrEncodeError extends Error {
  constructor(
    readonly fieldPath: string,
    readonly problem: string,
  ) {
    super(`${fieldPath}: ${problem}`);
    this.name = "CdrEncodeError";
  }
}

export interface MessageCodec {
  readonly typeName: string;
  /** Throws CdrEncodeError naming the field when the value does not fit the schema. */
  encode(value: unknown): Uint8Array;
  decode(data: Uint8Array): Record<string, unknown>;
}

const INT_RANGE: Partial<Record<PrimitiveType, [number, number]>> = {
  byte: [0, 0xff],
  char: [0, 0xff],
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v.length > 30 ? v.slice(0, 30) + "..." : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "object" && v !== null) return "an object";
  return String(v);
}

/** Builds an encoder/decoder pair for the root type of `defs`. */
export function createCodec(defs: MsgDefinitions): MessageCodec {
  const types = defs.types;
  const rootType = types.get(defs.root)!;
  // Grows to the largest message seen so most encodes allocate one buffer of the right size.
  let sizeHint = 64;
  return {
    typeName: defs.root,
    encode(value: unknown): Uint8Array {
      const w = new CdrWriter({ size: sizeHint });
      writeStruct(w, rootType, value, types);
      const data = w.data;
      if (data.byteLength > sizeHint) sizeHint = data.byteLength;
      return data;
    },
    decode(data: Uint8Array): Record<string, unknown> {
      return readStruct(new CdrReader(data), rootType, types);
    },
  };
}

function writeStruct(w: CdrWriter, t: MsgType, value: unknown, types: Map<string, MsgType>): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CdrEncodeError("(message)", `expected an object of type ${t.name}, got ${describe(value)}`);
  const obj = value as Record<string, unknown>;
  // An empty message still takes one byte on the wire (ROS 2 adds structure_needs_at_least_one_member).
  if (t.fields.length === 0) {
    w.uint8(0);
    return;
  }
  for (const f of t.fields) {
    try {
      writeField(w, f, obj[f.name], types);
    } catch (e) {
      if (e instanceof CdrEncodeError) throw new CdrEncodeError(joinPath(f.name, e.fieldPath), e.problem);
      throw e;
    }
  }
}

function writeField(w: CdrWriter, f: MsgField, v: unknown, types: Map<string, MsgType>): void {
  if (f.array === "none") {
    if (f.isPrimitive) writePrimitive(w, f, f.type as PrimitiveType, v);
    else writeStruct(w, types.get(f.type)!, v, types);
    return;
  }
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new CdrEncodeError("(message)", `expected an array of ${f.type}, got ${describe(v)}`);
  }
  const arr = v as ArrayLike<unknown>;
  if (f.array === "fixed" && arr.length !== f.arrayLength) throw new CdrEncodeError("(message)", `expected exactly ${f.arrayLength} elements, got ${arr.length}`);
  if (f.arrayBound !== undefined && arr.length > f.arrayBound) throw new CdrEncodeError("(message)", `expected at most ${f.arrayBound} elements, got ${arr.length}`);
  if (f.array === "sequence") w.sequenceLength(arr.length);
  // Image payloads: one copy instead of a checked write per byte.
  if ((f.type === "uint8" || f.type === "byte") && arr instanceof Uint8Array) {
    w.uint8Array(arr, false);
    return;
  }
  if (f.type === "float64" && allNumbers(arr)) {
    w.float64Array(arr as number[] | Float64Array, false);
    return;
  }
  for (let i = 0; i < arr.length; i++) {
    try {
      if (f.isPrimitive) writePrimitive(w, f, f.type as PrimitiveType, arr[i]);
      else writeStruct(w, types.get(f.type)!, arr[i], types);
    } catch (e) {
      if (e instanceof CdrEncodeError) throw new CdrEncodeError(joinPath(`[${i}]`, e.fieldPath), e.problem);
      throw e;
    }
  }
}

/** "position" + "[0]" -> "position[0]"; "header" + "stamp.sec" -> "header.stamp.sec". */
function joinPath(outer: string, inner: string): string {
  if (inner === "(message)") return outer;
  return inner.startsWith("[") ? outer + inner : `${outer}.${inner}`;
}

function allNumbers(arr: ArrayLike<unknown>): boolean {
  if (arr instanceof Float64Array) return true;
  for (let i = 0; i < arr.length; i++) if (typeof arr[i] !== "number") return false;
  return true;
}

function writePrimitive(w: CdrWriter, f: MsgField, type: PrimitiveType, v: unknown): void {
  switch (type) {
    case "float64":
    case "float32":
      // NaN and infinities are legitimate samples (e.g. "no estimate yet").
      if (typeof v !== "number") throw new CdrEncodeError("(message)", `expected a ${type}, got ${describe(v)}`);
      if (type === "float64") w.float64(v);
      else w.float32(v);
      return;
    case "bool":
      if (typeof v !== "boolean") throw new CdrEncodeError("(message)", `expected a bool, got ${describe(v)}`);
      w.uint8(v ? 1 : 0);
      return;
    case "string":
      if (typeof v !== "string") throw new CdrEncodeError("(message)", `expected a string, got ${describe(v)}`);
      if (f.stringBound !== undefined && v.length > f.stringBound) throw new CdrEncodeError("(message)", `expected at most ${f.stringBound} characters, got ${v.length}`);
      writeString(w, v);
      return;
    case "int64":
    case "uint64": {
      let b: bigint;
      if (typeof v === "bigint") b = v;
      else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
      else throw new CdrEncodeError("(message)", `expected an ${type} (integer number or bigint), got ${describe(v)}`);
      if (type === "uint64" ? b < 0n || b > 0xffffffffffffffffn : b < -(1n << 63n) || b >= 1n << 63n) throw new CdrEncodeError("(message)", `${b} is out of range for ${type}`);
      if (type === "uint64") w.uint64(b);
      else w.int64(b);
      return;
    }
    default: {
      const [lo, hi] = INT_RANGE[type]!;
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new CdrEncodeError("(message)", `expected an ${type} (integer in [${lo}, ${hi}]), got ${describe(v)}`);
      switch (type) {
        case "int8":
          w.int8(v);
          return;
        case "int16":
          w.int16(v);
          return;
        case "uint16":
          w.uint16(v);
          return;
        case "int32":
          w.int32(v);
          return;
        case "uint32":
          w.uint32(v);
          return;
        default:
          w.uint8(v);
      }
    }
  }
}

const utf8 = new TextEncoder();

/**
 * CdrWriter.string sizes the buffer by UTF-16 length, which truncates
 * non-ASCII text (a "°" in an error message), so such strings are written as
 * their UTF-8 bytes here.
 */
function writeString(w: CdrWriter, v: string): void {
  if (/^[\x00-\x7f]*$/.test(v)) {
    w.string(v);
    return;
  }
  const bytes = utf8.encode(v);
  w.uint32(bytes.length + 1);
  w.uint8Array(bytes, false);
  w.uint8(0);
}

function readStruct(r: CdrReader, t: MsgType, types: Map<string, MsgType>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.fields.length === 0) {
    r.uint8();
    return out;
  }
  for (const f of t.fields) out[f.name] = readField(r, f, types);
  return out;
}

function readField(r: CdrReader, f: MsgField, types: Map<string, MsgType>): unknown {
  if (f.array === "none") return f.isPrimitive ? readPrimitive(r, f.type as PrimitiveType) : readStruct(r, types.get(f.type)!, types);
  const n = f.array === "fixed" ? f.arrayLength! : r.sequenceLength();
  if (f.type === "uint8" || f.type === "byte" || f.type === "char") return r.uint8Array(n).slice();
  if (f.type === "float64") return Array.from(r.float64Array(n));
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = f.isPrimitive ? readPrimitive(r, f.type as PrimitiveType) : readStruct(r, types.get(f.type)!, types);
  return out;
}

function readPrimitive(r: CdrReader, type: PrimitiveType): unknown {
  switch (type) {
    case "bool":
      return r.uint8() !== 0;
    case "byte":
    case "char":
    case "uint8":
      return r.uint8();
    case "int8":
      return r.int8();
    case "int16":
      return r.int16();
    case "uint16":
      return r.uint16();
    case "int32":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "int64":
      return r.int64();
    case "uint64":
      return r.uint64();
    case "float32":
      return r.float32();
    case "float64":
      return r.float64();
    case "string":
      return r.string();
  }
}
