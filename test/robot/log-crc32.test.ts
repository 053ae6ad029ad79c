import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { CRC32_INIT, crc32, crc32Final, crc32Update } from "../../robot/log/crc32.js";

/** Bit by bit, straight from the polynomial. */
function reference(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test("CRC-32 matches the polynomial, whole and in pieces, on both the zlib and table paths", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  for (const n of [0, 1, 7, 63, 64, 65, 1000, 100_000]) {
    const b = new Uint8Array(randomBytes(n));
    const ref = reference(b);
    assert.equal(crc32(b), ref, `whole ${n}`);
    // Pieces below and above the 64-byte switch between the two implementations.
    let s = CRC32_INIT;
    for (let i = 0; i < n; i += 50) s = crc32Update(s, b.subarray(i, i + 50));
    assert.equal(crc32Final(crc32Update(crc32Update(CRC32_INIT, b.subarray(0, n >> 1)), b.subarray(n >> 1))), ref, `halves ${n}`);
    assert.equal(crc32Final(s), ref, `50-byte pieces ${n}`);
  }
});
