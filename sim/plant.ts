import { actuatorEffort, ACTUATOR_PARAMS, latencyIndex, type ActuatorKind } from "./actuators/actuator.js";
import { applyModelParams } from "./model-params.js";
import type { ParamTable } from "./params.js";
import { DEFAULT_GRAVITY, DEFAULT_SUBSTEP, RobotBatch } from "./physics/robot-batch.js";
import { loadRapier } from "./physics/rapier.js";
import type { RobotConfig } from "./robot-config.js";
import type { RobotModel } from "./urdf/model.js";

/** How a plant is integrated: the physics step and Rapier's longest solver substep, s. */
export interface PlantPhysics {
  dt: number;
  /** Default DEFAULT_SUBSTEP (0.1 ms); tasks set theirs in `physicsSubstep`. */
  substep?: number;
}

/**
 * Switch times closer than this to a step boundary count as on it (s): step
 * times are multiples of dt and latencies are arbitrary reals, so a latency of
 * exactly one step must not leave a rounding-sized sliver of the old command.
 */
const SWITCH_EPS = 1e-9;

/**
 * Commands of one actuator that have been issued but may not act yet, oldest
 * first, in a growable ring (no allocation once it has reached its working
 * size). Unlike a point query ("which command is in effect at t"), it lets
 * the plant see every switch inside a physics step.
 */
class CommandQueue {
  private times = new Float64Array(8);
  private values = new Float64Array(8);
  private head = 0;
  count = 0;
  /** The command in effect before the queued ones. */
  current = 0;

  reset(command: number): void {
    this.head = 0;
    this.count = 0;
    this.current = command;
  }

  push(time: number, value: number): void {
    if (this.count === this.times.length) this.grow();
    const at = (this.head + this.count) % this.times.length;
    this.times[at] = time;
    this.values[at] = value;
    this.count++;
  }

  /** Issue time of the oldest queued command (count > 0). */
  frontTime(): number {
    return this.times[this.head]!;
  }

  /** Removes the oldest queued command, which becomes the current one. */
  shift(): number {
    const v = this.values[this.head]!;
    this.head = (this.head + 1) % this.times.length;
    this.count--;
    this.current = v;
    return v;
  }

