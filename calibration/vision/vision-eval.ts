/**
 * The visual sim-to-real gap, measured: run a perception estimator over the
 * frames of a recording whose joint states come from encoders, and report
 * the angle error per joint (wrapped to +-180 deg), plus whether the
 * recording's camera is the one the model was trained for.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { cameraDifferences } from "../../sim/sensors/camera-compare.js";
import { toNetworkInput } from "../../sim/sensors/image-resize.js";
import { readCameraRecording } from "../../robot/log/read-camera-recording.js";
import { wrapAngle } from "../../robot/log/joint-track.js";
import type { PerceptionEstimator } from "../../policies/runtime/perception-estimator.js";

export interface JointErrorStats {
  rmseDeg: number;
  /** 95th percentile of |error| (nearest rank). */
  p95Deg: number;
  maxDeg: number;
  /** Mean signed error: a bias, e.g. a camera mounted off its configured pose. */
  meanDeg: number;
}

export interface CameraCheck {
  /** Where the recording's camera was described: its camera_info, a --camera file, or nowhere. */
  source: "camera_info" | "camera file" | "none";
  topic?: string;
  /** One sentence per difference from the model's camera; empty when they agree. */
  differences: string[];
}

export interface VisionEvalResult {
  recording: string;
  imageTopic: string;
  jointTopic: string;
  frames: number;
  /** Frames with no joint state around their stamp, not scored. */
  unpaired: number;
  joints: Record<string, JointErrorStats>;
  camera: CameraCheck;
  truncation?: string;
}

export interface VisionEvalOptions {
  imageTopic?: string;
  jointTopic?: string;
  /** The recording's camera from a --camera file; overrides its camera_info. */
  camera?: CameraIntrinsics;
  onProgress?: (done: number, total: number) => void;
}

/** Error statistics of angle errors in radians (already wrapped). */
export function errorStats(errorsRad: ArrayLike<number>): JointErrorStats {
  const n = errorsRad.length;
  if (n === 0) return { rmseDeg: NaN, p95Deg: NaN, maxDeg: NaN, meanDeg: NaN };
  const deg = Float64Array.from(errorsRad, (e) => (e * 180) / Math.PI);
  let sq = 0;
  let sum = 0;
  for (const d of deg) {
    sq += d * d;
    sum += d;
  }
  const abs = deg.map(Math.abs).sort();
  return { rmseDeg: Math.sqrt(sq / n), p95Deg: abs[Math.min(n - 1, Math.ceil(0.95 * n) - 1)]!, maxDeg: abs[n - 1]!, meanDeg: sum / n };
}

export async function evalVisionRecording(file: string, estimator: PerceptionEstimator, options: VisionEvalOptions = {}): Promise<VisionEvalResult> {
  const names = estimator.jointNames;
  const errors = names.map(() => [] as number[]);
  let frameCamera: CameraIntrinsics | undefined;
  const spec = { width: estimator.inputWidth, height: estimator.inputHeight, encoding: estimator.encoding, crop: estimator.crop };
  const info = await readCameraRecording(file, {
    imageTopic: options.imageTopic,
    jointTopic: options.jointTopic,
    jointNames: names,
    onProgress: options.onProgress,
    onStart: (i) => {
      frameCamera = options.camera ?? i.cameraInfo;
    },
    onFrame: ({ index, image, joints }) => {
      // The recording's own camera decides the crop; without one, frames are taken to be the model's camera.
      const camera = frameCamera ?? estimator.intrinsics;
      const input = toNetworkInput(image, camera, spec, `${file} frame ${index}`);
      const est = estimator.estimate(input.image);
      if (est.length !== names.length) throw new Error(`perception estimate for frame ${index}: expected ${names.length} angles (${names.join(", ")}), got ${est.length}`);
      for (let j = 0; j < names.length; j++) errors[j]!.push(wrapAngle(est[j]! - joints[j]!));
    },
  });
  const camera: CameraCheck =
    options.camera !== undefined
      ? { source: "camera file", differences: cameraDifferences(estimator.intrinsics, options.camera, { expected: estimator.encoding, actual: info.imageEncoding ?? estimator.encoding }) }
      : info.cameraInfo !== undefined
        ? { source: "camera_info", topic: info.cameraInfoTopic, differences: cameraDifferences(estimator.intrinsics, info.cameraInfo, { expected: estimator.encoding, actual: info.imageEncoding ?? estimator.encoding }) }
        : { source: "none", differences: ["the recording has no sensor_msgs/CameraInfo and no --camera file was given: the camera could not be checked"] };
  const result: VisionEvalResult = {
    recording: file,
    imageTopic: info.imageTopic,
    jointTopic: info.jointTopic,
    frames: errors[0]?.length ?? 0,
    unpaired: info.unpaired,
    joints: Object.fromEntries(names.map((n, j) => [n, errorStats(errors[j]!)])),
    camera,
  };
  if (info.truncation) result.truncation = info.truncation;
  return result;
}
