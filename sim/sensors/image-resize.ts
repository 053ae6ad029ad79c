/**
 * Crop and resize a camera image to the perception network's input, with the
 * intrinsics transformed to match (cropResizeIntrinsics), so one model serves
 * a 96 x 96 simulated camera and a 640 x 480 real one.
 *
 * Resampling is separable: each axis gets a table of (source index, weight)
 * per output pixel, then rows and columns are filtered in two passes.
 * "area" averages every source pixel an output pixel covers (the right filter
 * for downscaling: no aliasing of thin rods into dashes); "bilinear"
 * interpolates between the two nearest pixel centres.
 */
import { cropResizeIntrinsics, type CameraIntrinsics } from "./camera-config.js";
import { channelsOf, decodeImage, ImageError, type PackedEncoding, type PackedImage, type RawImage } from "./image.js";

export interface CropRegion {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

export type ResizeMethod = "area" | "bilinear";

/** The largest crop of aspect outW:outH centred in a width x height image (whole pixels). */
export function centredCrop(width: number, height: number, outW: number, outH: number): CropRegion {
  if (width * outH >= height * outW) {
    const w = Math.min(width, Math.round((height * outW) / outH));
    return { x0: Math.floor((width - w) / 2), y0: 0, w, h: height };
  }
  const h = Math.min(height, Math.round((width * outH) / outW));
  return { x0: 0, y0: Math.floor((height - h) / 2), w: width, h };
}

export function validateCrop(crop: CropRegion, width: number, height: number, path = "crop"): void {
  for (const k of ["x0", "y0", "w", "h"] as const) {
    if (!Number.isInteger(crop[k])) throw new ImageError(`${path}.${k}`, `expected an integer, got ${crop[k]}`);
  }
  if (crop.w < 1 || crop.h < 1) throw new ImageError(path, `expected a non-empty region, got ${crop.w}x${crop.h}`);
  if (crop.x0 < 0 || crop.y0 < 0 || crop.x0 + crop.w > width || crop.y0 + crop.h > height) {
    throw new ImageError(path, `region x ${crop.x0}..${crop.x0 + crop.w}, y ${crop.y0}..${crop.y0 + crop.h} is not inside the ${width}x${height} image`);
  }
}

interface AxisTaps {
  /** Per output pixel: first tap index into src/weight. */
  start: Int32Array;
  count: Int32Array;
  src: Int32Array;
  weight: Float64Array;
}

/** Output pixel i of n covers [offset + i * len / n, offset + (i + 1) * len / n) of the source axis. */
function axisTaps(offset: number, len: number, n: number, method: ResizeMethod): AxisTaps {
  const scale = len / n;
  const src: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    start[i] = src.length;
    if (method === "bilinear") {
      // Pixel centres: output centre i maps to source coordinate (i + 0.5) * scale - 0.5, clamped to the crop.
      const c = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), len - 1);
      const a = Math.floor(c);
      const f = c - a;
      src.push(offset + a);
      weight.push(1 - f);
      if (f > 0) {
        src.push(offset + a + 1);
        weight.push(f);
      }
    } else {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      for (let j = Math.floor(lo); j < Math.ceil(hi); j++) {
        const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
        if (overlap > 1e-12) {
          src.push(offset + j);
          weight.push(overlap / scale);
        }
      }
    }
    count[i] = src.length - start[i]!;
  }
  return { start, count, src: Int32Array.from(src), weight: Float64Array.from(weight) };
}

/**
 * A camera stream resizes every frame the same way: the tap tables are kept
 * for the last few geometries, and the float buffer is reused (resizing is
 * synchronous, so one buffer serves every call on this thread).
 */
const tapCache = new Map<string, AxisTaps>();
function cachedTaps(offset: number, len: number, n: number, method: ResizeMethod): AxisTaps {
  const key = `${offset},${len},${n},${method}`;
  let t = tapCache.get(key);
  if (!t) {
    if (tapCache.size >= 16) tapCache.delete(tapCache.keys().next().value!);
    t = axisTaps(offset, len, n, method);
    tapCache.set(key, t);
  }
  return t;
}

let scratchBuffer = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (scratchBuffer.length < n) scratchBuffer = new Float64Array(n);
  return scratchBuffer;
}

