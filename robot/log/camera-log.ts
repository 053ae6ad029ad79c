/**
 * Camera frames and calibration in a session log, as Foxglove's Image panel
 * reads them: sensor_msgs/Image on `<ns>/image_raw`, or with `compressed:
 * "png"` sensor_msgs/CompressedImage on `<ns>/image_raw/compressed` (pngjs),
 * and sensor_msgs/CameraInfo on `<ns>/camera_info`.
 *
 * Logging a raw frame is one copy into the open chunk (the CDR encoder copies
 * uint8[] in one go); PNG costs the deflate, measured in `s2r bench log --images`.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { decodeImage, type PackedImage, type RawImage } from "../../sim/sensors/image.js";
import { cameraInfoToMessage, encodePng, imageToMessage } from "./image-messages.js";
import { CAMERA_INFO_SCHEMA, COMPRESSED_IMAGE_SCHEMA, IMAGE_SCHEMA, rosTime } from "./schemas.js";
import type { LogChannel, SessionLog } from "./session-log.js";

export interface CameraLogOptions {
  /** Topic namespace; default "/camera". */
  namespace?: string;
  /** The optical frame's name in header.frame_id; default "camera_optical_frame". */
  frameId?: string;
  /** "none" (default): sensor_msgs/Image; "png": sensor_msgs/CompressedImage. */
  compressed?: "none" | "png";
}

export class CameraLog {
  readonly frameId: string;
  readonly compressed: "none" | "png";
  readonly imageTopic: string;
  readonly infoTopic: string;
  #image: LogChannel;
  #info: LogChannel;

  constructor(
    private readonly log: SessionLog,
    options: CameraLogOptions = {},
  ) {
    const ns = options.namespace ?? "/camera";
    this.frameId = options.frameId ?? "camera_optical_frame";
    this.compressed = options.compressed ?? "none";
    if (this.compressed !== "none" && this.compressed !== "png") throw new Error(`camera log: compressed must be "none" or "png", got ${JSON.stringify(this.compressed)}`);
    this.imageTopic = this.compressed === "png" ? `${ns}/image_raw/compressed` : `${ns}/image_raw`;
    this.infoTopic = `${ns}/camera_info`;
    this.#image = this.compressed === "png" ? log.channel(this.imageTopic, COMPRESSED_IMAGE_SCHEMA) : log.channel(this.imageTopic, IMAGE_SCHEMA);
    this.#info = log.channel(this.infoTopic, CAMERA_INFO_SCHEMA);
  }

  /** Logs a frame taken at `stampNs` (acquisition time; default now). */
  frame(frame: RawImage, stampNs?: bigint): void {
    const t = stampNs ?? this.log.now();
    if (this.compressed === "png") {
      const packed: PackedImage =
        (frame.encoding === "rgb8" || frame.encoding === "mono8") && frame.step === frame.width * (frame.encoding === "rgb8" ? 3 : 1)
          ? { width: frame.width, height: frame.height, encoding: frame.encoding, data: frame.data }
          : decodeImage(frame, frame.encoding.startsWith("mono") ? "mono8" : "rgb8");
      this.#image.write({ header: { stamp: rosTime(t), frame_id: this.frameId }, format: `${packed.encoding}; png compressed ${packed.encoding}`, data: encodePng(packed) }, t);
    } else {
      this.#image.write(imageToMessage(frame, t, this.frameId), t);
    }
  }

  info(intrinsics: CameraIntrinsics, stampNs?: bigint): void {
    const t = stampNs ?? this.log.now();
    this.#info.write(cameraInfoToMessage(intrinsics, t, this.frameId), t);
  }
}
