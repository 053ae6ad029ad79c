/**
 * The simulator behind the HardwareInterface, in lockstep: no real time, so
 * the control loop, safety layer, logging and deploy logic can be tested in a
 * fraction of a second per simulated minute.
 *
 * Time belongs to the hardware: while active, each write() lets one control
 * period pass with that command applied; while inactive (torque off), each
 * read() lets one control period pass with the motors disconnected, as a real
 * robot keeps coasting between polls. Readings are what the encoders give
 * (quantized, with the parameter table's offsets and noise); velocities are
 * the true ones (a Dynamixel reports its own), efforts the motor currents.
 */

import { Rng } from "../../common/rng.js";
import { COMMAND_UNITS, type ActuatorKind } from "../../sim/actuators/actuator.js";
import type { TaskSetup } from "../../sim/env/sim-env.js";
import { RobotPlant } from "../../sim/plant.js";
import { encoderReading } from "../../sim/sensors/encoder.js";
import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { ActuatorState } from "./actuator-state.js";
import { HardwareError, type HardwareInterface, type JointStateFrame } from "./interface.js";

export interface SimHardwareOptions {
  setup: TaskSetup<TaskConfigBase>;
  /** A full parameter vector in table order, or named overrides of the nominal values. Default nominal. */
  params?: Float64Array | Record<string, number>;
  /** Seed of the encoder noise. Default 0. */
  seed?: number;
  /** Initial joint positions by joint name (others 0); the robot starts at rest. */
  initial?: Record<string, number>;
  /** Time per write() (and per idle read()), s. Default the task's controlDt. */
  periodSec?: number;
}

export class SimHardware implements HardwareInterface {
  readonly name: string;
  readonly jointNames: readonly string[];
  readonly commandNames: readonly string[];
  readonly commandUnit: string;
  readonly effortUnit = "A";
  /** Counts of calls, for tests and reports. */
  writes = 0;
  activations = 0;
  deactivations = 0;

  private readonly actuators: ActuatorState;
  private readonly params: Float64Array;
  /** Parameters in effect: `params` with disconnected motors while torque is off. */
  private readonly effective: Float64Array;
  private readonly substeps: number;
  private readonly rng: Rng;
  private readonly sensors: { dof: number; offset: number }[];
  /** Per actuator: its joint's DOF, and its joint's index in the frame (-1 when not sensed). */
  private readonly actDof: number[];
  private readonly actFrame: number[];
  private readonly zeros: Float64Array;
  private readonly frame: JointStateFrame;
  private enabled: boolean[];
  private closed = false;

  private constructor(
    readonly plant: RobotPlant,
    readonly setup: TaskSetup<TaskConfigBase>,
    options: SimHardwareOptions,
  ) {
    const { config, table } = setup;
    const robot = config.robot;
    this.name = robot.name;
    this.jointNames = robot.sensors.map((s) => s.joint);
    this.commandNames = robot.actuators.map((a) => a.name);
    const units = new Set(robot.actuators.map((a) => COMMAND_UNITS[a.kind as ActuatorKind]));
    this.commandUnit = [...units].join("/");
    this.actuators = new ActuatorState(table, robot.actuators);
    this.params = table.nominal();
    const p = options.params;
    if (p instanceof Float64Array) {
      if (p.length !== table.size) throw new RangeError(`SimHardware: params has ${p.length} values, the parameter table ${table.size}`);
      this.params.set(p);
    } else if (p) {
      for (const [name, v] of Object.entries(p)) this.params[table.indexOf(name)] = v;
    }
    this.effective = new Float64Array(this.params.length);
    const period = options.periodSec ?? config.controlDt;
    this.substeps = Math.round(period / config.physicsDt);
    if (this.substeps < 1 || Math.abs(this.substeps * config.physicsDt - period) > 1e-9) {
      throw new RangeError(`SimHardware: the period ${period} s is not a whole number of physics steps (${config.physicsDt} s)`);
    }
    this.rng = Rng.derive(options.seed ?? 0, 7);
    this.sensors = robot.sensors.map((s) => ({ dof: plant.dofNames.indexOf(s.joint), offset: table.indexOf(`sensors.${s.name}.countsPerRev`) }));
    this.actDof = robot.actuators.map((a) => plant.dofNames.indexOf(a.joint));
    this.actFrame = robot.actuators.map((a) => this.jointNames.indexOf(a.joint));
    this.zeros = new Float64Array(robot.actuators.length);
    const n = this.jointNames.length;
    this.frame = { names: this.jointNames, position: new Float64Array(n), velocity: new Float64Array(n), effort: new Float64Array(n).fill(NaN), stamp: 0 };
    this.enabled = robot.actuators.map(() => false);
    this.applyParams();
    const q = new Float64Array(plant.dof);
    for (const [joint, v] of Object.entries(options.initial ?? {})) {
      const j = plant.dofNames.indexOf(joint);
      if (j < 0) throw new RangeError(`SimHardware: initial position for unknown joint ${JSON.stringify(joint)} (joints: ${plant.dofNames.join(", ")})`);
      q[j] = v;
    }
    plant.reset(q, new Float64Array(plant.dof));
    this.actuators.reset();
  }

