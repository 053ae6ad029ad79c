/**
 * Puts a Ros2EmulatedRobot on ROS 2 like a ros2_control robot: JointState on
 * the rig's state topic at a fixed rate, stamped with the system clock (ROS
 * time), and the newest Float64MultiArray on its command topic applied as it
 * arrives. The plant advances on every event-loop turn (a 1 ms interval),
 * before each publication and before each command.
 */

import type { MessageInput, JointState } from "../ros2/messages.js";
import { timeFromMs } from "../ros2/messages.js";
import { fullyQualifiedTopic } from "../ros2/names.js";
import { DEFAULT_QOS } from "../ros2/qos.js";
import type { Ros2Transport } from "../ros2/transport.js";
import type { Ros2EmulatedRobot } from "./ros2-emulated-robot.js";

export interface Ros2EmulatorServerOptions {
  /** Default: the rig file's ros2.jointStatesTopic. */
  stateTopic?: string;
  /** Default: the rig file's ros2.commandTopic. */
  commandTopic?: string;
  /** JointState messages per second. */
  rateHz: number;
  /** Milliseconds clock (monotonic). Default performance.now. */
  clock?: () => number;
  /** Wall clock for the header stamps, ms since the Unix epoch. Default: the system clock at the monotonic clock's resolution. */
  wallClock?: () => number;
  /** Told about failures inside the serving loop (e.g. a diverging simulation); serving stops. */
  onError?: (e: Error) => void;
  /** Told about each refused command (wrong length, non-finite); serving goes on. */
  onRejected?: (problem: string) => void;
}

export interface Ros2EmulatorServer {
  readonly stateTopic: string;
  readonly commandTopic: string;
  /** JointState messages published so far. */
  readonly published: number;
  /** Resolves when serving ends (close() or an error). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export function serveRos2Emulator(robot: Ros2EmulatedRobot, transport: Ros2Transport, o: Ros2EmulatorServerOptions): Ros2EmulatorServer {
  if (!(o.rateHz > 0 && o.rateHz <= 1000)) throw new RangeError(`emulator: the joint-state rate must be in (0, 1000] Hz, got ${o.rateHz}`);
  const rig = robot.options.rig;
  const stateTopic = fullyQualifiedTopic(o.stateTopic ?? rig.ros2.jointStatesTopic);
  const commandTopic = fullyQualifiedTopic(o.commandTopic ?? rig.ros2.commandTopic);
  const clock = o.clock ?? (() => performance.now());
  // Date.now() has whole milliseconds: two publications in one millisecond would carry the same stamp.
  const wallClock = o.wallClock ?? (() => performance.timeOrigin + performance.now());
  const periodMs = 1000 / o.rateHz;
  const publisher = transport.createPublisher(stateTopic, "sensor_msgs/msg/JointState", DEFAULT_QOS);
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  let stopped = false;
  let published = 0;
  const fail = (e: unknown) => {
    o.onError?.(e instanceof Error ? e : new Error(String(e)));
    void stop();
  };
  const subscription = transport.createSubscription(commandTopic, "std_msgs/msg/Float64MultiArray", DEFAULT_QOS, (m) => {
    if (stopped) return;
    try {
      const problem = robot.command(m.data, clock());
      if (problem) o.onRejected?.(problem);
    } catch (e) {
      fail(e);
    }
  });
  const message: MessageInput<JointState> & { header: { stamp: { sec: number; nanosec: number }; frame_id: string } } = {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" },
    name: robot.jointNames,
  };
  let next = clock();
  const turn = setInterval(() => {
    try {
      const now = clock();
      robot.advanceTo(now);
      if (now < next) return;
      // Behind by more than a period (a stall): publish now and keep the rate from here, no burst.
      next = now - next > periodMs ? now + periodMs : next + periodMs;
      const r = robot.sample();
      message.header.stamp = timeFromMs(wallClock());
      message.position = r.position;
      message.velocity = r.velocity;
      message.effort = r.effort;
      publisher.publish(message);
      published++;
    } catch (e) {
      fail(e);
    }
  }, 1);
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(turn);
    subscription.dispose();
    publisher.dispose();
    resolveEnded();
  };
  return {
    stateTopic,
    commandTopic,
    get published() {
      return published;
    },
    ended,
    close: stop,
  };
}
