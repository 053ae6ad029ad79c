/**
 * The rig as a ros2_control robot would present it, backed by the project's
 * simulator in real time: calibrated joint states out (what a
 * joint_state_broadcaster publishes), volts in (what a forward command
 * controller takes). This file is the robot; ros2-serve-emulator.ts puts it
 * on ROS 2 topics.
 *
 *   position = the encoder reading of the parameter table (quantized to the
 *              rig's counts, with its noise and its residual zero offset: what
 *              is left after calibration);
 *   velocity = the servo's Present Velocity resolution (0.229 rev/min);
 *   effort   = motor current (V_eff - km θ̇) / Rm at the servo's 2.69 mA
 *              resolution, NaN for joints without a motor (as
 *              joint_state_broadcaster reports an interface a joint lacks).
 *
 * Commands are clamped to the rig's command limits. A command older than the
 * command timeout is dropped and zero volts held: ros2_control's forward
 * command controllers themselves hold the last command forever, which for a
 * motor on a real bench means running on at the last voltage after the
 * controlling process died; the emulator behaves like a robot whose hardware
 * interface adds the timeout a Dynamixel's Bus Watchdog gives the serial rig.
 *
 * Time is the owner's: call advanceTo(now) often; command() catches the plant
 * up to its arrival time first, so a command acts from when it arrived.
 */

import { Rng } from "../../common/rng.js";
import type { TaskSetup } from "../../sim/env/sim-env.js";
import { RobotPlant } from "../../sim/plant.js";
import { encoderReading } from "../../sim/sensors/encoder.js";
import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { ActuatorState } from "../hardware/actuator-state.js";
import { rigActuators, type RigConfig } from "../rigs/rig-config.js";
import { RigUnits } from "../rigs/units.js";
import type { EmulatorParams } from "./emulator-params.js";
import { EMULATOR_PHYSICS_DT } from "./emulated-rig.js";
import { RealTimeSteps } from "./real-time-steps.js";

export interface Ros2EmulatedRobotOptions {
  rig: RigConfig;
  setup: TaskSetup<TaskConfigBase>;
  params: EmulatorParams;
  /** A command older than this is dropped and zero volts held, ms. */
  commandTimeoutMs: number;
  /** Publish an empty velocity array, as a robot whose interface exports no velocity. Default false. */
  omitVelocity?: boolean;
  /** Seed of the encoder noise. Default 0. */
  seed?: number;
  /** Initial joint positions by name (others 0), at rest. */
  initial?: Record<string, number>;
  /** Catch-up limit after a stall, physics steps (longer stalls are skipped, not replayed). Default 50. */
  maxCatchUpSteps?: number;
  /** Physics step, s. Default EMULATOR_PHYSICS_DT (1 ms). */
  physicsDt?: number;
}

export interface Ros2EmulatorStats {
  physicsSteps: number;
  /** Physics steps dropped because the process stalled. */
  skippedSteps: number;
  commandsApplied: number;
  /** Commands with a value beyond the rig's limit (applied clamped). */
  commandsClamped: number;
  /** Commands refused (wrong length, non-finite values). */
  commandsRejected: number;
  /** Times the command timeout dropped a nonzero command. */
  commandTimeouts: number;
}

/** One joint-state reading, in the order of `jointNames`. */
export interface Ros2JointReading {
  position: Float64Array;
  /** Empty when the robot exports no velocity (omitVelocity). */
  velocity: Float64Array;
  effort: Float64Array;
}

interface JointSlot {
  dof: number;
  /** Index of the sensor's countsPerRev in the table (offset and noise follow). */
  sensorOffset: number;
  /** Index of the motor driving this joint in the robot config's actuators, or -1. */
  actuator: number;
}

export class Ros2EmulatedRobot {
  /** Joint names as published (the rig file's ros2.jointNames). */
  readonly jointNames: readonly string[];
  /** Command order: the rig's actuators (data[k] is volts for commandNames[k]). */
  readonly commandNames: readonly string[];
  readonly stats: Ros2EmulatorStats = { physicsSteps: 0, skippedSteps: 0, commandsApplied: 0, commandsClamped: 0, commandsRejected: 0, commandTimeouts: 0 };

