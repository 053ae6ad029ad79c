/**
 * A robot behind ROS 2, driven the ros2_control way: its joint_state_broadcaster
 * publishes sensor_msgs/JointState, and a forward command controller takes
 * std_msgs/Float64MultiArray commands (here volts, in the rig's actuator
 * order). Topics and joint names come from the rig file's `ros2` section.
 *
 * ROS 2 offers no torque off and no bus watchdog: the only way to stop the
 * motors from here is a zero command. So a state that stops arriving (robot,
 * network or broadcaster gone) is treated as a fault: a state older than the
 * stale limit (default 3 control periods, by receive time) makes read()
 * publish a zero command, stop accepting writes and throw a HardwareError.
 */

import { HardwareError, type HardwareInterface, type JointStateFrame } from "../hardware/interface.js";
import { rigActuators, rigJointOrder, type RigConfig } from "../rigs/rig-config.js";
import { JointStateMapper } from "./joint-state-map.js";
import { LatestMessage } from "./latest.js";
import type { Float64MultiArray, JointState } from "./messages.js";
import { fullyQualifiedTopic } from "./names.js";
import { openRos2Transport } from "./open.js";
import { DEFAULT_QOS } from "./qos.js";
import type { Publisher, Ros2Transport, TransportName } from "./transport.js";

export interface Ros2HardwareOptions {
  /** The policy's control period, s: sets the default stale limit. */
  controlPeriodSec: number;
  /** Default: the rig file's ros2.jointStatesTopic. */
  stateTopic?: string;
  /** Default: the rig file's ros2.commandTopic. */
  commandTopic?: string;
  /** A state older than this (by receive time) stops the robot, ms. Default 3 control periods. */
  staleAfterMs?: number;
  /** How long activate() (and a first read()) wait for discovery and a first state, ms. Default 5000. */
  connectTimeoutMs?: number;
}

export interface OpenRos2HardwareOptions extends Ros2HardwareOptions {
  /** Default: ROS_DOMAIN_ID, else 0. */
  domainId?: number;
  /** Transport tried first (default rclnodejs where ROS 2 is sourced, else Cyclone DDS). */
  prefer?: TransportName;
}

export const STALE_CONTROL_PERIODS = 3;

export class Ros2Hardware implements HardwareInterface {
  readonly name: string;
  readonly jointNames: readonly string[];
  readonly commandNames: readonly string[];
  readonly commandUnit = "V";
  /** What ros2_control Dynamixel interfaces export as effort: the motor current (NaN where the robot reports none). */
  readonly effortUnit = "A";
  readonly stateTopic: string;
  readonly commandTopic: string;
  readonly staleAfterMs: number;
  /** What the last deactivate() could not confirm. */
  lastDeactivateProblems: string[] = [];

  private readonly state: LatestMessage<JointState>;
  private readonly publisher: Publisher<Float64MultiArray>;
  private readonly mapper: JointStateMapper;
  private readonly connectTimeoutMs: number;
  /** One message object, refilled per write (the transport serializes it synchronously). */
  private readonly message: { layout: { dim: never[]; data_offset: number }; data: Float64Array };
  private active = false;
  private closed = false;

