import { actuatorEffort, ACTUATOR_PARAMS, latencyIndex, type ActuatorKind } from "./actuators/actuator.js";
import { DelayLine } from "./actuators/delay-line.js";
import { applyModelParams } from "./model-params.js";
import type { ParamTable } from "./params.js";
import { RobotSim } from "./physics/robot-sim.js";
import type { RobotConfig } from "./robot-config.js";
import type { RobotModel } from "./urdf/model.js";

/**
 * The simulated robot without a task: rigid-body physics, actuator models
 * with their latency, joint friction and damping, all driven by one parameter
 * vector. Training envs, system identification (which replays logged
 * commands) and the hardware emulator all simulate through this one class, so
 * they agree on what "the simulator" is.
 */
export class RobotPlant {
  /** True joint state, in physics DOF order; updated by `advance`. */
  readonly q: Float64Array;
  readonly qd: Float64Array;
  readonly dofNames: readonly string[];
  /** Simulated time since the last reset, s. */
  time = 0;
  private readonly tau: Float64Array;
  private readonly delays: DelayLine[];
  private readonly act: { kind: ActuatorKind; dof: number; paramOffset: number; latencyOffset: number }[];
  private readonly disturbanceIdx: Int32Array;
  private readonly modelIdx: number[];
  private lastModelKey = "";
  /** Parameters in effect (runtime entries may change every control step). */
  private params: Float64Array;

  private constructor(
    private readonly nominalModel: RobotModel,
    private readonly table: ParamTable,
    robot: RobotConfig,
    private readonly physics: RobotSim,
    readonly physicsDt: number,
  ) {
    this.dofNames = physics.dofNames;
    this.q = new Float64Array(physics.dof);
    this.qd = new Float64Array(physics.dof);
    this.tau = new Float64Array(physics.dof);
    this.params = table.nominal();
    this.modelIdx = table.entries.flatMap((e, i) => (e.stage === "model" ? [i] : []));
    this.act = robot.actuators.map((a) => {
      const kind = a.kind as ActuatorKind;
      const dof = physics.dofNames.indexOf(a.joint);
      if (dof < 0) throw new Error(`actuator ${a.name}: joint ${a.joint} is not a movable joint of robot ${nominalModel.name}`);
      const paramOffset = table.indexOf(`actuators.${a.name}.${ACTUATOR_PARAMS[kind][0]}`);
      return { kind, dof, paramOffset, latencyOffset: paramOffset + latencyIndex(kind) };
    });
    this.delays = this.act.map(() => new DelayLine(0));
    this.disturbanceIdx = Int32Array.from(physics.dofNames, (n) => (table.has(`joints.${n}.disturbance`) ? table.indexOf(`joints.${n}.disturbance`) : -1));
  }

  static async create(model: RobotModel, table: ParamTable, robot: RobotConfig, physicsDt: number): Promise<RobotPlant> {
    const { model: m, gravity } = applyModelParams(model, table, table.nominal());
    const physics = await RobotSim.create(m, { dt: physicsDt, gravity });
    const plant = new RobotPlant(model, table, robot, physics, physicsDt);
    plant.lastModelKey = plant.modelKey(table.nominal());
    return plant;
  }

  get dof(): number {
    return this.q.length;
  }

  /** Sets every parameter (rebuilding the rigid-body model only when a model entry changed). */
  setParams(values: Float64Array): void {
    const key = this.modelKey(values);
    if (key !== this.lastModelKey) {
      const { model, gravity } = applyModelParams(this.nominalModel, this.table, values);
      this.physics.rebuild(model);
      this.physics.setGravity(gravity);
      this.lastModelKey = key;
    }
    this.params = values;
  }

  /** Changes runtime parameters only (e.g. per-step randomization); the model must be the same. */
  setRuntimeParams(values: Float64Array): void {
    this.params = values;
  }

  /** Places the robot at (q, qd), clears pending commands, restarts the clock. */
  reset(q: ArrayLike<number>, qd: ArrayLike<number>, command = 0): void {
    this.physics.setState(q, qd);
    this.physics.setJointTorques(this.tau.fill(0));
    this.physics.getState(this.q, this.qd);
    for (const d of this.delays) d.reset(command);
    this.time = 0;
  }

  /** Issues commands now (they act after each actuator's latency). */
  command(commands: ArrayLike<number>): void {
    for (let k = 0; k < this.delays.length; k++) this.delays[k]!.push(this.time, commands[k]!);
  }

  /** Advances `substeps` physics steps, re-evaluating actuator efforts at each. */
  advance(substeps: number): void {
    const p = this.params;
    const dt = this.physicsDt;
    for (let s = 0; s < substeps; s++) {
      this.tau.fill(0);
      for (let j = 0; j < this.disturbanceIdx.length; j++) {
        const di = this.disturbanceIdx[j]!;
        if (di >= 0) this.tau[j] = p[di]!;
      }
      for (let k = 0; k < this.act.length; k++) {
        const a = this.act[k]!;
        const cmd = this.delays[k]!.valueAt(this.time, p[a.latencyOffset]!);
        this.tau[a.dof]! += actuatorEffort(a.kind, p, a.paramOffset, cmd, this.q[a.dof]!, this.qd[a.dof]!);
      }
      this.physics.setJointTorques(this.tau);
      this.physics.step();
      this.physics.getState(this.q, this.qd);
      this.time += dt;
    }
  }

  /** Index of the first non-finite joint value, or -1. */
  firstNonFinite(): number {
    for (let j = 0; j < this.q.length; j++) if (!Number.isFinite(this.q[j]!) || !Number.isFinite(this.qd[j]!)) return j;
    return -1;
  }

  dispose(): void {
    this.physics.dispose();
  }

  private modelKey(values: Float64Array): string {
    let key = "";
    for (const i of this.modelIdx) key += values[i] + ",";
    return key;
  }
}
