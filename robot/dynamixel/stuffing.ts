/**
 * Byte stuffing of Dynamixel Protocol 2.0 ("Packet Process" in the e-manual).
 * The header is FF FF FD, so wherever that pattern appears between the
 * Instruction field and the last parameter, the sender inserts an extra FD
 * (FF FF FD -> FF FF FD FD) and the receiver removes it again. Length and CRC
 * are computed over the stuffed bytes.
 */

/** Returns the stuffed copy of `body` (the bytes from the Instruction field to the last parameter). */
export function addStuffing(body: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 2; i < body.length; i++) if (body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff) extra++;
  if (extra === 0) return body;
  const out = new Uint8Array(body.length + extra);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    out[o++] = body[i]!;
    if (i >= 2 && body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff) out[o++] = 0xfd;
  }
  return out;
}

export class StuffingError extends Error {
  constructor(readonly offset: number) {
    super(`byte stuffing: FF FF FD at body offset ${offset - 2} is not followed by the stuffed FD`);
    this.name = "StuffingError";
  }
}

/**
 * Inverse of addStuffing. The pattern is matched on the stuffed stream, so a
 * removed FD never starts a new match. Throws StuffingError when FF FF FD is
 * followed by anything but FD (an unstuffed header inside a packet).
 */
export function removeStuffing(stuffed: Uint8Array): Uint8Array {
  let hits = 0;
  for (let i = 2; i < stuffed.length; i++) {
    if (stuffed[i] === 0xfd && stuffed[i - 1] === 0xff && stuffed[i - 2] === 0xff) {
      if (stuffed[i + 1] !== 0xfd) throw new StuffingError(i + 1);
      hits++;
      i++; // the stuffed FD
    }
  }
  if (hits === 0) return stuffed;
  const out = new Uint8Array(stuffed.length - hits);
  let o = 0;
  for (let i = 0; i < stuffed.length; i++) {
    out[o++] = stuffed[i]!;
    if (i >= 2 && stuffed[i] === 0xfd && stuffed[i - 1] === 0xff && stuffed[i - 2] === 0xff) i++;
  }
  return out;
}
