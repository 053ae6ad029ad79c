/**
 * Camera messages in MCAP files and on ROS 2 topics: sensor_msgs/Image,
 * sensor_msgs/CompressedImage (PNG or JPEG), sensor_msgs/CameraInfo, and
 * Foxglove's own foxglove.RawImage / foxglove.CompressedImage (JSON or
 * protobuf encoded), to and from the RawImage and CameraIntrinsics the rest
 * of s2r uses. PNG and JPEG are coded by pngjs and jpeg-js, protobuf by
 * protobufjs from the FileDescriptorSet stored in the file.
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import protobuf from "protobufjs";
// Adds Root.fromDescriptor (reads a FileDescriptorSet, as MCAP stores protobuf schemas).
import "protobufjs/ext/descriptor.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { channelsOf, ImageError, type PackedImage, type RawImage } from "../../sim/sensors/image.js";
import type { LoggedChannel, LoggedMessage } from "./read-session-log.js";
import { fromRosTime, rosTime, type RosTime } from "./schemas.js";

export const IMAGE_TYPES = {
  raw: "sensor_msgs/msg/Image",
  compressed: "sensor_msgs/msg/CompressedImage",
  cameraInfo: "sensor_msgs/msg/CameraInfo",
  jointState: "sensor_msgs/msg/JointState",
  foxgloveRaw: "foxglove.RawImage",
  foxgloveCompressed: "foxglove.CompressedImage",
} as const;

const IMAGE_SCHEMA_NAMES = new Set<string>([IMAGE_TYPES.raw, IMAGE_TYPES.compressed, IMAGE_TYPES.foxgloveRaw, IMAGE_TYPES.foxgloveCompressed, "sensor_msgs/Image", "sensor_msgs/CompressedImage"]);

/** Schema names differ by ROS version ("sensor_msgs/Image" in ROS 1 style): compare the normalized form. */
export function normalizeSchemaName(name: string): string {
  const parts = name.split("/");
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : name;
}

export function isImageChannel(ch: Pick<LoggedChannel, "schemaName">): boolean {
  return IMAGE_SCHEMA_NAMES.has(ch.schemaName);
}

/** The value a sensor_msgs/Image channel writes. */
export function imageToMessage(frame: RawImage, stampNs: bigint, frameId: string): Record<string, unknown> {
  return {
    header: { stamp: rosTime(stampNs), frame_id: frameId },
    height: frame.height,
    width: frame.width,
    encoding: frame.encoding,
    is_bigendian: frame.isBigEndian ? 1 : 0,
    step: frame.step,
    data: frame.data,
  };
}

/** PNG bytes of a packed image (pngjs; compression level 1: a logger wants speed over size). */
export function encodePng(img: PackedImage): Uint8Array {
  const colour = channelsOf(img.encoding) === 3;
  const png = PNG.sync.write(
    { width: img.width, height: img.height, data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength) } as PNG,
    { colorType: colour ? 2 : 0, inputColorType: colour ? 2 : 0, inputHasAlpha: false, deflateLevel: 1, filterType: 1 },
  );
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Decodes PNG or JPEG bytes; `format` as CompressedImage has it ("png", "jpeg", "rgb8; png compressed bgr8"...). */
export function decodeCompressedImage(format: string, data: Uint8Array, path = "image"): RawImage {
  const f = format.toLowerCase();
  const isPng = f.includes("png") || (data[0] === 0x89 && data[1] === 0x50);
  const isJpeg = f.includes("jpeg") || f.includes("jpg") || (data[0] === 0xff && data[1] === 0xd8);
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { width: png.width, height: png.height, encoding: "rgba8", step: png.width * 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (isJpeg) {
      const j = jpeg.decode(data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100 });
      return { width: j.width, height: j.height, encoding: "rgba8", step: j.width * 4, data: j.data };
    }
  } catch (e) {
    throw new ImageError(`${path}.data`, `cannot decode the ${isPng ? "PNG" : "JPEG"} image: ${(e as Error).message}`);
  }
  throw new ImageError(`${path}.format`, `unsupported compressed format ${JSON.stringify(format)}; expected png or jpeg`);
}

function field<T>(v: Record<string, unknown>, name: string, kind: "number" | "string", path: string): T {
  const x = v[name];
  if (typeof x !== kind) throw new ImageError(`${path}.${name}`, `expected a ${kind}, got ${x === undefined ? "nothing" : typeof x}`);
  return x as T;
}

function bytesField(v: Record<string, unknown>, name: string, path: string): Uint8Array {
  const x = v[name];
  if (x instanceof Uint8Array) return x;
  if (typeof x === "string") return new Uint8Array(Buffer.from(x, "base64")); // Foxglove JSON encodes bytes as base64
  throw new ImageError(`${path}.${name}`, "expected bytes");
}

/** sensor_msgs/Image (decoded CDR) to RawImage. */
export function messageToImage(v: Record<string, unknown>, path = "image"): RawImage {
  return {
    width: field<number>(v, "width", "number", path),
    height: field<number>(v, "height", "number", path),
    encoding: field<string>(v, "encoding", "string", path),
    step: field<number>(v, "step", "number", path),
    data: bytesField(v, "data", path),
    isBigEndian: Number(v.is_bigendian ?? 0) !== 0,
  };
}

