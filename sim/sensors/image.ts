/**
 * Camera images as ROS carries them (sensor_msgs/Image: width, height,
 * encoding, step, data) and their conversion to the two layouts the renderer
 * and the perception network work in: rgb8 or mono8, tightly packed (row
 * stride = width * channels).
 *
 * Pure code shared by the simulator's camera, the perception pipeline, the
 * ROS 2 bridge and the MCAP readers; it lives in sim/ because the renderer and
 * policies both use it and sim/ is the lowest layer that knows cameras.
 */

/** Encodings decodeImage reads (ROS sensor_msgs/image_encodings names). */
export const IMAGE_ENCODINGS = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", "yuv422_yuy2", "yuv422"] as const;
export type ImageEncoding = (typeof IMAGE_ENCODINGS)[number];

/** The layouts images are converted to: what the renderer writes and the network reads. */
export type PackedEncoding = "rgb8" | "mono8";

/** An image as sensor_msgs/Image holds it. `step` is the row length in bytes, padding included. */
export interface RawImage {
  width: number;
  height: number;
  encoding: string;
  step: number;
  data: Uint8Array;
  /** mono16 byte order; ROS default false (little-endian). */
  isBigEndian?: boolean;
}

/** Tightly packed rgb8 or mono8 (step = width * channels). */
export interface PackedImage {
  width: number;
  height: number;
  encoding: PackedEncoding;
  data: Uint8Array;
}

export class ImageError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "ImageError";
  }
}

const BYTES_PER_PIXEL: Record<ImageEncoding, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1, mono16: 2, yuv422_yuy2: 2, yuv422: 2 };

export function channelsOf(encoding: PackedEncoding): 1 | 3 {
  return encoding === "rgb8" ? 3 : 1;
}

export function bytesPerPixel(encoding: string, field = "image.encoding"): number {
  const n = BYTES_PER_PIXEL[encoding as ImageEncoding];
  if (n === undefined) throw new ImageError(field, `unsupported encoding ${JSON.stringify(encoding)}; expected one of ${IMAGE_ENCODINGS.join(", ")}`);
  return n;
}

/** Checks sizes, step and data length; `path` names the image in errors (e.g. "/camera/image_raw[12]"). */
export function validateRawImage(img: RawImage, path = "image"): void {
  for (const k of ["width", "height"] as const) {
    if (!Number.isInteger(img[k]) || img[k] < 1) throw new ImageError(`${path}.${k}`, `expected a positive integer, got ${img[k]}`);
  }
  const bpp = bytesPerPixel(img.encoding, `${path}.encoding`);
  if (bpp === 2 && img.encoding.startsWith("yuv") && img.width % 2 !== 0) {
    throw new ImageError(`${path}.width`, `${img.encoding} packs two pixels per 4 bytes, so the width must be even; got ${img.width}`);
  }
  if (!Number.isInteger(img.step) || img.step < img.width * bpp) {
    throw new ImageError(`${path}.step`, `expected at least width * ${bpp} = ${img.width * bpp} bytes per row for ${img.encoding}, got ${img.step}`);
  }
  // The last row needs only its pixels, not its padding (some drivers trim it).
  const needed = img.step * (img.height - 1) + img.width * bpp;
  if (!(img.data instanceof Uint8Array) || img.data.length < needed) {
    throw new ImageError(`${path}.data`, `expected at least ${needed} bytes for ${img.width}x${img.height} ${img.encoding} with step ${img.step}, got ${img.data?.length ?? "none"}`);
  }
}

