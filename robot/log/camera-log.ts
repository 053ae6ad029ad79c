/**
 * Camera frames and calibration in a session log, as Foxglove's Image panel
 * reads them: sensor_msgs/Image on `<ns>/image_raw`, or with `compressed:
 * "png"` sensor_msgs/CompressedImage on `<ns>/image_raw/compressed` (pngjs),
 * sensor_msgs/CameraInfo on `<ns>/camera_info`, and the perception network's
 * estimate as sensor_msgs/JointState on `<ns>/perception/joint_states`.
 *
 * Logging a raw frame is one copy into the open chunk (the CDR encoder copies
 * uint8[] in one go). PNG frames are encoded on a worker thread and logged
 * when they come back, between control cycles, under their acquisition
 * stamp; close() waits for those in flight. Costs: `s2r bench log --images`.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { decodeImage, type PackedImage, type RawImage } from "../../sim/sensors/image.js";
import { Worker } from "node:worker_threads";
import { cameraInfoToMessage, imageToMessage } from "./image-messages.js";
import type { PngJob } from "./png-encode-worker.js";
import { CAMERA_INFO_SCHEMA, COMPRESSED_IMAGE_SCHEMA, IMAGE_SCHEMA, JOINT_STATE_SCHEMA, rosTime } from "./schemas.js";
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
  readonly estimateTopic: string;
  #estimate: LogChannel | undefined;
  #image: LogChannel;
  #info: LogChannel;
  #worker: Worker | undefined;
  #nextJob = 0;
  #pending = new Map<number, { stampNs: bigint; encoding: string }>();
  #drained: Array<() => void> = [];
  #error: Error | undefined;

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
    this.estimateTopic = `${ns}/perception/joint_states`;
    this.#image = this.compressed === "png" ? log.channel(this.imageTopic, COMPRESSED_IMAGE_SCHEMA) : log.channel(this.imageTopic, IMAGE_SCHEMA);
    this.#info = log.channel(this.infoTopic, CAMERA_INFO_SCHEMA);
  }

  /** Logs a frame taken at `stampNs` (acquisition time; default now). With PNG, the frame is copied and logged once encoded. */
  frame(frame: RawImage, stampNs?: bigint): void {
    const t = stampNs ?? this.log.now();
    if (this.compressed === "none") {
      this.#image.write(imageToMessage(frame, t, this.frameId), t);
      return;
    }
    if (this.#error) throw this.#error;
    const packed: PackedImage =
      (frame.encoding === "rgb8" || frame.encoding === "mono8") && frame.step === frame.width * (frame.encoding === "rgb8" ? 3 : 1)
        ? { width: frame.width, height: frame.height, encoding: frame.encoding, data: frame.data.slice() }
        : decodeImage(frame, frame.encoding.startsWith("mono") ? "mono8" : "rgb8");
    const id = this.#nextJob++;
    this.#pending.set(id, { stampNs: t, encoding: packed.encoding });
    const job: PngJob = { id, image: packed };
    const w = this.#pngWorker();
    // Referenced while frames are in flight, so the process waits for them.
    if (this.#pending.size === 1) w.ref();
    w.postMessage(job, [packed.data.buffer as ArrayBuffer]);
  }

  /** Frames handed to the PNG encoder and not yet logged. */
  get pendingFrames(): number {
    return this.#pending.size;
  }

  /** Waits until every frame handed over is logged, then stops the encoder thread. Call before closing the session log. */
  async close(): Promise<void> {
    if (this.#pending.size) await new Promise<void>((resolve) => this.#drained.push(resolve));
    await this.#worker?.terminate();
    this.#worker = undefined;
    if (this.#error) throw this.#error;
  }

  #pngWorker(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL("./png-encode-worker.js", import.meta.url));
    w.on("message", (m: { id: number; png?: Uint8Array; error?: string }) => {
      const job = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (job && m.png && !this.log.closed) {
        const fmt = `${job.encoding}; png compressed ${job.encoding}`;
        this.#image.write({ header: { stamp: rosTime(job.stampNs), frame_id: this.frameId }, format: fmt, data: m.png }, job.stampNs);
      } else if (m.error) this.#error = new Error(`camera log ${this.imageTopic}: PNG encoding failed: ${m.error}`);
      if (this.#pending.size === 0) {
        w.unref();
        for (const r of this.#drained.splice(0)) r();
      }
    });
    w.on("error", (e) => {
      this.#error = new Error(`camera log ${this.imageTopic}: PNG encoder thread failed: ${e.message}`);
      this.#pending.clear();
      for (const r of this.#drained.splice(0)) r();
    });
    // An idle encoder must not keep the process alive.
    w.unref();
    this.#worker = w;
    return w;
  }

  /**
   * The perception network's joint estimate for the frame taken at
   * `stampNs`, as sensor_msgs/JointState on `<ns>/perception/joint_states`,
   * so Foxglove plots it beside the encoders' /joint_states.
   */
  estimate(names: readonly string[], angles: ArrayLike<number>, stampNs: bigint): void {
    if (angles.length !== names.length) throw new Error(`camera log ${this.estimateTopic}: ${names.length} joint names but ${angles.length} angles`);
    this.#estimate ??= this.log.channel(this.estimateTopic, JOINT_STATE_SCHEMA);
    this.#estimate.write({ header: { stamp: rosTime(stampNs), frame_id: this.frameId }, name: names, position: Array.from(angles), velocity: [], effort: [] }, stampNs);
  }

  info(intrinsics: CameraIntrinsics, stampNs?: bigint): void {
    const t = stampNs ?? this.log.now();
    this.#info.write(cameraInfoToMessage(intrinsics, t, this.frameId), t);
  }
}