  private readonly joints: JointSlot[];
  /** Per command element: index in the robot config's actuators, and its limit. */
  private readonly commandSlot: number[];
  private readonly limits: number[];
  private readonly units: RigUnits;
  private readonly actuators: ActuatorState;
  /** Volts in effect, robot config actuator order. */
  private readonly volts: Float64Array;
  private readonly rng: Rng;
  private readonly dt: number;
  private readonly reading: Ros2JointReading;
  private readonly clock: RealTimeSteps;
  /** Arrival time of the command in effect, ms (NaN: none yet or dropped). */
  private commandAtMs = NaN;

  private constructor(
    readonly plant: RobotPlant,
    readonly options: Ros2EmulatedRobotOptions,
  ) {
    const { rig, setup } = options;
    const robot = setup.config.robot;
    if (!(options.commandTimeoutMs > 0)) throw new RangeError(`emulator: the command timeout must be > 0 ms, got ${options.commandTimeoutMs}`);
    this.jointNames = rig.ros2.jointNames;
    this.commandNames = rigActuators(rig);
    this.joints = this.jointNames.map((j) => {
      const dof = plant.dofNames.indexOf(j);
      if (dof < 0) throw new RangeError(`emulator: rig ${rig.name} publishes joint ${JSON.stringify(j)}, which task ${rig.task}'s robot does not have (it has ${plant.dofNames.join(", ")})`);
      const sensor = robot.sensors.find((s) => s.joint === j);
      if (!sensor) throw new RangeError(`emulator: task ${rig.task}'s robot has no sensor on joint ${JSON.stringify(j)}`);
      return { dof, sensorOffset: setup.table.indexOf(`sensors.${sensor.name}.countsPerRev`), actuator: robot.actuators.findIndex((a) => a.joint === j) };
    });
    this.commandSlot = this.commandNames.map((name) => {
      const k = robot.actuators.findIndex((a) => a.name === name);
      if (k < 0) throw new RangeError(`emulator: rig ${rig.name} commands actuator ${JSON.stringify(name)}, which task ${rig.task}'s robot does not have`);
      return k;
    });
    this.limits = this.commandNames.map((name) => rig.safety.commandLimits[name]!);
    this.units = RigUnits.of(rig);
    this.actuators = new ActuatorState(setup.table, robot.actuators);
    this.volts = new Float64Array(robot.actuators.length);
    this.rng = Rng.derive(options.seed ?? 0, 14);
    this.dt = plant.physicsDt;
    this.clock = new RealTimeSteps(this.dt * 1000, options.maxCatchUpSteps ?? 50);
    const n = this.jointNames.length;
    this.reading = { position: new Float64Array(n), velocity: new Float64Array(options.omitVelocity ? 0 : n), effort: new Float64Array(n) };
    this.resetPlant();
  }

  static async create(options: Ros2EmulatedRobotOptions): Promise<Ros2EmulatedRobot> {
    const { setup } = options;
    const dt = options.physicsDt ?? EMULATOR_PHYSICS_DT;
    const plant = await RobotPlant.create(setup.model, setup.table, setup.config.robot, dt, Math.min(setup.config.physicsSubstep, dt));
    plant.setParams(options.params.values);
    return new Ros2EmulatedRobot(plant, options);
  }

  /** Volts in effect per command element (after clamping and the timeout), for tests and reports. */
  get appliedVolts(): number[] {
    return this.commandSlot.map((k) => this.volts[k]!);
  }

  /**
   * Runs the physics and the reading path for a while and puts everything
   * back, so the first real messages are served at full speed instead of
   * waiting for the JIT. Only before time zero is set.
   */
  warmUp(steps = 1000): void {
    if (this.clock.started) throw new Error("emulator: warmUp() after serving started");
    this.plant.command(this.volts.map(() => 1));
    for (let i = 0; i < steps; i++) {
      this.plant.advance(1);
      if (i % 10 === 0) this.sample();
    }
    this.resetPlant();
  }

