import { Buffer } from "node:buffer";
import { ConfigError } from "../../common/schema.js";
import type { Floats } from "./kernel/matrix-ops.js";

/**
 * Checkpoint state of the training core.
 *
 * Format: every module's getState() is a plain JSON-able object
 *   { kind: "<module kind>", ...architecture numbers, ...tensors }
 * where each tensor is a TensorState
 *   { shape: number[], dtype: "float32" | "float64", data: "<base64>" }
 * and `data` is the base64 of the values as little-endian IEEE floats
 * (exact, and a third of the size of decimal text). Loading converts between
 * float32 and float64. setState() checks the kind, the architecture numbers
 * and every shape, and its errors (ConfigError) name the offending field, e.g.
 * "pi.gru.wHh.shape: expected [384, 128], got [384, 64]".
 */

export interface TensorState {
  shape: number[];
  dtype: "float32" | "float64";
  data: string;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // WebAssembly memory is little-endian too; a big-endian host would need byte swaps everywhere.
  throw new Error("policies/nn: a little-endian host is required");
}

export function tensorState(values: Floats, shape: number[]): TensorState {
  return {
    shape: [...shape],
    dtype: values instanceof Float64Array ? "float64" : "float32",
    data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64"),
  };
}

/** Decodes a TensorState of the expected shape into `into` (same element count). */
export function readTensor(state: unknown, where: string, shape: readonly number[], into: Floats): void {
  const s = expectObject(state, where);
  const got = s["shape"];
  if (!Array.isArray(got) || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new ConfigError(`${where}.shape`, `expected [${shape.join(", ")}], got ${JSON.stringify(got)}`);
  }
  const dtype = s["dtype"];
  if (dtype !== "float32" && dtype !== "float64") throw new ConfigError(`${where}.dtype`, `expected "float32" or "float64", got ${JSON.stringify(dtype)}`);
  const data = s["data"];
  if (typeof data !== "string") throw new ConfigError(`${where}.data`, "expected a base64 string");
  const bytes = Buffer.from(data, "base64");
  const size = dtype === "float32" ? 4 : 8;
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== n * size) throw new ConfigError(`${where}.data`, `expected ${n} ${dtype} values (${n * size} bytes), got ${bytes.length} bytes`);
  // Copy into an aligned buffer: Buffer.from may return a slice of a shared pool at any offset.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  const values = dtype === "float32" ? new Float32Array(aligned.buffer) : new Float64Array(aligned.buffer);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i]!)) throw new ConfigError(`${where}.data`, `value ${i} is not finite (${values[i]})`);
  }
  into.set(values);
}

export function expectObject(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(where, `expected an object, got ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v}`);
  return v as Record<string, unknown>;
}

/** Checks state.kind and returns the state as a record. */
export function expectKind(v: unknown, kind: string, where: string): Record<string, unknown> {
  const s = expectObject(v, where);
  if (s["kind"] !== kind) throw new ConfigError(`${where}.kind`, `expected "${kind}", got ${JSON.stringify(s["kind"])}`);
  return s;
}

/** Checks that an architecture field equals the module's own value. */
export function expectEqual(s: Record<string, unknown>, field: string, expected: unknown, where: string): void {
  if (JSON.stringify(s[field]) !== JSON.stringify(expected)) {
    throw new ConfigError(`${where}.${field}`, `expected ${JSON.stringify(expected)} (this module's architecture), got ${JSON.stringify(s[field])}`);
  }
}

export function expectArray(s: Record<string, unknown>, field: string, length: number, where: string): unknown[] {
  const v = s[field];
  if (!Array.isArray(v)) throw new ConfigError(`${where}.${field}`, "expected an array");
  if (v.length !== length) throw new ConfigError(`${where}.${field}`, `expected ${length} entries, got ${v.length}`);
  return v;
}
