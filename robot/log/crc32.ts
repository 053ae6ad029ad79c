/**
 * CRC-32 (IEEE 802.3, the polynomial MCAP uses for chunk and summary checks).
 * Kept here rather than importing @mcap/core's transitive CRC package, which
 * s2r does not declare as a dependency.
 */
import * as zlib from "node:zlib";

// Slicing-by-8 tables (8 x 256 entries, table k at offset 256 k): eight bytes
// per step, about 3x faster than byte-at-a-time, which matters because a chunk
// is checksummed on the control loop's thread when it is sealed.
const T = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** Start value for an incremental CRC; feed with crc32Update, finish with crc32Final. */
export const CRC32_INIT = 0xffffffff;

/** zlib's CRC-32 (Node >= 20.15): about 7x faster than the tables below, which serve older Nodes and short inputs. */
const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32Update(state: number, bytes: Uint8Array): number {
  // zlib takes and returns finished CRCs; a running state is the complement of one.
  if (zlibCrc32 && bytes.length >= 64) return ~zlibCrc32(bytes, ~state >>> 0) >>> 0;
  let c = state;
  const n = bytes.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + bytes[i + 4]!]! ^
      T[512 + bytes[i + 5]!]! ^
      T[256 + bytes[i + 6]!]! ^
      T[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = T[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export function crc32Final(state: number): number {
  return (state ^ 0xffffffff) >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes));
}
