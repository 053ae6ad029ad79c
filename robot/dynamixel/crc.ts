/**
 * CRC-16 of Dynamixel Protocol 2.0 (e-manual, "CRC Calculation"): polynomial
 * x^16 + x^15 + x^2 + 1 (0x8005), initial value 0, bits processed most
 * significant first, no final XOR. It covers every byte of the packet from the
 * first header byte up to the last (stuffed) parameter byte, and is sent
 * low byte first.
 */

const POLYNOMIAL = 0x8005;

/** Byte-at-a-time lookup table, derived from the polynomial rather than pasted in. */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ POLYNOMIAL) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC of bytes[start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return crc;
}
