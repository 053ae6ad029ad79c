/**
 * What differs between two cameras: the camera a model was trained for (its
 * manifest) and the one a recording or a robot provides (camera_info). Deploy
 * refuses to start on any difference; `vision eval` reports them.
 */
import type { CameraIntrinsics } from "./camera-config.js";
import type { PackedEncoding } from "./image.js";

export interface CameraCompareOptions {
  /** Principal point and focal lengths may differ by this many pixels. Default 0.5. */
  pixelTolerance?: number;
  /** Distortion coefficients may differ by this much. Default 1e-4. */
  distortionTolerance?: number;
}

const MONO_ENCODINGS = new Set(["mono8", "mono16"]);

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/0+$/, "").replace(/\.$/, "");
}

/**
 * Differences between the expected camera and the actual one, one sentence
 * each; empty when they agree. `encodings`: the expected network input
 * encoding, and the actual stream's ROS encoding (any encoding decodeImage
 * reads is fine, except that a colour network cannot be fed a grey camera).
 */
export function cameraDifferences(
  expected: CameraIntrinsics,
  actual: CameraIntrinsics,
  encodings?: { expected: PackedEncoding; actual: string },
  options: CameraCompareOptions = {},
): string[] {
  const px = options.pixelTolerance ?? 0.5;
  const dt = options.distortionTolerance ?? 1e-4;
  const out: string[] = [];
  if (expected.width !== actual.width || expected.height !== actual.height) {
    out.push(`image size: expected ${expected.width}x${expected.height}, got ${actual.width}x${actual.height}`);
  }
  for (const k of ["fx", "fy", "cx", "cy"] as const) {
    if (Math.abs(expected[k] - actual[k]) > px) out.push(`${k}: expected ${fmt(expected[k])} px, got ${fmt(actual[k])} px (tolerance ${px} px)`);
  }
  const coeffs = (k: CameraIntrinsics) => (k.distortionModel === "none" ? [0, 0, 0, 0, 0] : k.distortion);
  const a = coeffs(expected);
  const b = coeffs(actual);
  if (a.length !== b.length || a.some((v, i) => Math.abs(v - b[i]!) > dt)) {
    const show = (k: CameraIntrinsics) => (k.distortionModel === "none" ? "none" : `${k.distortionModel} [${k.distortion.map(fmt).join(", ")}]`);
    out.push(`distortion: expected ${show(expected)}, got ${show(actual)}`);
  }
  if (encodings && encodings.expected === "rgb8" && MONO_ENCODINGS.has(encodings.actual)) {
    out.push(`encoding: the model takes colour (rgb8) but the camera sends ${encodings.actual}`);
  }
  return out;
}
