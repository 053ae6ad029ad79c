/**
 * sensor_msgs/JointState -> the hardware interface's joint-state frame: joints
 * picked by name into the rig's joint order (a JointState may list its joints
 * in any order, and more of them), with a clear error for a joint that is not
 * there.
 *
 * A robot whose ros2_control interface exports no velocity publishes an empty
 * velocity array (or NaN): the safety layer's stop guard needs finite
 * velocities, so those are filled by differencing successive positions, over
 * the publisher's stamps when they advance, else over the receive times.
 */

import { HardwareError, type JointStateFrame } from "../hardware/interface.js";
import { timeToMs, type JointState } from "./messages.js";

export interface JointStateSample {
  message: JointState;
  /** performance.now() when the message reached JS, ms. */
  receivedAt: number;
  /** Distinguishes messages: the same seq read twice is the same message. */
  seq: number;
}

export class JointStateMapper {
  readonly frame: JointStateFrame;
  /** Per joint (rig order): its index in the last message's name array. */
  private readonly index: Int32Array;
  /** The name array `index` was computed for (messages of one publisher repeat it). */
  private indexedNames: readonly string[] = [];
  private readonly prevPosition: Float64Array;
  /** Per joint: the velocity was filled from positions (the robot reports none). */
  private readonly differenced: boolean[];
  private prevSeq = 0;
  private prevStampMs = NaN;
  private prevReceivedMs = NaN;

  constructor(
    readonly jointNames: readonly string[],
    /** For error messages. */
    readonly topic: string,
  ) {
    const n = jointNames.length;
    this.frame = { names: jointNames, position: new Float64Array(n), velocity: new Float64Array(n), effort: new Float64Array(n), stamp: 0 };
    this.index = new Int32Array(n);
    this.prevPosition = new Float64Array(n);
    this.differenced = jointNames.map(() => false);
  }

  /** Joints whose velocity is being computed from positions (the publisher reports none), for reports. */
  get differencedJoints(): string[] {
    return this.jointNames.filter((_, i) => this.differenced[i]);
  }

  /** Fills `frame` from the sample and returns it; throws a HardwareError naming a missing joint or a bad field. */
  map(s: JointStateSample): JointStateFrame {
    const f = this.frame;
    if (s.seq === this.prevSeq) return f; // read faster than published: the same reading again
    const m = s.message;
    this.lookUp(m.name);
    const stampMs = timeToMs(m.header.stamp);
    // Differencing time base: the robot's own sample times when they advance (receive times jitter with the network).
    const dtStamp = (stampMs - this.prevStampMs) / 1000;
    const dt = dtStamp > 0 ? dtStamp : (s.receivedAt - this.prevReceivedMs) / 1000;
    const first = this.prevSeq === 0;
    for (let i = 0; i < this.jointNames.length; i++) {
      const k = this.index[i]!;
      const q = m.position[k];
      if (q === undefined) throw this.error(`has no position for ${this.jointNames[i]} (${m.position.length} positions for ${m.name.length} names)`);
      if (!Number.isFinite(q)) throw this.error(`reports position ${q} for ${this.jointNames[i]}`);
      const v = m.velocity[k];
      if (v !== undefined && Number.isFinite(v)) {
        f.velocity[i] = v;
        this.differenced[i] = false;
      } else {
        // With no earlier position the robot is taken to be at rest (it is, before an episode);
        // with no usable time step the previous estimate stands.
        if (first) f.velocity[i] = 0;
        else if (dt > 0) f.velocity[i] = (q - this.prevPosition[i]!) / dt;
        this.differenced[i] = true;
      }
      f.position[i] = q;
      this.prevPosition[i] = q;
      const e = m.effort[k];
      f.effort[i] = e === undefined ? NaN : e;
    }
    f.stamp = s.receivedAt / 1000;
    this.prevSeq = s.seq;
    this.prevStampMs = stampMs;
    this.prevReceivedMs = s.receivedAt;
    return f;
  }

  private lookUp(names: readonly string[]): void {
    if (sameNames(names, this.indexedNames)) return;
    for (let i = 0; i < this.jointNames.length; i++) {
      const k = names.indexOf(this.jointNames[i]!);
      if (k < 0) {
        this.indexedNames = [];
        throw this.error(`has no joint named ${JSON.stringify(this.jointNames[i])} (it names ${names.length ? names.map((x) => JSON.stringify(x)).join(", ") : "no joints"}); check the rig file's ros2.jointNames against the robot's`);
      }
      this.index[i] = k;
    }
    this.indexedNames = names.slice();
  }

  private error(problem: string): HardwareError {
    return new HardwareError(`the JointState on ${this.topic} ${problem}`);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
