/**
 * What `vision eval` (and later deploy with a camera, and visual fine-tuning)
 * needs from a perception model: the camera it was trained for, its input
 * size and encoding, the joints it estimates, and a function from a network
 * input image to joint angles. A plain interface, so the ONNX perception
 * runtime plugs in without this layer importing it.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import type { PackedEncoding, PackedImage } from "../../sim/sensors/image.js";
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
