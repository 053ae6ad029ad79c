import { arrayOf, ConfigError, num, obj, oneOf, str, type Infer } from "../../common/schema.js";
import { quantity } from "../../common/units.js";

/**
 * A camera as data, the ROS way, shared by the renderer, the perception
 * pipeline, the ROS 2 bridge and the user's own camera files:
 *
 * - intrinsics as sensor_msgs/CameraInfo gives them (width, height, fx, fy,
 *   cx, cy in pixels of the native image; optional plumb-bob distortion
 *   [k1, k2, t1, t2, k3]);
 * - the mount as a URDF-style origin of the camera's *optical* frame
 *   (x right, y down, z forward, REP 103) relative to a parent link, or to
 *   "world";
 * - timing: frame rate, exposure (motion blur integrates over it) and the
 *   latency from the middle of the exposure to the frame's arrival.
 *
 * Every figure is SI: m, rad, s; pixels for intrinsics. Mount and timing
 * figures may be written with units ("15 cm", "90 deg", "4 ms").
 */
const vec3 = (unit: string) => arrayOf(quantity(unit, undefined), undefined, { minLength: 3, maxLength: 3 });

export const cameraIntrinsicsSchema = obj({
  width: num(undefined, { integer: true, min: 1 }),
  height: num(undefined, { integer: true, min: 1 }),
  fx: num(undefined, { min: 0, exclusiveMin: true }),
  fy: num(undefined, { min: 0, exclusiveMin: true }),
  cx: num(undefined),
  cy: num(undefined),
  distortionModel: oneOf(["none", "plumb_bob"] as const, "none"),
  /** plumb_bob: [k1, k2, t1, t2, k3]. */
  distortion: arrayOf(num(undefined), []),
});

export const cameraMountSchema = obj({
  /** URDF link the camera is fixed to, or "world". */
  parent: str("world"),
  /** Position of the optical frame in the parent frame, m. */
  xyz: vec3("m"),
  /** Orientation of the optical frame in the parent frame, URDF roll-pitch-yaw (fixed axes X, Y, Z), rad. */
  rpy: vec3("rad"),
});

export const cameraConfigSchema = obj({
  name: str(undefined, "camera name, used in randomization targets camera.<name>.<param> and ROS 2 topics"),
  mount: cameraMountSchema,
  intrinsics: cameraIntrinsicsSchema,
  frameRate: quantity("Hz", 30, { min: 0, exclusiveMin: true }),
  /** Exposure time, s; motion blur integrates the scene over it. */
  exposure: quantity("s", 0.004, { min: 0 }),
  /** From the middle of the exposure to the frame being available, s. */
  latency: quantity("s", 0.02, { min: 0 }),
  encoding: oneOf(["rgb8", "mono8"] as const, "rgb8"),
});

export type CameraIntrinsics = Infer<typeof cameraIntrinsicsSchema>;
export type CameraMount = Infer<typeof cameraMountSchema>;
export type CameraConfig = Infer<typeof cameraConfigSchema>;

/** Checks what the field schema cannot. */
export function validateCameraConfig(c: CameraConfig, path = "camera"): CameraConfig {
  const k = c.intrinsics;
  if (k.distortionModel === "plumb_bob" && k.distortion.length !== 5) {
    throw new ConfigError(`${path}.intrinsics.distortion`, `plumb_bob takes 5 coefficients [k1, k2, t1, t2, k3], got ${k.distortion.length}`);
  }
  if (k.distortionModel === "none" && k.distortion.some((d) => d !== 0)) {
    throw new ConfigError(`${path}.intrinsics.distortion`, `non-zero coefficients need distortionModel "plumb_bob"`);
  }
  return c;
}

/**
 * Intrinsics after cropping the native image to [x0, y0, w, h] and resizing
 * that crop to outW x outH (the perception network's input), so the same
 * model serves a simulated and a real camera.
 */
export function cropResizeIntrinsics(k: CameraIntrinsics, crop: { x0: number; y0: number; w: number; h: number }, outW: number, outH: number): CameraIntrinsics {
  const sx = outW / crop.w;
  const sy = outH / crop.h;
  return {
    ...k,
    width: outW,
    height: outH,
    fx: k.fx * sx,
    fy: k.fy * sy,
    // Pixel centres sit at integer coordinates (ROS): the edges at -0.5 and w - 0.5 map onto -0.5 and outW - 0.5.
    cx: (k.cx - crop.x0 + 0.5) * sx - 0.5,
    cy: (k.cy - crop.y0 + 0.5) * sy - 0.5,
  };
}