  /** `ownsTransport`: close() disposes the transport too (as open() arranges). */
  constructor(
    readonly transport: Ros2Transport,
    readonly rig: RigConfig,
    options: Ros2HardwareOptions,
    private readonly ownsTransport = false,
  ) {
    if (!(options.controlPeriodSec > 0)) throw new RangeError(`Ros2Hardware: controlPeriodSec must be > 0, got ${options.controlPeriodSec}`);
    this.name = rig.name;
    this.jointNames = rigJointOrder(rig);
    // The frame is in the rig's joint order (the policy's); every joint must be on the ROS side.
    for (const j of this.jointNames) {
      if (!rig.ros2.jointNames.includes(j)) throw new HardwareError(`rig ${rig.name}: joint ${JSON.stringify(j)} is not in ros2.jointNames [${rig.ros2.jointNames.join(", ")}]: it could not be read over ROS 2`);
    }
    this.commandNames = rigActuators(rig);
    this.stateTopic = fullyQualifiedTopic(options.stateTopic ?? rig.ros2.jointStatesTopic);
    this.commandTopic = fullyQualifiedTopic(options.commandTopic ?? rig.ros2.commandTopic);
    this.staleAfterMs = options.staleAfterMs ?? STALE_CONTROL_PERIODS * options.controlPeriodSec * 1000;
    if (!(this.staleAfterMs > 0)) throw new RangeError(`Ros2Hardware: staleAfterMs must be > 0, got ${this.staleAfterMs}`);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.mapper = new JointStateMapper(this.jointNames, this.stateTopic);
    this.message = { layout: { dim: [], data_offset: 0 }, data: new Float64Array(this.commandNames.length) };
    this.state = LatestMessage.subscribe(transport, this.stateTopic, "sensor_msgs/msg/JointState", DEFAULT_QOS);
    try {
      this.publisher = transport.createPublisher(this.commandTopic, "std_msgs/msg/Float64MultiArray", DEFAULT_QOS);
    } catch (e) {
      this.state.dispose();
      throw e;
    }
  }

  /** Opens a ROS 2 transport (see openRos2Transport) and the robot's topics on it; failures are HardwareErrors. */
  static async open(rig: RigConfig, options: OpenRos2HardwareOptions): Promise<Ros2Hardware> {
    let transport: Ros2Transport;
    try {
      transport = await openRos2Transport({ domainId: options.domainId, prefer: options.prefer });
    } catch (e) {
      throw new HardwareError((e as Error).message, e);
    }
    try {
      return new Ros2Hardware(transport, rig, options, true);
    } catch (e) {
      transport.dispose();
      throw e;
    }
  }

  /** "cyclone, domain 42: /joint_states -> /arm_voltage_controller/commands", for logs. */
  describe(): string {
    return `ROS 2 (${this.transport.name}, domain ${this.transport.domainId}): ${this.stateTopic} -> ${this.commandTopic}`;
  }

  /** Joints whose velocity is computed from positions because the robot reports none. */
  get differencedJoints(): string[] {
    return this.mapper.differencedJoints;
  }

  /**
   * Waits, up to connectTimeoutMs, for the state publisher and the command
   * subscriber to be discovered and for a fresh state: with volatile QoS a
   * command published before its subscriber matched would simply be lost.
   */
  async activate(): Promise<void> {
    this.checkOpen();
    const deadline = performance.now() + this.connectTimeoutMs;
    const domain = `ROS_DOMAIN_ID ${this.transport.domainId}`;
    await this.until(deadline, () => this.state.matchedCount() > 0, () => `no publisher of ${this.stateTopic} (sensor_msgs/msg/JointState) was found within ${this.connectTimeoutMs} ms: is the robot's joint_state_broadcaster running, on ${domain}, with reliable QoS?`);
    await this.until(deadline, () => this.publisher.matchedCount() > 0, () => `no subscriber of ${this.commandTopic} (std_msgs/msg/Float64MultiArray) was found within ${this.connectTimeoutMs} ms: is the robot's command controller active, on ${domain}?`);
    await this.freshState(deadline);
    this.active = true;
  }

  /** The newest state, in the rig's joint order; a stale one stops the robot (see the file comment). */
  async read(): Promise<JointStateFrame> {
    this.checkOpen();
    if (!this.state.latest) await this.freshState(performance.now() + this.connectTimeoutMs);
    let age = this.state.ageMs();
    if (age > this.staleAfterMs) {
      // Messages that arrived while this thread was busy wait in the event loop's poll phase: let it run once before judging.
      await new Promise<void>((r) => setImmediate(r));
      age = this.state.ageMs();
    }
    if (age > this.staleAfterMs) {
      const stopped = this.stop();
      throw new HardwareError(
        `${this.stateTopic} is stale: the newest JointState is ${age.toFixed(0)} ms old (the limit is ${this.staleAfterMs.toFixed(0)} ms); ${stopped} (has the robot, its joint_state_broadcaster or the network stopped?)`,
      );
    }
    const r = this.state.latest!;
    return this.mapper.map({ message: r.message, receivedAt: r.info.receivedAt, seq: r.seq });
  }