export function headerStampNs(v: Record<string, unknown>, path = "message"): bigint {
  const h = v.header as { stamp?: RosTime } | undefined;
  if (!h?.stamp) throw new ImageError(`${path}.header.stamp`, "missing");
  return fromRosTime(h.stamp);
}

export function cameraInfoToMessage(k: CameraIntrinsics, stampNs: bigint, frameId: string): Record<string, unknown> {
  return {
    header: { stamp: rosTime(stampNs), frame_id: frameId },
    height: k.height,
    width: k.width,
    distortion_model: k.distortionModel === "none" ? "plumb_bob" : k.distortionModel,
    d: k.distortionModel === "none" ? [0, 0, 0, 0, 0] : k.distortion,
    k: [k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1],
    r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    p: [k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0],
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
  };
}

/** sensor_msgs/CameraInfo to intrinsics; a model other than plumb_bob (with non-zero terms) is refused by name. */
export function cameraInfoFromMessage(v: Record<string, unknown>, path = "camera_info"): CameraIntrinsics {
  const k = v.k as number[] | undefined;
  if (!Array.isArray(k) || k.length !== 9) throw new ImageError(`${path}.k`, "expected 9 numbers");
  const d = (v.d as number[] | undefined) ?? [];
  const model = String(v.distortion_model ?? "");
  const zero = d.every((x) => x === 0);
  if (!zero && model !== "plumb_bob") throw new ImageError(`${path}.distortion_model`, `${JSON.stringify(model)} is not supported; expected plumb_bob`);
  if (!zero && d.length !== 5) throw new ImageError(`${path}.d`, `plumb_bob takes 5 coefficients, got ${d.length}`);
  return {
    width: field<number>(v, "width", "number", path),
    height: field<number>(v, "height", "number", path),
    fx: k[0]!,
    fy: k[4]!,
    cx: k[2]!,
    cy: k[5]!,
    distortionModel: zero ? "none" : "plumb_bob",
    distortion: zero ? [] : d.slice(),
  };
}

/** Decoders for foxglove.* protobuf channels, built once per schema from the file's FileDescriptorSet. */
const protobufTypes = new WeakMap<LoggedChannel, protobuf.Type>();

function protobufType(ch: LoggedChannel): protobuf.Type {
  const known = protobufTypes.get(ch);
  if (known) return known;
  let t: protobuf.Type;
  try {
    t = protobuf.Root.fromDescriptor(ch.schemaData).lookupType(ch.schemaName);
  } catch (e) {
    throw new ImageError(`${ch.topic} (schema ${ch.schemaName})`, `cannot read the protobuf schema: ${(e as Error).message}`);
  }
  protobufTypes.set(ch, t);
  return t;
}

/** A foxglove.* message as a plain object (Foxglove Time as {sec, nsec} in JSON, {seconds, nanos} in protobuf). */
function decodeFoxglove(m: LoggedMessage): { value: Record<string, unknown>; stampNs: bigint } {
  const ch = m.channel;
  let value: Record<string, unknown>;
  let sec: unknown;
  let nsec: unknown;
  if (ch.messageEncoding === "json") {
    value = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
    const t = value.timestamp as { sec?: number; nsec?: number } | undefined;
    sec = t?.sec;
    nsec = t?.nsec;
  } else if (ch.messageEncoding === "protobuf") {
    const t = protobufType(ch);
    value = t.toObject(t.decode(m.data), { longs: Number, defaults: true, bytes: Uint8Array }) as Record<string, unknown>;
    const ts = value.timestamp as { seconds?: number; nanos?: number } | undefined;
    sec = ts?.seconds;
    nsec = ts?.nanos;
  } else {
    throw new ImageError(`${ch.topic}`, `${ch.schemaName} in ${ch.messageEncoding} encoding is not supported; expected json or protobuf`);
  }
  // Without a stamp, the log time is the best estimate of acquisition.
  const stampNs = typeof sec === "number" ? BigInt(sec) * 1_000_000_000n + BigInt(Number(nsec ?? 0)) : m.logTime;
  return { value, stampNs };
}

export interface DecodedFrame {
  /** Acquisition time (header stamp), ns since the Unix epoch. */
  stampNs: bigint;
  image: RawImage;
}

/** Decodes one message of an image channel (any of IMAGE_TYPES' image schemas), naming the topic and sequence in errors. */
export function decodeImageMessage(m: LoggedMessage): DecodedFrame {
  const path = `${m.topic}[${m.sequence}]`;
  switch (normalizeSchemaName(m.channel.schemaName)) {
    case IMAGE_TYPES.raw: {
      const v = m.decode();
      return { stampNs: headerStampNs(v, path), image: messageToImage(v, path) };
    }
    case IMAGE_TYPES.compressed: {
      const v = m.decode();
      return { stampNs: headerStampNs(v, path), image: decodeCompressedImage(String(v.format ?? ""), bytesField(v, "data", path), path) };
    }
    case IMAGE_TYPES.foxgloveRaw: {
      const { value, stampNs } = decodeFoxglove(m);
      return { stampNs, image: messageToImage(value, path) };
    }
    case IMAGE_TYPES.foxgloveCompressed: {
      const { value, stampNs } = decodeFoxglove(m);
      return { stampNs, image: decodeCompressedImage(String(value.format ?? ""), bytesField(value, "data", path), path) };
    }
    default:
      throw new ImageError(m.topic, `schema ${m.channel.schemaName} is not an image`);
  }
}
