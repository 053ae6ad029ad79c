"""Length-prefixed frames over a byte stream; the Node side is common/frames.ts.

u32 bodyLength | u32 headerLength | header (msgpack) | u32 nBuffers | nBuffers x u32 byteLength | buffers
(all little-endian). Buffers stay raw bytes end to end: the actors never decode trajectories.
"""
import struct

import msgpack


def encode_frame(header, buffers=()):
    h = msgpack.packb(header, use_bin_type=True)
    lens = b"".join(struct.pack("<I", len(b)) for b in buffers)
    body = struct.pack("<I", len(h)) + h + struct.pack("<I", len(buffers)) + lens
    total = len(body) + sum(len(b) for b in buffers)
    return [struct.pack("<I", total), body, *buffers]


def write_frame(stream, header, buffers=()):
    for part in encode_frame(header, buffers):
        stream.write(part)
    stream.flush()


def _read_exact(stream, n):
    out = bytearray()
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            raise EOFError(f"stream ended {n - len(out)} bytes short of a frame")
        out += chunk
    return bytes(out)


def read_frame(stream):
    """Returns (header, [bytes, ...]); raises EOFError when the stream ends."""
    (total,) = struct.unpack("<I", _read_exact(stream, 4))
    body = memoryview(_read_exact(stream, total))
    (hl,) = struct.unpack_from("<I", body, 0)
    header = msgpack.unpackb(body[4 : 4 + hl], raw=False)
    o = 4 + hl
    (n,) = struct.unpack_from("<I", body, o)
    o += 4
    lens = struct.unpack_from(f"<{n}I", body, o)
    o += 4 * n
    buffers = []
    for ln in lens:
        buffers.append(bytes(body[o : o + ln]))
        o += ln
    return header, buffers
