/**
 * A camera on the robot over ROS 2, the way deploy uses one: frames from
 * sensor_msgs/Image (any encoding decodeImage reads, step padding handled) on
 * the rig's topic, and its sensor_msgs/CameraInfo checked against the camera
 * the model was trained for before anything moves: a mismatch refuses to
 * start and says what differs. A frame older than the latency budget is
 * stale, like a stale joint state: frame() throws, and the loop's safety
 * path stops the robot.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { cameraDifferences } from "../../sim/sensors/camera-compare.js";
import type { PackedEncoding, RawImage } from "../../sim/sensors/image.js";
import { cameraInfoFromMessage, messageToImage } from "../log/image-messages.js";
import { LatestMessage } from "./latest.js";
import type { CameraInfo, Image } from "./messages.js";
import { SENSOR_DATA_QOS } from "./qos.js";
import type { Ros2Transport } from "./transport.js";

export class CameraMismatchError extends Error {
  constructor(
    readonly topic: string,
    readonly differences: string[],
  ) {
    super(`the camera on ${topic} is not the one the model was trained for, so the robot was not started:\n  ${differences.join("\n  ")}`);
    this.name = "CameraMismatchError";
  }
}

export class StaleFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StaleFrameError";
  }
}

export interface Ros2CameraOptions {
  /** Default "/camera/image_raw". */
  imageTopic?: string;
  /** Default "/camera/camera_info". */
  infoTopic?: string;
  /** The model's camera (its manifest) and input encoding. */
  expected: { intrinsics: CameraIntrinsics; encoding: PackedEncoding };
  /** A frame received longer ago than this is stale, ms. */
  latencyBudgetMs: number;
  /** How long to wait for the first camera_info. Default 3000 ms. */
  infoTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface CameraFrame {
  image: RawImage;
  /** Acquisition time from the header, ns since the Unix epoch. */
  stampNs: bigint;
  /** Since the frame reached this process, ms. */
  ageMs: number;
  /** 1 for the first frame received, then 2, 3, ... */
  seq: number;
}

export class Ros2Camera {
  readonly imageTopic: string;
  readonly infoTopic: string;
  readonly latencyBudgetMs: number;
  readonly intrinsics: CameraIntrinsics;
  #images: LatestMessage<Image>;
  #decoded: CameraFrame | undefined;

  private constructor(images: LatestMessage<Image>, infoTopic: string, latencyBudgetMs: number, intrinsics: CameraIntrinsics) {
    this.#images = images;
    this.imageTopic = images.topic;
    this.infoTopic = infoTopic;
    this.latencyBudgetMs = latencyBudgetMs;
    this.intrinsics = intrinsics;
  }

  /** Subscribes, waits for camera_info and checks it; rejects with CameraMismatchError naming every difference. */
  static async open(transport: Ros2Transport, o: Ros2CameraOptions): Promise<Ros2Camera> {
    if (!(o.latencyBudgetMs > 0)) throw new RangeError(`Ros2Camera: latencyBudgetMs must be > 0, got ${o.latencyBudgetMs}`);
    const imageTopic = o.imageTopic ?? "/camera/image_raw";
    const infoTopic = o.infoTopic ?? "/camera/camera_info";
    // Camera drivers publish with the sensor-data profile; a best-effort reader matches them and reliable ones.
    const info = LatestMessage.subscribe(transport, infoTopic, "sensor_msgs/msg/CameraInfo", SENSOR_DATA_QOS);
    const images = LatestMessage.subscribe(transport, imageTopic, "sensor_msgs/msg/Image", SENSOR_DATA_QOS);
    try {
      let msg: CameraInfo;
      try {
        msg = (info.latest ?? (await info.next(o.infoTimeoutMs ?? 3000, o.signal))).message;
      } catch (e) {
        throw new Error(`${(e as Error).message.replace(/^ros2: /, "")}: the camera's calibration is needed before starting (is the camera driver running, publishing ${infoTopic}?)`);
      }
      const actual = cameraInfoFromMessage(msg as unknown as Record<string, unknown>, infoTopic);
      // The stream's encoding is checked on the first frame, if one has come already.
      const enc = images.latest?.message.encoding;
      const differences = cameraDifferences(o.expected.intrinsics, actual, enc === undefined ? undefined : { expected: o.expected.encoding, actual: enc });
      if (differences.length) throw new CameraMismatchError(infoTopic, differences);
      return new Ros2Camera(images, infoTopic, o.latencyBudgetMs, actual);
    } catch (e) {
      images.dispose();
      throw e;
    } finally {
      info.dispose();
    }
  }

  /** The newest frame; throws StaleFrameError when there is none yet or it is older than the latency budget. */
  frame(now = performance.now()): CameraFrame {
    const r = this.#images.latest;
    const age = this.#images.ageMs(now);
    if (!r || age > this.latencyBudgetMs) {
      throw new StaleFrameError(
        r
          ? `${this.imageTopic} is stale: the newest frame is ${age.toFixed(0)} ms old (the latency budget is ${this.latencyBudgetMs.toFixed(0)} ms); has the camera or its driver stopped?`
          : `${this.imageTopic}: no frame received yet (latency budget ${this.latencyBudgetMs.toFixed(0)} ms)`,
      );
    }
    if (this.#decoded?.seq !== r.seq) {
      const m = r.message;
      const stampNs = BigInt(m.header.stamp.sec) * 1_000_000_000n + BigInt(m.header.stamp.nanosec);
      this.#decoded = { image: messageToImage(m as unknown as Record<string, unknown>, `${this.imageTopic}[${r.seq}]`), stampNs, ageMs: age, seq: r.seq };
    }
    return { ...this.#decoded, ageMs: age };
  }

  dispose(): void {
    this.#images.dispose();
  }
}
