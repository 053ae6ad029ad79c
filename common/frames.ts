import { decode, encode } from "@msgpack/msgpack";

/**
 * Length-prefixed frames for talking to another process over a byte stream
 * (the Ray driver and rollout actors, over stdio). A frame is
 *
 *   u32 bodyLength | u32 headerLength | header (msgpack) | u32 nBuffers | nBuffers x u32 byteLength | buffers
 *
 * all little-endian. Headers are small (msgpack); bulk data (weights,
 * trajectories) travels as raw buffers, never re-encoded. The Python side is
 * launch/ray/s2r_ray/frames.py.
 */
export interface Frame {
  header: Record<string, unknown>;
  /** Each buffer copied to its own aligned ArrayBuffer, so typed views of any element size fit. */
  buffers: ArrayBuffer[];
}

export function encodeFrame(header: Record<string, unknown>, buffers: readonly ArrayBufferView[] = []): Buffer {
  const h = encode(header, { ignoreUndefined: true });
  const dataBytes = buffers.reduce((n, b) => n + b.byteLength, 0);
  const body = 4 + h.byteLength + 4 + 4 * buffers.length + dataBytes;
  const out = Buffer.allocUnsafe(4 + body);
  let o = 0;
  o = out.writeUInt32LE(body, o);
  o = out.writeUInt32LE(h.byteLength, o);
  out.set(h, o);
  o += h.byteLength;
  o = out.writeUInt32LE(buffers.length, o);
  for (const b of buffers) o = out.writeUInt32LE(b.byteLength, o);
  for (const b of buffers) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), o);
    o += b.byteLength;
  }
  return out;
}

/** Accumulates stream chunks and yields whole frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.size < 4) break;
      const head = this.peek(4);
      const body = head.readUInt32LE(0);
      if (this.size < 4 + body) break;
      const all = Buffer.concat(this.chunks);
      frames.push(decodeBody(all.subarray(4, 4 + body)));
      const rest = all.subarray(4 + body);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return frames;
  }

  /** Bytes of an incomplete frame still buffered (a stream that ends with some is truncated). */
  get pending(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    return this.chunks[0]!.length >= n ? this.chunks[0]! : Buffer.concat(this.chunks).subarray(0, n);
  }
}

function decodeBody(b: Buffer): Frame {
  let o = 0;
  const hl = b.readUInt32LE(o);
  o += 4;
  const header = decode(b.subarray(o, o + hl)) as Record<string, unknown>;
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error("frame: header is not a map");
  o += hl;
  const n = b.readUInt32LE(o);
  o += 4;
  const lengths: number[] = [];
  for (let i = 0; i < n; i++, o += 4) lengths.push(b.readUInt32LE(o));
  const buffers = lengths.map((len) => {
    const ab = new ArrayBuffer(len);
    new Uint8Array(ab).set(b.subarray(o, o + len));
    o += len;
    return ab;
  });
  if (o !== b.length) throw new Error(`frame: ${b.length - o} bytes left over after the buffers`);
  return { header, buffers };
}
