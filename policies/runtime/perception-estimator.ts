/**
 * What `vision eval` (and later deploy with a camera, and visual fine-tuning)
 * needs from a perception model: the camera it was trained for, its input
 * size and encoding, the joints it estimates, and a function from a network
 * input image to joint angles. A plain interface, so the ONNX perception
 * runtime plugs in without this layer importing it.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { channelsOf, type PackedEncoding, type PackedImage } from "../../sim/sensors/image.js";
import type { OnnxPerception } from "./onnx-perception.js";
import type { CropRegion } from "../../sim/sensors/image-resize.js";

export interface PerceptionEstimator {
  /** The native camera the model was trained for (its manifest's camera_info). */
  intrinsics: CameraIntrinsics;
  inputWidth: number;
  inputHeight: number;
  encoding: PackedEncoding;
  /** Region of the native image the network sees; default the largest centred crop of its aspect. */
  crop?: CropRegion;
  jointNames: readonly string[];
  /** Joint angles (rad, in jointNames order) from one inputWidth x inputHeight image. */
  estimate(image: PackedImage): Float64Array;
  dispose?(): void;
}

/**
 * An exported perception network (OnnxPerception with its manifest) as a
 * PerceptionEstimator. With frames stacked (framesStacked > 1, so velocity is
 * observable) it keeps the last frames itself and interleaves them per pixel,
 * oldest first, as the network was trained; the first frame of a sequence
 * stands in for the frames before it. `reset()` starts a new sequence.
 */
export function perceptionEstimatorOf(perception: OnnxPerception): PerceptionEstimator & { reset(): void } {
  const m = perception.manifest;
  if (!m) throw new Error(`${perception.onnxPath}: a perception estimator needs the model's manifest (vision.json) for its camera and joints`);
  const { width: W, height: H, framesStacked: F, encoding } = m.input;
  const C = channelsOf(encoding);
  const frameBytes = W * H * C;
  const history: Uint8Array[] = [];
  const stacked = new Uint8Array(frameBytes * F);
  const J = m.joints.length;
  return {
    intrinsics: m.camera.native,
    inputWidth: W,
    inputHeight: H,
    encoding,
    crop: m.camera.crop,
    jointNames: m.joints,
    estimate(image: PackedImage): Float64Array {
      if (image.width !== W || image.height !== H || image.encoding !== encoding) {
        throw new RangeError(`${perception.onnxPath}: expects ${W}x${H} ${encoding} images, got ${image.width}x${image.height} ${image.encoding}`);
      }
      if (F === 1) return perception.run(image.data.subarray(0, frameBytes), 1).angles.slice(0, J);
      const frame = history.length === F ? history.shift()! : new Uint8Array(frameBytes);
      frame.set(image.data.subarray(0, frameBytes));
      while (history.length < F - 1) history.push(frame.slice());
      history.push(frame);
      // Per pixel, oldest frame first; a plain byte loop (subarray() would allocate a view per pixel and frame in the control loop).
      for (let f = 0; f < F; f++) {
        const src = history[f]!;
        for (let p = 0; p < W * H; p++) {
          const d = (p * F + f) * C;
          for (let c = 0; c < C; c++) stacked[d + c] = src[p * C + c]!;
        }
      }
      return perception.run(stacked, 1).angles.slice(0, J);
    },
    reset(): void {
      history.length = 0;
    },
    dispose(): void {
      perception.dispose();
    },
  };
}
