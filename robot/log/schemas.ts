/**
 * The ros2msg schemas of the session log's standard channels, written out in
 * full with their dependencies so that Foxglove (or any MCAP ROS 2 reader)
 * decodes the file without a ROS installation.
 *
 * /policy uses a message of our own, s2r_msgs/msg/PolicyStep, rather than a
 * Float64MultiArray with a label per element: MultiArrayLayout describes the
 * shape of a tensor, not the meaning of its entries, so per-element labels
 * would misuse it, and observation, action, value and the OSI estimate have
 * different lengths that one flat array would blur together. Named fields show
 * up as such in Foxglove's plot and raw-message panels. /timing is likewise
 * s2r_msgs/msg/LoopTiming.
 */
import { concatMsgDefinitions } from "./ros2msg.js";

export interface LogSchema {
  /** ROS 2 type name, e.g. "sensor_msgs/msg/JointState". */
  name: string;
  /** Complete ros2msg text: the type, then every dependency after a MSG: separator. */
  definition: string;
}

const TIME = `# A point in time: seconds and nanoseconds since the Unix epoch.
int32 sec
uint32 nanosec`;

const HEADER = `# When the data was measured, and in which coordinate frame.
builtin_interfaces/Time stamp
string frame_id`;

const MULTI_ARRAY_DIMENSION = `string label   # name of this dimension
uint32 size    # number of elements along it
uint32 stride  # elements spanned by this dimension and all inner ones`;

const MULTI_ARRAY_LAYOUT = `std_msgs/MultiArrayDimension[] dim  # outermost dimension first
uint32 data_offset                   # elements to skip at the start of data`;

export const JOINT_STATE_SCHEMA: LogSchema = {
  name: "sensor_msgs/msg/JointState",
  definition: concatMsgDefinitions(
    `# Joint positions (rad), velocities (rad/s) and efforts (N m) at one instant.
# The arrays follow the order of name; an empty array means "not measured".
std_msgs/Header header
string[] name
float64[] position
float64[] velocity
float64[] effort`,
    [
      ["std_msgs/Header", HEADER],
      ["builtin_interfaces/Time", TIME],
    ],
  ),
};

export const FLOAT64_MULTI_ARRAY_SCHEMA: LogSchema = {
  name: "std_msgs/msg/Float64MultiArray",
  definition: concatMsgDefinitions(
    `# A flat array of float64 values and the layout that gives it a shape.
std_msgs/MultiArrayLayout layout
float64[] data`,
    [
      ["std_msgs/MultiArrayLayout", MULTI_ARRAY_LAYOUT],
      ["std_msgs/MultiArrayDimension", MULTI_ARRAY_DIMENSION],
    ],
  ),
};

export const LOG_SCHEMA: LogSchema = {
  name: "rcl_interfaces/msg/Log",
  definition: concatMsgDefinitions(
    `# A log line: what happened, how severe, and where.
byte DEBUG=10
byte INFO=20
byte WARN=30
byte ERROR=40
byte FATAL=50
builtin_interfaces/Time stamp
uint8 level      # one of the constants above
string name      # who logged it
string msg
string file
string function
uint32 line`,
    [["builtin_interfaces/Time", TIME]],
  ),
};

export const POLICY_STEP_SCHEMA: LogSchema = {
  name: "s2r_msgs/msg/PolicyStep",
  definition: concatMsgDefinitions(
    `# One control step of a deployed s2r policy.
builtin_interfaces/Time stamp
float64[] observation   # what the policy was given, in its observation order
float64[] action        # raw network output, before scaling to actuator units and safety clipping
float64 value           # critic estimate of the return; NaN when the network has no value head
string[] osi_names      # physical parameters estimated by online system identification
float64[] osi_estimate  # their current estimate, in the order of osi_names`,
    [["builtin_interfaces/Time", TIME]],
  ),
};

