/**
 * The ROS 2 messages s2r exchanges, as plain objects with ROS 2's own field
 * names (so they match rclnodejs messages and `ros2 topic echo` output), and
 * the DDS type name each one has on the wire.
 *
 * Received messages always have every field, with `number[]` for float64
 * sequences and a Uint8Array for image data. Published messages may leave
 * fields out (an unset ROS field is zero / empty) and may pass Float64Arrays.
 */

export interface Time {
  /** Seconds since the Unix epoch (int32). */
  sec: number;
  /** uint32, < 1e9 */
  nanosec: number;
}

export interface Header {
  stamp: Time;
  frame_id: string;
}

/** sensor_msgs/msg/JointState */
export interface JointState {
  header: Header;
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}

/** std_msgs/msg/MultiArrayDimension */
export interface MultiArrayDimension {
  label: string;
  size: number;
  stride: number;
}

/** std_msgs/msg/Float64MultiArray */
export interface Float64MultiArray {
  layout: { dim: MultiArrayDimension[]; data_offset: number };
  data: number[];
}

/** sensor_msgs/msg/Image */
export interface Image {
  header: Header;
  height: number;
  width: number;
  /** e.g. "rgb8", "mono8" */
  encoding: string;
  is_bigendian: number;
  /** Bytes per row. */
  step: number;
  data: Uint8Array;
}

/** sensor_msgs/msg/CompressedImage: format "png", "jpeg", or image_transport's "rgb8; png compressed bgr8". */
export interface CompressedImage {
  header: Header;
  format: string;
  data: Uint8Array;
}

/** sensor_msgs/msg/RegionOfInterest */
export interface RegionOfInterest {
  x_offset: number;
  y_offset: number;
  height: number;
  width: number;
  do_rectify: boolean;
}

/** sensor_msgs/msg/CameraInfo: the calibration of the camera whose images share its frame_id. */
export interface CameraInfo {
  header: Header;
  height: number;
  width: number;
  /** "plumb_bob": d = [k1, k2, t1, t2, k3] */
  distortion_model: string;
  d: number[];
  /** 3x3 row-major intrinsic matrix. */
  k: number[];
  /** 3x3 rectification matrix. */
  r: number[];
  /** 3x4 projection matrix. */
  p: number[];
  binning_x: number;
  binning_y: number;
  roi: RegionOfInterest;
}

/** ROS 2 type name -> message shape. */
export interface MessageTypes {
  "sensor_msgs/msg/JointState": JointState;
  "std_msgs/msg/Float64MultiArray": Float64MultiArray;
  "sensor_msgs/msg/Image": Image;
  "sensor_msgs/msg/CameraInfo": CameraInfo;
  "sensor_msgs/msg/CompressedImage": CompressedImage;
}

export type MessageTypeName = keyof MessageTypes;

export const MESSAGE_TYPE_NAMES: readonly MessageTypeName[] = ["sensor_msgs/msg/JointState", "std_msgs/msg/Float64MultiArray", "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo", "sensor_msgs/msg/CompressedImage"];

/** What publish() accepts for a message of shape T: any field may be left out; numeric arrays may be typed arrays. */
export type MessageInput<T> = T extends number[]
  ? readonly number[] | Float64Array
  : T extends Uint8Array
    ? Uint8Array | readonly number[]
    : T extends string[]
      ? readonly string[]
      : T extends (infer E)[]
        ? readonly MessageInput<E>[]
        : T extends object
          ? { [K in keyof T]?: MessageInput<T[K]> }
          : T;

export function isMessageTypeName(name: string): name is MessageTypeName {
  return (MESSAGE_TYPE_NAMES as readonly string[]).includes(name);
}

/** Throws naming the supported types when `name` is not one of them. */
export function checkMessageType(name: string): MessageTypeName {
  if (!isMessageTypeName(name)) {
    throw new Error(`ros2: unsupported message type ${JSON.stringify(name)}; supported: ${MESSAGE_TYPE_NAMES.join(", ")}`);
  }
  return name;
}

/**
 * The type name ROS 2 middleware announces in DDS discovery:
 * "sensor_msgs/msg/JointState" -> "sensor_msgs::msg::dds_::JointState_".
 */
export function ddsTypeName(name: MessageTypeName): string {
  const [pkg, kind, type] = name.split("/");
  return `${pkg}::${kind}::dds_::${type}_`;
}

/** A ROS Time from milliseconds since the Unix epoch (e.g. Date.now()). */
export function timeFromMs(epochMs: number): Time {
  const ns = Math.round(epochMs * 1e6);
  const sec = Math.floor(ns / 1e9);
  return { sec, nanosec: ns - sec * 1e9 };
}

/** Milliseconds since the Unix epoch of a ROS Time. */
export function timeToMs(t: Time): number {
  return t.sec * 1e3 + t.nanosec / 1e6;
}

/** A Float64MultiArray holding `data` with an empty layout, the form ros2_control's forward command controllers read. */
export function float64MultiArray(data: readonly number[] | Float64Array): MessageInput<Float64MultiArray> {
  return { layout: { dim: [], data_offset: 0 }, data };
}