  private grow(): void {
    const n = this.times.length;
    const times = new Float64Array(2 * n);
    const values = new Float64Array(2 * n);
    for (let k = 0; k < n; k++) {
      times[k] = this.times[(this.head + k) % n]!;
      values[k] = this.values[(this.head + k) % n]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}

/** A plant's efforts turned non-finite (its state diverged); `robot` is its index in its group. */
export class PlantDivergedError extends Error {
  constructor(
    readonly robot: number,
    message: string,
  ) {
    super(message);
    this.name = "PlantDivergedError";
  }
}

interface ActuatorSlot {
  kind: ActuatorKind;
  dof: number;
  paramOffset: number;
  latencyOffset: number;
}

/**
 * The simulated robot without a task: rigid-body physics, actuator models
 * with their latency, joint friction and damping, all driven by one parameter
 * vector. Training envs, system identification (which replays logged
 * commands) and the hardware emulator all simulate through this one class, so
 * they agree on what "the simulator" is.
 *
 * A plant is one robot of a PlantGroup, whose robots share one Rapier world
 * (cheaper per robot; see robot-batch.ts) but nothing else: each has its own
 * parameters, commands and clock. `RobotPlant.create` makes a group of one,
 * which the plant owns: `advance` and `dispose` then act on it directly. A
 * member of a larger group is advanced and disposed through the group.
 *
 * Actuators. At each physics step every actuator applies the time-weighted
 * mean, over the step, of the efforts of the commands in effect during it
 * (a command acts `latency` seconds after it was issued), each evaluated at
 * the step-start position and the velocity predicted for mid-step. A latency
 * that is not a whole number of steps thus shifts the impulse continuously
 * instead of rounding to a step, and the impulse over the step is exact to
 * first order in the switch times and second order in the velocity.
 */
export class RobotPlant {
  /** True joint state, in physics DOF order; updated by `advance`. */
  readonly q: Float64Array;
  readonly qd: Float64Array;
  readonly dofNames: readonly string[];
  readonly physicsDt: number;
  readonly physicsSubstep: number;
  /** Joint velocities predicted for the middle of the coming physics step, at which actuator efforts are evaluated. */
  private readonly qdMid: Float64Array;
  private steps = 0;
  private readonly act: ActuatorSlot[];
  private readonly queues: CommandQueue[];
  private readonly disturbanceIdx: Int32Array;
  private readonly modelIdx: number[];
  private lastModelKey: string;
  /** Parameters in effect (runtime entries may change every control step). */
  private params: Float64Array;

  /** @internal Built by PlantGroup. */
  constructor(
    private readonly group: PlantGroup,
    /** Index of this robot in its group's world. */
    readonly index: number,
    private readonly nominalModel: RobotModel,
    private readonly table: ParamTable,
    robot: RobotConfig,
    state: { q: Float64Array; qd: Float64Array; qdMid: Float64Array },
  ) {
    const batch = group.physics;
    this.dofNames = batch.dofNames;
    this.physicsDt = group.dt;
    this.physicsSubstep = group.substep;
    this.q = state.q;
    this.qd = state.qd;
    this.qdMid = state.qdMid;
    this.params = table.nominal();
    this.modelIdx = table.entries.flatMap((e, i) => (e.stage === "model" ? [i] : []));
    this.lastModelKey = this.modelKey(this.params);
    this.act = robot.actuators.map((a) => {
      const kind = a.kind as ActuatorKind;
      const dof = batch.dofNames.indexOf(a.joint);
      if (dof < 0) throw new Error(`actuator ${a.name}: joint ${a.joint} is not a movable joint of robot ${nominalModel.name}`);
      const paramOffset = table.indexOf(`actuators.${a.name}.${ACTUATOR_PARAMS[kind][0]}`);
      return { kind, dof, paramOffset, latencyOffset: paramOffset + latencyIndex(kind) };
    });
    this.queues = this.act.map(() => new CommandQueue());
    this.disturbanceIdx = Int32Array.from(batch.dofNames, (n) => (table.has(`joints.${n}.disturbance`) ? table.indexOf(`joints.${n}.disturbance`) : -1));
  }

  /**
   * A standalone plant (a group of one). `physicsDt` is the physics step;
   * `substep` Rapier's longest solver substep (default DEFAULT_SUBSTEP; pass
   * the task's `physicsSubstep` to simulate exactly as training does).
   */
  static async create(model: RobotModel, table: ParamTable, robot: RobotConfig, physicsDt: number, substep?: number): Promise<RobotPlant> {
    const group = await PlantGroup.create(model, table, robot, 1, { dt: physicsDt, ...(substep !== undefined ? { substep } : {}) });
    return group.plants[0]!;
  }

  get dof(): number {
    return this.q.length;
  }

  /** Simulated time since the last reset, s (a whole number of physics steps). */
  get time(): number {
    return this.steps * this.physicsDt;
  }

  /** Sets every parameter (rebuilding the rigid-body model only when a model entry changed). */
  setParams(values: Float64Array): void {
    if (values.length !== this.table.entries.length)
      throw new RangeError(`RobotPlant.setParams: ${values.length} values, the parameter table has ${this.table.entries.length}`);
    const key = this.modelKey(values);
    if (key !== this.lastModelKey) {
      const { model, gravity } = applyModelParams(this.nominalModel, this.table, values);
      const batch = this.group.physics;
      batch.rebuild(this.index, model);
      batch.setRobotGravity(this.index, gravity);
      batch.getState(this.index, this.q, this.qd);
      batch.midStepVelocities(this.index, this.qdMid);
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
    const batch = this.group.physics;
    batch.setState(this.index, q, qd);
    batch.getState(this.index, this.q, this.qd);
    batch.midStepVelocities(this.index, this.qdMid);
    for (const c of this.queues) c.reset(command);
    this.steps = 0;
  }

  /** Issues commands now (they act after each actuator's latency). */
  command(commands: ArrayLike<number>): void {
    const t = this.time;
    for (let k = 0; k < this.queues.length; k++) this.queues[k]!.push(t, commands[k]!);
  }

  /** Advances `steps` physics steps (a standalone plant only: a group member advances with its group). */
  advance(steps: number): void {
    if (this.group.size !== 1)
      throw new Error(`RobotPlant.advance: this plant is robot ${this.index} of a group of ${this.group.size} sharing one physics world; advance the group`);
    this.group.advance(steps);
  }

  /** Index of the first non-finite joint value, or -1. */
  firstNonFinite(): number {
    for (let j = 0; j < this.q.length; j++) if (!Number.isFinite(this.q[j]!) || !Number.isFinite(this.qd[j]!)) return j;
    return -1;
  }

  /** Frees a standalone plant's physics (a group member is freed with its group). */
  dispose(): void {
    if (this.group.size !== 1) throw new Error(`RobotPlant.dispose: this plant is robot ${this.index} of a group of ${this.group.size}; dispose the group`);
    this.group.dispose();
  }

  /**
   * @internal Writes the efforts for the physics step starting now into
   * tau[offset .. offset + dof): disturbances plus each actuator's mean effort.
   */
  writeEfforts(tau: Float64Array, offset: number): void {
    const p = this.params;
    const n = this.disturbanceIdx.length;
    for (let j = 0; j < n; j++) {
      const di = this.disturbanceIdx[j]!;
      tau[offset + j] = di >= 0 ? p[di]! : 0;
    }
    for (let k = 0; k < this.act.length; k++) {
      const a = this.act[k]!;
      tau[offset + a.dof]! += this.meanEffort(a, this.queues[k]!, p);
    }
  }

  /** @internal Counts one physics step (the group has stepped and refreshed q, qd). */
  stepped(): void {
    this.steps++;
  }

  /**
   * Time-weighted mean effort of actuator `a` over the step [t, t + dt), at the
   * step-start position and the predicted mid-step velocity (second-order
   * accurate for velocity-dependent efforts such as back-EMF; see RobotBatch).
   */
  private meanEffort(a: ActuatorSlot, queue: CommandQueue, p: Float64Array): number {
    const h = this.physicsDt;
    const t0 = this.time;
    const end = t0 + h;
    const latency = p[a.latencyOffset]!;
    const q = this.q[a.dof]!, qd = this.qdMid[a.dof]!;
    let cmd = queue.current;
    let from = t0;
    let sum = 0;
    while (queue.count > 0) {
      const at = queue.frontTime() + latency;
      if (at >= end - SWITCH_EPS) break; // acts from a later step on
      if (at > from + SWITCH_EPS) {
        sum += (at - from) * actuatorEffort(a.kind, p, a.paramOffset, cmd, q, qd);
        from = at;
      }
      cmd = queue.shift();
    }
    // The common case (no switch inside the step) is one evaluation, exactly as without averaging.
    if (from === t0) return actuatorEffort(a.kind, p, a.paramOffset, cmd, q, qd);
    return (sum + (end - from) * actuatorEffort(a.kind, p, a.paramOffset, cmd, q, qd)) / h;
  }

  private modelKey(values: Float64Array): string {
    let key = "";
    for (const i of this.modelIdx) key += values[i] + ",";
    return key;
  }
}

/**
 * Robots of one model stepped together in one Rapier world (a RobotBatch):
 * each physics step, every plant computes its efforts, the world steps once,
 * and every plant's state is read back in one pass. Robots never interact;
 * each keeps its own parameters (including gravity), commands and clock.
 */
export class PlantGroup {
  readonly plants: readonly RobotPlant[];
  readonly dt: number;
  readonly substep: number;
  /** @internal The shared world. */
  readonly physics: RobotBatch;
  private readonly tau: Float64Array;
  private readonly qAll: Float64Array;
  private readonly qdAll: Float64Array;
  private readonly qdMidAll: Float64Array;

  private constructor(model: RobotModel, table: ParamTable, robot: RobotConfig, count: number, physics: RobotBatch, substep: number) {
    this.physics = physics;
    this.dt = physics.dt;
    this.substep = substep;
    const dof = physics.dof;
    this.tau = new Float64Array(count * dof);
    this.qAll = new Float64Array(count * dof);
    this.qdAll = new Float64Array(count * dof);
    this.qdMidAll = new Float64Array(count * dof);
    const plants: RobotPlant[] = [];
    for (let i = 0; i < count; i++) {
      const view = (a: Float64Array) => a.subarray(i * dof, (i + 1) * dof);
      const state = { q: view(this.qAll), qd: view(this.qdAll), qdMid: view(this.qdMidAll) };
      plants.push(new RobotPlant(this, i, model, table, robot, state));
    }
    this.plants = plants;
    physics.getStates(this.qAll, this.qdAll, this.qdMidAll);
  }

  /** `count` plants at nominal parameters, in one world. */
  static async create(model: RobotModel, table: ParamTable, robot: RobotConfig, count: number, physics: PlantPhysics): Promise<PlantGroup> {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`PlantGroup: count must be an integer >= 1, got ${count}`);
    const substep = physics.substep ?? DEFAULT_SUBSTEP;
    const { model: m, gravity } = applyModelParams(model, table, table.nominal());
    // The world keeps the default gravity; each robot's (randomized) gravity is a scale of it.
    const batch = new RobotBatch(await loadRapier(), m, { dt: physics.dt, substep, gravity: [DEFAULT_GRAVITY[0], DEFAULT_GRAVITY[1], DEFAULT_GRAVITY[2]], count });
    try {
      for (let i = 0; i < count; i++) batch.setRobotGravity(i, gravity);
      return new PlantGroup(model, table, robot, count, batch, substep);
    } catch (e) {
      batch.dispose();
      throw e;
    }
  }

  get size(): number {
    return this.plants.length;
  }

  /** Advances every plant by `steps` physics steps, re-evaluating actuator efforts at each. */
  advance(steps: number): void {
    const plants = this.plants;
    const n = plants.length;
    const dof = this.physics.dof;
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < n; i++) {
        plants[i]!.writeEfforts(this.tau, i * dof);
        for (let j = 0; j < dof; j++) if (!Number.isFinite(this.tau[i * dof + j]!)) this.diverged(i, j);
      }
      this.physics.setAllJointTorques(this.tau);
      this.physics.step();
      this.physics.getStates(this.qAll, this.qdAll, this.qdMidAll);
      for (let i = 0; i < n; i++) plants[i]!.stepped();
    }
  }

  dispose(): void {
    this.physics.dispose();
  }

  private diverged(i: number, j: number): never {
    const p = this.plants[i]!;
    throw new PlantDivergedError(
      i,
      `simulation diverged: effort ${this.tau[i * this.physics.dof + j]} on joint ${p.dofNames[j]} (q=${p.q[j]}, qd=${p.qd[j]}) at t=${p.time.toFixed(3)} s`,
    );
  }

  get disposed(): boolean {
    return this.physics.disposed;
  }
}
