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

/** Rec. 601 luma, as OpenCV's RGB2GRAY (and so cv_bridge) computes it. */
function luma(r: number, g: number, b: number): number {
  return (r * 0.299 + g * 0.587 + b * 0.114 + 0.5) | 0;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
}

/**
 * Converts any supported encoding to tightly packed rgb8 or mono8, dropping
 * row padding. YUV 4:2:2 follows BT.601 with video range (Y 16-235), as
 * OpenCV's COLOR_YUV2RGB_YUY2 does; its grey is Y itself. mono16 keeps the
 * high byte.
 */
export function decodeImage(img: RawImage, to: PackedEncoding, path = "image"): PackedImage {
  validateRawImage(img, path);
  const { width: w, height: h, step, data: src } = img;
  const enc = img.encoding as ImageEncoding;
  const ch = channelsOf(to);
  const out = new Uint8Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    const s = y * step;
    const d = y * w * ch;
    switch (enc) {
      case "rgb8":
      case "bgr8":
      case "rgba8":
      case "bgra8": {
        const n = BYTES_PER_PIXEL[enc];
        const swap = enc === "bgr8" || enc === "bgra8";
        for (let x = 0; x < w; x++) {
          const p = s + x * n;
          const r = src[swap ? p + 2 : p]!;
          const g = src[p + 1]!;
          const b = src[swap ? p : p + 2]!;
          if (ch === 3) {
            out[d + 3 * x] = r;
            out[d + 3 * x + 1] = g;
            out[d + 3 * x + 2] = b;
          } else out[d + x] = luma(r, g, b);
        }
        break;
      }
      case "mono8":
      case "mono16": {
        const wide = enc === "mono16";
        const hi = img.isBigEndian ? 0 : 1;
        for (let x = 0; x < w; x++) {
          const v = wide ? src[s + 2 * x + hi]! : src[s + x]!;
          if (ch === 3) out[d + 3 * x] = out[d + 3 * x + 1] = out[d + 3 * x + 2] = v;
          else out[d + x] = v;
        }
        break;
      }
      case "yuv422_yuy2":
      case "yuv422": {
        // YUY2: Y0 U Y1 V; ROS "yuv422" is UYVY: U Y0 V Y1.
        const [iy0, iu, iy1, iv] = enc === "yuv422_yuy2" ? [0, 1, 2, 3] : [1, 0, 3, 2];
        for (let x = 0; x < w; x += 2) {
          const p = s + 2 * x;
          const y0 = src[p + iy0]!;
          const y1 = src[p + iy1]!;
          if (ch === 1) {
            out[d + x] = y0;
            out[d + x + 1] = y1;
            continue;
          }
          const u = src[p + iu]! - 128;
          const v = src[p + iv]! - 128;
          const cr = 1.596 * v;
          const cg = -0.391 * u - 0.813 * v;
          const cb = 2.018 * u;
          for (let k = 0; k < 2; k++) {
            const yy = 1.164 * ((k === 0 ? y0 : y1) - 16);
            const o = d + 3 * (x + k);
            out[o] = clamp255(yy + cr);
            out[o + 1] = clamp255(yy + cg);
            out[o + 2] = clamp255(yy + cb);
          }
        }
        break;
      }
    }
  }
  return { width: w, height: h, encoding: to, data: out };
}

/** A packed image as a sensor_msgs/Image-shaped value (no padding). */
export function packedToRaw(img: PackedImage): RawImage {
  return { width: img.width, height: img.height, encoding: img.encoding, step: img.width * channelsOf(img.encoding), data: img.data, isBigEndian: false };
}
