/**
 * A user's own camera, described the ROS way: the YAML that
 * camera_calibration (cameracalibrator) writes and camera_info_manager reads,
 * plus an s2r `mount:` block giving the optical frame's pose as a URDF-style
 * origin. `--camera FILE` on the vision commands reads it and it overrides the
 * rig config's camera.
 *
 * ```yaml
 * image_width: 640
 * image_height: 480
 * camera_name: rig_cam
 * camera_matrix: {rows: 3, cols: 3, data: [600, 0, 319.5, 0, 600, 239.5, 0, 0, 1]}
 * distortion_model: plumb_bob
 * distortion_coefficients: {rows: 1, cols: 5, data: [0.1, -0.2, 0, 0, 0]}
 * rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}
 * projection_matrix: {rows: 3, cols: 4, data: [600, 0, 319.5, 0, 0, 600, 239.5, 0, 0, 0, 1, 0]}
 * mount: {parent: world, xyz: [0.5, 0, 0.3], rpy: [-1.5708, 0, -1.5708]}   # s2r: optical frame in the parent
 * ```
 *
 * The parsing is done by the `yaml` package; only the checks are ours.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { arrayOf, ConfigError, num, obj, optional, str, type Infer } from "../../common/schema.js";
import { cameraMountSchema, validateCameraConfig, type CameraConfig, type CameraIntrinsics, type CameraMount } from "./camera-config.js";

const matrixSchema = obj({
  rows: num(undefined, { integer: true, min: 1 }),
  cols: num(undefined, { integer: true, min: 1 }),
  data: arrayOf(num(undefined), undefined),
});

const cameraFileSchema = obj({
  image_width: num(undefined, { integer: true, min: 1 }),
  image_height: num(undefined, { integer: true, min: 1 }),
  camera_name: str(""),
  camera_matrix: matrixSchema,
  distortion_model: str(""),
  distortion_coefficients: optional(matrixSchema),
  rectification_matrix: optional(matrixSchema),
  projection_matrix: optional(matrixSchema),
  /** s2r: the optical frame's pose (x right, y down, z forward) in its parent link. */
  mount: optional(cameraMountSchema),
  /** s2r: timing, when the rig config's should not be kept. */
  frame_rate: optional(num(undefined, { min: 0, exclusiveMin: true })),
  exposure: optional(num(undefined, { min: 0 })),
  latency: optional(num(undefined, { min: 0 })),
});
type CameraFileFields = Infer<typeof cameraFileSchema>;

/** What a camera file says; fields it leaves out keep the rig config's values. */
export interface UserCamera {
  name: string;
  intrinsics: CameraIntrinsics;
  mount?: CameraMount;
  frameRate?: number;
  exposure?: number;
  latency?: number;
}

function checkMatrix(m: Infer<typeof matrixSchema>, rows: number, cols: number, path: string): number[] {
  if (m.rows !== rows || m.cols !== cols) throw new ConfigError(path, `expected a ${rows}x${cols} matrix, got rows ${m.rows}, cols ${m.cols}`);
  if (m.data.length !== rows * cols) throw new ConfigError(`${path}.data`, `expected ${rows * cols} numbers (row-major ${rows}x${cols}), got ${m.data.length}`);
  return m.data;
}

function toUserCamera(f: CameraFileFields): UserCamera {
  const k = checkMatrix(f.camera_matrix, 3, 3, "camera_matrix");
  const [fx, skew, cx, r1a, fy, cy, r2a, r2b, r2c] = k as [number, number, number, number, number, number, number, number, number];
  if (!(fx > 0) || !(fy > 0)) throw new ConfigError("camera_matrix.data", `fx (data[0]) and fy (data[4]) must be > 0, got ${fx} and ${fy}`);
  if (skew !== 0) throw new ConfigError("camera_matrix.data[1]", `skew ${skew} is not supported (the renderer and the network assume square-aligned pixel axes); expected 0`);
  if (r1a !== 0 || r2a !== 0 || r2b !== 0 || r2c !== 1) throw new ConfigError("camera_matrix.data", `expected [fx, 0, cx, 0, fy, cy, 0, 0, 1], got [${k.join(", ")}]`);
  if (f.rectification_matrix) checkMatrix(f.rectification_matrix, 3, 3, "rectification_matrix");
  if (f.projection_matrix) checkMatrix(f.projection_matrix, 3, 4, "projection_matrix");
  const coeffs = f.distortion_coefficients ? f.distortion_coefficients.data : [];
  if (f.distortion_coefficients && f.distortion_coefficients.rows * f.distortion_coefficients.cols !== coeffs.length) {
    throw new ConfigError("distortion_coefficients.data", `expected rows * cols = ${f.distortion_coefficients.rows * f.distortion_coefficients.cols} numbers, got ${coeffs.length}`);
  }
  let distortionModel: CameraIntrinsics["distortionModel"];
  let distortion: number[];
  const model = f.distortion_model;
  if (model === "" || model === "none" || ((model === "plumb_bob" || model === "rational_polynomial") && coeffs.every((c) => c === 0))) {
    if (coeffs.some((c) => c !== 0)) throw new ConfigError("distortion_model", `non-zero distortion_coefficients need a distortion model, got ${JSON.stringify(model)}`);
    distortionModel = "none";
    distortion = [];
  } else if (model === "plumb_bob") {
    if (coeffs.length !== 5) throw new ConfigError("distortion_coefficients.data", `plumb_bob takes 5 coefficients [k1, k2, t1, t2, k3], got ${coeffs.length}`);
    distortionModel = "plumb_bob";
    distortion = coeffs;
  } else {
    throw new ConfigError("distortion_model", `${JSON.stringify(model)} is not supported; expected "plumb_bob" (5 coefficients) or "none" (recalibrate with the plumb-bob model)`);
  }
  const intrinsics: CameraIntrinsics = { width: f.image_width, height: f.image_height, fx, fy, cx, cy, distortionModel, distortion };
  const out: UserCamera = { name: f.camera_name, intrinsics };
  if (f.mount) out.mount = f.mount;
  if (f.frame_rate !== undefined) out.frameRate = f.frame_rate;
  if (f.exposure !== undefined) out.exposure = f.exposure;
  if (f.latency !== undefined) out.latency = f.latency;
  return out;
}

/** Parses camera_calibration YAML text; errors name `source` and the field. */
export function parseCameraYaml(text: string, source = "camera file"): UserCamera {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError("", `not valid YAML: ${(e as Error).message}`, source);
  }
  try {
    return toUserCamera(cameraFileSchema.parse(value, ""));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.path, e.problem, source);
    throw e;
  }
}

export function readCameraFile(file: string): UserCamera {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("", `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  return parseCameraYaml(text, file);
}

/** The rig config's camera with what the user's file says put over it. */
export function applyUserCamera(base: CameraConfig, user: UserCamera): CameraConfig {
  return validateCameraConfig({
    ...base,
    name: user.name || base.name,
    intrinsics: user.intrinsics,
    mount: user.mount ?? base.mount,
    frameRate: user.frameRate ?? base.frameRate,
    exposure: user.exposure ?? base.exposure,
    latency: user.latency ?? base.latency,
  });
}
