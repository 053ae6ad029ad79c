/**
 * Camera frames of a recording (MCAP as rosbag2 or `s2r record` writes it, or
 * an s2r session log), each labelled with the joint angles at its header
 * stamp: sensor_msgs/Image, sensor_msgs/CompressedImage, foxglove.RawImage
 * or foxglove.CompressedImage frames; sensor_msgs/JointState interpolated
 * (JointTrack); sensor_msgs/CameraInfo for the intrinsics check.
 *
 * Two passes over the file: the first gathers the joint states and the camera
 * info (small), the second streams the frames, so a long high-resolution
 * recording never sits in memory.
 */
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import type { RawImage } from "../../sim/sensors/image.js";
import { cameraInfoFromMessage, decodeImageMessage, headerStampNs, IMAGE_TYPES, isImageChannel, normalizeSchemaName } from "./image-messages.js";
import { JointTrack, type JointSample } from "./joint-track.js";
import { readSessionLog, type LoggedChannel } from "./read-session-log.js";

export interface PairedFrame {
  /** Index among the image topic's messages. */
  index: number;
  stampNs: bigint;
  image: RawImage;
  /** Joint positions at stampNs, in the order of CameraRecordingInfo.jointNames (rad, unwrapped). */
  joints: Float64Array;
}

export interface CameraRecordingOptions {
  imageTopic?: string;
  jointTopic?: string;
  cameraInfoTopic?: string;
  /** Joints to label frames with; default those of the first JointState. */
  jointNames?: readonly string[];
  /** Frames whose bracketing joint states are further apart than this are not paired. Default 0.1 s. */
  maxGapNs?: number;
  onFrame: (frame: PairedFrame) => void | Promise<void>;
  /** Called once the topics, joints and camera info are known, before the first frame. */
  onStart?: (info: CameraRecordingInfo) => void;
  /** Called after each image message with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface CameraRecordingInfo {
  file: string;
  imageTopic: string;
  imageType: string;
  jointTopic: string;
  jointNames: readonly string[];
  cameraInfoTopic: string | undefined;
  /** From the first CameraInfo message, when the recording has one. */
  cameraInfo: CameraIntrinsics | undefined;
  /** The encoding of the first frame (after decompression for compressed images). */
  imageEncoding: string | undefined;
  imageMessages: number;
  paired: number;
  /** Frames outside the joint states' time span or in a gap of them. */
  unpaired: number;
  truncation: string | undefined;
}

function pickTopic(channels: LoggedChannel[], match: (c: LoggedChannel) => boolean, wanted: string | undefined, what: string, flag: string, file: string): LoggedChannel {
  const candidates = channels.filter(match);
  if (wanted !== undefined) {
    const c = channels.find((x) => x.topic === wanted);
    if (!c) throw new Error(`${file}: no topic ${wanted} (${what} topics: ${candidates.map((x) => x.topic).join(", ") || "none"})`);
    if (!match(c)) throw new Error(`${file}: ${wanted} carries ${c.schemaName}, not ${what}`);
    return c;
  }
  if (candidates.length === 0) throw new Error(`${file}: no ${what} topic (topics: ${channels.map((x) => `${x.topic} [${x.schemaName}]`).join(", ") || "none"})`);
  if (candidates.length > 1) throw new Error(`${file}: several ${what} topics (${candidates.map((x) => x.topic).join(", ")}); choose one with ${flag}`);
  return candidates[0]!;
}

export async function readCameraRecording(file: string, options: CameraRecordingOptions): Promise<CameraRecordingInfo> {
  const joints = new Map<string, JointSample[]>();
  const infos = new Map<string, Record<string, unknown>>();
  const first = await readSessionLog(file, {
    onMessage: (m) => {
      const type = normalizeSchemaName(m.channel.schemaName);
      if (type === IMAGE_TYPES.jointState && (options.jointTopic === undefined || m.topic === options.jointTopic)) {
        const v = m.decode() as { name: string[]; position: number[] };
        const list = joints.get(m.topic) ?? [];
        list.push({ stampNs: headerStampNs(v, `${m.topic}[${m.sequence}]`), name: v.name, position: v.position });
        joints.set(m.topic, list);
      } else if (type === IMAGE_TYPES.cameraInfo && !infos.has(m.topic)) {
        infos.set(m.topic, m.decode());
      }
    },
  });
  const imageCh = pickTopic(first.channels, isImageChannel, options.imageTopic, "image", "--image-topic", file);
  const jointCh = pickTopic(first.channels, (c) => normalizeSchemaName(c.schemaName) === IMAGE_TYPES.jointState, options.jointTopic, "sensor_msgs/msg/JointState", "--joint-topic", file);
  const track = JointTrack.fromSamples(joints.get(jointCh.topic) ?? [], options.jointNames, `${file} ${jointCh.topic}`);

  // camera_info: the one given, else the one beside the image topic (/camera/image_raw -> /camera/camera_info), else the only one.
  let infoTopic = options.cameraInfoTopic;
  if (infoTopic === undefined) {
    const ns = imageCh.topic.replace(/\/image[^/]*(\/compressed)?$/, "");
    infoTopic = infos.has(`${ns}/camera_info`) ? `${ns}/camera_info` : infos.size === 1 ? [...infos.keys()][0] : undefined;
  } else if (!infos.has(infoTopic)) {
    throw new Error(`${file}: no CameraInfo message on ${infoTopic} (CameraInfo topics: ${[...infos.keys()].join(", ") || "none"})`);
  }
  const info = infoTopic === undefined ? undefined : cameraInfoFromMessage(infos.get(infoTopic)!, infoTopic);

  const out: CameraRecordingInfo = {
    file,
    imageTopic: imageCh.topic,
    imageType: imageCh.schemaName,
    jointTopic: jointCh.topic,
    jointNames: track.names,
    cameraInfoTopic: infoTopic,
    cameraInfo: info,
    imageEncoding: undefined,
    imageMessages: 0,
    paired: 0,
    unpaired: 0,
    truncation: first.truncation,
  };
  const total = imageCh.messageCount;
  options.onStart?.(out);
  await readSessionLog(file, {
    topics: [imageCh.topic],
    onMessage: async (m) => {
      const index = out.imageMessages++;
      const { stampNs, image } = decodeImageMessage(m);
      out.imageEncoding ??= image.encoding;
      const q = track.at(stampNs, options.maxGapNs);
      if (q) {
        out.paired++;
        await options.onFrame({ index, stampNs, image, joints: q });
      } else out.unpaired++;
      options.onProgress?.(out.imageMessages, total);
    },
  });
  return out;
}