/** Resamples `crop` of a packed image to outW x outH. */
export function resizePacked(img: PackedImage, crop: CropRegion, outW: number, outH: number, method: ResizeMethod = "area"): PackedImage {
  validateCrop(crop, img.width, img.height);
  for (const [k, v] of [["outW", outW], ["outH", outH]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ImageError(k, `expected a positive integer, got ${v}`);
  }
  const ch = channelsOf(img.encoding);
  const tx = cachedTaps(crop.x0, crop.w, outW, method);
  const ty = cachedTaps(crop.y0, crop.h, outH, method);
  // Horizontal pass over the crop's rows into a float buffer, then the vertical pass; channels unrolled.
  const rowW = outW * ch;
  const tmp = scratch(crop.h * rowW + rowW);
  const src = img.data;
  const srcRow = img.width * ch;
  const { start: xs, count: xc, src: xi, weight: xw } = tx;
  for (let y = 0; y < crop.h; y++) {
    const s = (crop.y0 + y) * srcRow;
    const d = y * rowW;
    if (ch === 3) {
      for (let x = 0; x < outW; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let t = xs[x]!, t1 = t + xc[x]!; t < t1; t++) {
          const p = s + 3 * xi[t]!;
          const w = xw[t]!;
          r += w * src[p]!;
          g += w * src[p + 1]!;
          b += w * src[p + 2]!;
        }
        tmp[d + 3 * x] = r;
        tmp[d + 3 * x + 1] = g;
        tmp[d + 3 * x + 2] = b;
      }
    } else {
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let t = xs[x]!, t1 = t + xc[x]!; t < t1; t++) acc += xw[t]! * src[s + xi[t]!]!;
        tmp[d + x] = acc;
      }
    }
  }
  const out = new Uint8Array(outH * rowW);
  const acc = tmp.subarray(crop.h * rowW, crop.h * rowW + rowW);
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    for (let t = ty.start[y]!, t1 = t + ty.count[y]!; t < t1; t++) {
      const w = ty.weight[t]!;
      const base = (ty.src[t]! - crop.y0) * rowW;
      for (let i = 0; i < rowW; i++) acc[i]! += w * tmp[base + i]!;
    }
    const d = y * rowW;
    for (let i = 0; i < rowW; i++) {
      const v = acc[i]!;
      out[d + i] = v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
    }
  }
  return { width: outW, height: outH, encoding: img.encoding, data: out };
}

export interface NetworkInputSpec {
  width: number;
  height: number;
  encoding: PackedEncoding;
  /** Region of the native image to use; default the largest centred crop of the input's aspect. */
  crop?: CropRegion;
  /** Default "area" when shrinking both axes, "bilinear" otherwise. */
  method?: ResizeMethod;
}

export interface NetworkInput {
  image: PackedImage;
  /** The native intrinsics transformed by the crop and resize. */
  intrinsics: CameraIntrinsics;
  crop: CropRegion;
}

/**
 * Decodes a camera frame (any supported ROS encoding, row padding handled),
 * crops and resizes it to the network's input, and transforms the
 * intrinsics. The frame's size must be the intrinsics' size.
 */
export function toNetworkInput(frame: RawImage, intrinsics: CameraIntrinsics, spec: NetworkInputSpec, path = "image"): NetworkInput {
  if (frame.width !== intrinsics.width || frame.height !== intrinsics.height) {
    throw new ImageError(`${path}.width`, `frame is ${frame.width}x${frame.height} but the camera's intrinsics are for ${intrinsics.width}x${intrinsics.height}`);
  }
  const crop = spec.crop ?? centredCrop(frame.width, frame.height, spec.width, spec.height);
  validateCrop(crop, frame.width, frame.height, "crop");
  const method = spec.method ?? (crop.w >= spec.width && crop.h >= spec.height ? "area" : "bilinear");
  // Only the crop is decoded; the resize then reads all of it.
  const packed = decodeImage(frame, spec.encoding, path, crop);
  const same = crop.w === spec.width && crop.h === spec.height;
  return {
    image: same ? packed : resizePacked(packed, { x0: 0, y0: 0, w: crop.w, h: crop.h }, spec.width, spec.height, method),
    intrinsics: cropResizeIntrinsics(intrinsics, crop, spec.width, spec.height),
    crop,
  };
}