  static async create(options: SimHardwareOptions): Promise<SimHardware> {
    const { setup } = options;
    const { physicsDt, physicsSubstep } = setup.config;
    const plant = await RobotPlant.create(setup.model, setup.table, setup.config.robot, physicsDt, physicsSubstep);
    return new SimHardware(plant, setup, options);
  }

  /** Simulated seconds since creation. */
  get time(): number {
    return this.plant.time;
  }

  get torqueEnabled(): boolean {
    return this.enabled.some((e) => e);
  }

  async activate(): Promise<void> {
    this.checkOpen();
    this.activations++;
    this.enabled = this.enabled.map(() => true);
    this.applyParams();
  }

  async read(): Promise<JointStateFrame> {
    this.checkOpen();
    if (!this.torqueEnabled) this.plant.advance(this.substeps);
    const p = this.effective;
    const f = this.frame;
    this.sensors.forEach((s, i) => {
      const o = s.offset;
      f.position[i] = encoderReading(this.plant.q[s.dof]!, { countsPerRev: p[o]!, offset: p[o + 1]!, noise: p[o + 2]! }, this.rng);
      f.velocity[i] = this.plant.qd[s.dof]!;
    });
    for (let k = 0; k < this.actDof.length; k++) {
      const i = this.actFrame[k]!;
      if (i >= 0) f.effort[i] = this.actuators.current(k, this.plant.time, this.plant.qd[this.actDof[k]!]!, p);
    }
    f.stamp = this.plant.time;
    return f;
  }

  async write(commands: ArrayLike<number>): Promise<void> {
    this.checkOpen();
    if (!this.torqueEnabled) throw new HardwareError(`${this.name} (simulated): write() before activate() (or after deactivate())`);
    if (commands.length !== this.commandNames.length) throw new RangeError(`${this.name} (simulated): ${commands.length} commands for ${this.commandNames.length} actuators`);
    for (let k = 0; k < commands.length; k++) {
      if (!Number.isFinite(commands[k]!)) throw new RangeError(`${this.name} (simulated): command ${k} is ${commands[k]}`);
    }
    this.issue(commands);
    this.plant.advance(this.substeps);
    this.writes++;
    const bad = this.plant.firstNonFinite();
    if (bad >= 0) throw new HardwareError(`${this.name} (simulated): the simulation diverged at joint ${this.plant.dofNames[bad]} (t = ${this.plant.time.toFixed(3)} s)`);
  }

  async deactivate(): Promise<void> {
    if (this.closed) return;
    this.deactivations++;
    this.issue(this.zeros);
    this.enabled = this.enabled.map(() => false);
    this.applyParams();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.plant.dispose();
  }

  private issue(commands: ArrayLike<number>): void {
    this.plant.command(commands);
    this.actuators.command(this.plant.time, commands);
  }

  private applyParams(): void {
    this.actuators.applyTorqueState(this.params, this.enabled, this.effective);
    this.plant.setParams(this.effective);
  }

  private checkOpen(): void {
    if (this.closed) throw new HardwareError(`${this.name} (simulated): used after close()`);
  }
}