  /** Publishes data = [volts per actuator, in the rig's actuator order]. */
  async write(commands: ArrayLike<number>): Promise<void> {
    this.checkOpen();
    if (!this.active) throw new HardwareError(`${this.name}: write() before activate() (or after deactivate() or a stale state)`);
    if (commands.length !== this.commandNames.length) throw new RangeError(`${this.name}: ${commands.length} commands for ${this.commandNames.length} actuators (${this.commandNames.join(", ")})`);
    for (let k = 0; k < commands.length; k++) {
      const v = commands[k]!;
      if (!Number.isFinite(v)) throw new RangeError(`command of ${v} V for ${this.commandNames[k]} cannot be sent to the robot`);
      this.message.data[k] = v;
    }
    try {
      this.publisher.publish(this.message);
    } catch (e) {
      throw new HardwareError(`${this.name}: publishing on ${this.commandTopic} failed: ${(e as Error).message}`, e);
    }
  }

  /**
   * A zero command. ROS 2's ros2_control has no torque off reachable through
   * topics (and the forward controller holds its last command), so zero volts
   * is the only stop there is; a robot whose controller is gone cannot be
   * reached at all, which lastDeactivateProblems then says.
   */
  async deactivate(): Promise<void> {
    this.active = false;
    if (this.closed) return;
    const problem = this.publishZero();
    this.lastDeactivateProblems = problem ? [problem] : [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.active = false;
    this.state.dispose();
    this.publisher.dispose();
    if (this.ownsTransport) this.transport.dispose();
  }

  // Internals ----------------------------------------------------------------

  /** Zero command, writes refused from now on; returns what happened, for the stale error. */
  private stop(): string {
    this.active = false;
    const problem = this.publishZero();
    return problem ?? `a zero command was published on ${this.commandTopic}`;
  }

  /** Publishes zeros; returns a problem, or undefined when a subscriber was there to get them. */
  private publishZero(): string | undefined {
    this.message.data.fill(0);
    try {
      this.publisher.publish(this.message);
    } catch (e) {
      return `the zero command on ${this.commandTopic} could not be published: ${(e as Error).message}`;
    }
    if (this.publisher.matchedCount() === 0) return `a zero command was published on ${this.commandTopic}, but no subscriber is matched to receive it`;
    return undefined;
  }

  /** Waits for a state received within the stale limit. */
  private async freshState(deadline: number): Promise<void> {
    if (this.state.ageMs() <= this.staleAfterMs) return;
    const wait = deadline - performance.now();
    try {
      if (wait <= 0) throw new Error("timeout");
      await this.state.next(wait);
    } catch {
      const last = this.state.latest ? `the newest is ${this.state.ageMs().toFixed(0)} ms old` : "none has arrived";
      const publishers = this.state.matchedCount();
      const hint = publishers === 0 ? `no publisher found: is the robot's joint_state_broadcaster running, on ROS_DOMAIN_ID ${this.transport.domainId}, with reliable QoS?` : `${publishers} publisher(s) matched, silent`;
      throw new HardwareError(`no fresh JointState on ${this.stateTopic} within ${this.connectTimeoutMs} ms (${last}; ${hint})`);
    }
  }

  private async until(deadline: number, done: () => boolean, problem: () => string): Promise<void> {
    while (!done()) {
      if (performance.now() > deadline) throw new HardwareError(problem());
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new HardwareError(`${this.name}: the ROS 2 connection was used after close()`);
  }
}