  /** Moves the simulation to `nowMs` (the first call sets time zero), dropping a command that timed out on the way. */
  advanceTo(nowMs: number): void {
    this.clock.start(nowMs);
    const expiry = this.commandAtMs + this.options.commandTimeoutMs;
    if (expiry <= nowMs) {
      this.stepTo(expiry);
      this.commandAtMs = NaN;
      if (this.volts.some((v) => v !== 0)) {
        this.stats.commandTimeouts++;
        this.setVolts(this.volts.map(() => 0));
      }
    }
    this.stepTo(nowMs);
  }

  /**
   * A command message's data at `nowMs`: volts per actuator in command order,
   * clamped to the rig's limits. Returns why it was refused, or undefined.
   */
  command(data: ArrayLike<number>, nowMs: number): string | undefined {
    this.advanceTo(nowMs);
    if (data.length !== this.commandNames.length) {
      this.stats.commandsRejected++;
      return `a command with ${data.length} values was ignored: the robot takes ${this.commandNames.length} (volts for ${this.commandNames.join(", ")})`;
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        this.stats.commandsRejected++;
        return `a command with ${data[i]} V for ${this.commandNames[i]} was ignored`;
      }
    }
    const next = Float64Array.from(this.volts);
    let clamped = false;
    for (let i = 0; i < data.length; i++) {
      const lim = this.limits[i]!;
      const v = data[i]!;
      if (Math.abs(v) > lim) clamped = true;
      next[this.commandSlot[i]!] = Math.max(-lim, Math.min(lim, v));
    }
    if (clamped) this.stats.commandsClamped++;
    this.stats.commandsApplied++;
    this.commandAtMs = nowMs;
    this.setVolts(next);
    return undefined;
  }

  /** The current joint state (arrays reused between calls). */
  sample(): Ros2JointReading {
    const p = this.options.params.values;
    const u = this.units;
    const r = this.reading;
    this.joints.forEach((j, i) => {
      const o = j.sensorOffset;
      r.position[i] = encoderReading(this.plant.q[j.dof]!, { countsPerRev: p[o]!, offset: p[o + 1]!, noise: p[o + 2]! }, this.rng);
      if (r.velocity.length) r.velocity[i] = u.radPerSecToVelocity(this.plant.qd[j.dof]!) * u.radPerSecPerVelocityCount;
      r.effort[i] = j.actuator < 0 ? NaN : u.ampsToCurrent(this.actuators.current(j.actuator, this.plant.time, this.plant.qd[j.dof]!, p)) * u.ampsPerCurrentCount;
    });
    return r;
  }

  dispose(): void {
    this.plant.dispose();
  }

  // Internals ----------------------------------------------------------------

  private resetPlant(): void {
    const q = new Float64Array(this.plant.dof);
    for (const [joint, v] of Object.entries(this.options.initial ?? {})) {
      const j = this.plant.dofNames.indexOf(joint);
      if (j < 0) throw new RangeError(`emulator: initial position for unknown joint ${JSON.stringify(joint)}`);
      q[j] = v;
    }
    this.plant.reset(q, new Float64Array(this.plant.dof));
    this.actuators.reset();
    this.volts.fill(0);
  }

  private setVolts(v: ArrayLike<number>): void {
    this.volts.set(v);
    this.plant.command(this.volts);
    this.actuators.command(this.plant.time, this.volts);
  }

  private stepTo(nowMs: number): void {
    const behind = this.clock.due(nowMs);
    this.stats.skippedSteps = this.clock.skipped;
    if (behind <= 0) return;
    this.plant.advance(behind);
    this.stats.physicsSteps += behind;
    const bad = this.plant.firstNonFinite();
    if (bad >= 0) throw new Error(`emulator: the simulation diverged at joint ${this.plant.dofNames[bad]} (t = ${this.plant.time.toFixed(3)} s)`);
  }
}