export const LOOP_TIMING_SCHEMA: LogSchema = {
  name: "s2r_msgs/msg/LoopTiming",
  definition: concatMsgDefinitions(
    `# Timing of one control-loop cycle. Durations in milliseconds.
builtin_interfaces/Time stamp
uint32 cycle              # cycle number, from 0
float64 period_ms         # time since the previous cycle started
float64 target_period_ms  # the period the loop aims for
float64 read_ms           # reading the sensors
float64 infer_ms          # running the policy
float64 write_ms          # sending the command
bool deadline_missed      # the cycle finished after its deadline
float64 wake_late_ms      # how late the loop woke after the cycle's due time (scheduling)
float64 stale_ms          # time since the previous fresh state, at this cycle's read; NaN: unknown
string late_cause         # when late: the part that took longest (scheduling, read, vision, inference, write); else empty
float64 vision_ms         # camera perception (frame to joint estimate); NaN: no camera`,
    [["builtin_interfaces/Time", TIME]],
  ),
};

/** Severity levels of rcl_interfaces/msg/Log. */
export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 } as const;
export type EventLevel = keyof typeof LOG_LEVELS;

export function levelName(level: number): EventLevel | `level ${number}` {
  for (const [name, v] of Object.entries(LOG_LEVELS)) if (v === level) return name as EventLevel;
  return `level ${level}`;
}

export interface RosTime {
  sec: number;
  nanosec: number;
}

/** Nanoseconds since the Unix epoch to builtin_interfaces/Time. */
export function rosTime(ns: bigint): RosTime {
  const sec = ns / 1_000_000_000n;
  const nanosec = ns - sec * 1_000_000_000n;
  return nanosec < 0n ? { sec: Number(sec) - 1, nanosec: Number(nanosec + 1_000_000_000n) } : { sec: Number(sec), nanosec: Number(nanosec) };
}

export function fromRosTime(t: RosTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);
}

const REGION_OF_INTEREST = `# A rectangle of the full-resolution image; all zeros means the whole image.
uint32 x_offset
uint32 y_offset
uint32 height
uint32 width
bool do_rectify`;

/** Camera frames, as ROS 2 image drivers publish them and Foxglove's Image panel shows them. */
export const IMAGE_SCHEMA: LogSchema = {
  name: "sensor_msgs/msg/Image",
  definition: concatMsgDefinitions(
    `# An uncompressed image; (0, 0) is the top-left corner. header.stamp is the acquisition time,
# header.frame_id the camera's optical frame (x right, y down, z forward).
std_msgs/Header header
uint32 height        # rows
uint32 width         # columns
string encoding      # pixel layout, e.g. rgb8, bgr8, mono8, yuv422_yuy2
uint8 is_bigendian
uint32 step          # row length in bytes, padding included
uint8[] data         # step * height bytes`,
    [
      ["std_msgs/Header", HEADER],
      ["builtin_interfaces/Time", TIME],
    ],
  ),
};

export const COMPRESSED_IMAGE_SCHEMA: LogSchema = {
  name: "sensor_msgs/msg/CompressedImage",
  definition: concatMsgDefinitions(
    `# A compressed image; format is "png" or "jpeg" (image_transport writes e.g. "rgb8; png compressed bgr8").
std_msgs/Header header
string format
uint8[] data`,
    [
      ["std_msgs/Header", HEADER],
      ["builtin_interfaces/Time", TIME],
    ],
  ),
};

export const CAMERA_INFO_SCHEMA: LogSchema = {
  name: "sensor_msgs/msg/CameraInfo",
  definition: concatMsgDefinitions(
    `# Calibration of the camera whose images share this header.frame_id.
std_msgs/Header header
uint32 height
uint32 width
string distortion_model   # plumb_bob: d = [k1, k2, t1, t2, k3]
float64[] d
float64[9] k              # intrinsic matrix, row-major [fx 0 cx; 0 fy cy; 0 0 1]
float64[9] r              # rectification (identity for a monocular camera)
float64[12] p             # projection [fx' 0 cx' Tx; 0 fy' cy' Ty; 0 0 1 0]
uint32 binning_x
uint32 binning_y
sensor_msgs/RegionOfInterest roi`,
    [
      ["std_msgs/Header", HEADER],
      ["builtin_interfaces/Time", TIME],
      ["sensor_msgs/RegionOfInterest", REGION_OF_INTEREST],
    ],
  ),
};
