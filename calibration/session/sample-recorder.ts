/**
 * Every cycle of a session kept in memory for its report: session time, each
 * joint's position and velocity, each command written (NaN where the phase
 * only read, i.e. torque was off). A few minutes at 100 Hz is a few
 * thousand rows; the arrays grow by doubling.
 */
import type { JointStateFrame } from "../../robot/hardware/interface.js";

class Column {
  data = new Float64Array(1024);
  push(i: number, v: number): void {
    if (i >= this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[i] = v;
  }
}

export class SampleRecorder {
  length = 0;
  private readonly time = new Column();
  private readonly pos: Column[];
  private readonly vel: Column[];
  private readonly cmd: Column[];

  constructor(
    readonly jointNames: readonly string[],
    readonly commandNames: readonly string[],
    /** False: push() does nothing (nothing kept). */
    readonly enabled = true,
  ) {
    this.pos = jointNames.map(() => new Column());
    this.vel = jointNames.map(() => new Column());
    this.cmd = commandNames.map(() => new Column());
  }

  push(t: number, frame: JointStateFrame, command: ArrayLike<number>, driven: boolean): void {
    if (!this.enabled) return;
    const i = this.length;
    this.time.push(i, t);
    for (let j = 0; j < this.pos.length; j++) {
      this.pos[j]!.push(i, frame.position[j]!);
      this.vel[j]!.push(i, frame.velocity[j]!);
    }
    for (let k = 0; k < this.cmd.length; k++) this.cmd[k]!.push(i, driven ? command[k]! : NaN);
    this.length++;
  }

  get t(): Float64Array {
    return this.time.data.subarray(0, this.length);
  }

  position(joint: string): Float64Array {
    return this.pos[this.jointIndex(joint)]!.data.subarray(0, this.length);
  }

  velocity(joint: string): Float64Array {
    return this.vel[this.jointIndex(joint)]!.data.subarray(0, this.length);
  }

  command(actuator: string): Float64Array {
    const k = this.commandNames.indexOf(actuator);
    if (k < 0) throw new RangeError(`sample recorder: no actuator ${JSON.stringify(actuator)} (have ${this.commandNames.join(", ")})`);
    return this.cmd[k]!.data.subarray(0, this.length);
  }

  private jointIndex(joint: string): number {
    const j = this.jointNames.indexOf(joint);
    if (j < 0) throw new RangeError(`sample recorder: no joint ${JSON.stringify(joint)} (have ${this.jointNames.join(", ")})`);
    return j;
  }
}