/** Rec. 601 luma in OpenCV's fixed point (RGB2GRAY: 4899, 9617, 1868 / 2^14), so grey matches cv_bridge's. */
function luma(r: number, g: number, b: number): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** A rectangle of an image in whole pixels. */
export interface PixelRegion {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/**
 * Writes one row of `n` pixels starting at byte `s` of `src` into `out` at
 * `d`: one function per encoding and output, so each loop stays monomorphic
 * (a switch inside the pixel loop ran 2-3x slower).
 */
type RowDecoder = (src: Uint8Array, s: number, out: Uint8Array, d: number, n: number, bigEndian: boolean) => void;

function colourRow(bpp: number, swap: boolean, grey: boolean): RowDecoder {
  const ri = swap ? 2 : 0;
  const bi = swap ? 0 : 2;
  if (grey) {
    return (src, s, out, d, n) => {
      for (let x = 0, p = s; x < n; x++, p += bpp) out[d + x] = luma(src[p + ri]!, src[p + 1]!, src[p + bi]!);
    };
  }
  if (bpp === 3 && !swap) return (src, s, out, d, n) => out.set(src.subarray(s, s + 3 * n), d);
  return (src, s, out, d, n) => {
    for (let x = 0, p = s, o = d; x < n; x++, p += bpp, o += 3) {
      out[o] = src[p + ri]!;
      out[o + 1] = src[p + 1]!;
      out[o + 2] = src[p + bi]!;
    }
  };
}

function monoRow(wide: boolean, grey: boolean): RowDecoder {
  return (src, s, out, d, n, bigEndian) => {
    const bpp = wide ? 2 : 1;
    const hi = wide && !bigEndian ? 1 : 0;
    for (let x = 0, p = s + hi; x < n; x++, p += bpp) {
      const v = src[p]!;
      if (grey) out[d + x] = v;
      else out[d + 3 * x] = out[d + 3 * x + 1] = out[d + 3 * x + 2] = v;
    }
  };
}

/** YUY2: Y0 U Y1 V; ROS "yuv422" is UYVY: U Y0 V Y1. `s` is at a pixel pair's start; n is even. */
function yuvRow(yuy2: boolean, grey: boolean): RowDecoder {
  const iy0 = yuy2 ? 0 : 1;
  const iu = yuy2 ? 1 : 0;
  const iy1 = yuy2 ? 2 : 3;
  const iv = yuy2 ? 3 : 2;
  return (src, s, out, d, n) => {
    for (let x = 0, p = s; x < n; x += 2, p += 4) {
      const y0 = src[p + iy0]!;
      const y1 = src[p + iy1]!;
      if (grey) {
        out[d + x] = y0;
        out[d + x + 1] = y1;
        continue;
      }
      // BT.601 video range in 16-bit fixed point (1.164, 1.596, 0.391, 0.813, 2.018 x 2^16), rounded.
      const u = src[p + iu]! - 128;
      const v = src[p + iv]! - 128;
      const cr = 104595 * v + 32768;
      const cg = -25625 * u - 53281 * v + 32768;
      const cb = 132252 * u + 32768;
      const a = 76284 * (y0 - 16);
      const b = 76284 * (y1 - 16);
      const o = d + 3 * x;
      out[o] = clamp255((a + cr) >> 16);
      out[o + 1] = clamp255((a + cg) >> 16);
      out[o + 2] = clamp255((a + cb) >> 16);
      out[o + 3] = clamp255((b + cr) >> 16);
      out[o + 4] = clamp255((b + cg) >> 16);
      out[o + 5] = clamp255((b + cb) >> 16);
    }
  };
}

const ROW_DECODERS = new Map<string, RowDecoder>();
function rowDecoder(enc: ImageEncoding, to: PackedEncoding): RowDecoder {
  const key = `${enc}>${to}`;
  let f = ROW_DECODERS.get(key);
  if (!f) {
    const grey = to === "mono8";
    f =
      enc === "mono8" || enc === "mono16"
        ? monoRow(enc === "mono16", grey)
        : enc === "yuv422_yuy2" || enc === "yuv422"
          ? yuvRow(enc === "yuv422_yuy2", grey)
          : colourRow(BYTES_PER_PIXEL[enc], enc === "bgr8" || enc === "bgra8", grey);
    ROW_DECODERS.set(key, f);
  }
  return f;
}

/**
 * Converts any supported encoding to tightly packed rgb8 or mono8, dropping
 * row padding; with `region`, only that part of the image (the crop a
 * network sees, so the rest is never decoded). YUV 4:2:2 follows BT.601 with
 * video range (Y 16-235), as OpenCV's COLOR_YUV2RGB_YUY2 does, in fixed
 * point; its grey is Y itself. mono16 keeps the high byte.
 */
export function decodeImage(img: RawImage, to: PackedEncoding, path = "image", region?: PixelRegion): PackedImage {
  validateRawImage(img, path);
  const r = region ?? { x0: 0, y0: 0, w: img.width, h: img.height };
  if (!(Number.isInteger(r.x0) && Number.isInteger(r.y0) && Number.isInteger(r.w) && Number.isInteger(r.h) && r.w >= 1 && r.h >= 1 && r.x0 >= 0 && r.y0 >= 0 && r.x0 + r.w <= img.width && r.y0 + r.h <= img.height)) {
    throw new ImageError(`${path} region`, `x ${r.x0}..${r.x0 + r.w}, y ${r.y0}..${r.y0 + r.h} is not a region of whole pixels inside the ${img.width}x${img.height} image`);
  }
  const enc = img.encoding as ImageEncoding;
  const bpp = BYTES_PER_PIXEL[enc];
  // YUV 4:2:2 shares chroma between pixel pairs: decode from the pair boundary, then drop the extra column.
  const pair = bpp === 2 && enc.startsWith("yuv");
  const x0 = pair ? r.x0 & ~1 : r.x0;
  const span = pair ? ((r.x0 + r.w + 1) & ~1) - x0 : r.w;
  const ch = channelsOf(to);
  const row = rowDecoder(enc, to);
  const big = Boolean(img.isBigEndian);
  const out = new Uint8Array(r.w * r.h * ch);
  const scratch = span === r.w ? undefined : new Uint8Array(span * ch);
  const skip = (r.x0 - x0) * ch;
  for (let y = 0; y < r.h; y++) {
    const s = (r.y0 + y) * img.step + x0 * bpp;
    if (scratch) {
      row(img.data, s, scratch, 0, span, big);
      out.set(scratch.subarray(skip, skip + r.w * ch), y * r.w * ch);
    } else row(img.data, s, out, y * r.w * ch, r.w, big);
  }
  return { width: r.w, height: r.h, encoding: to, data: out };
}

/** A packed image as a sensor_msgs/Image-shaped value (no padding). */
export function packedToRaw(img: PackedImage): RawImage {
  return { width: img.width, height: img.height, encoding: img.encoding, step: img.width * channelsOf(img.encoding), data: img.data, isBigEndian: false };
}
