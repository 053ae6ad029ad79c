import { isAbsolute } from "node:path";
import { Rng } from "../../common/rng.js";
import { projectPath } from "../../common/paths.js";
import { actuatorEffort, ACTUATOR_PARAMS, clamp, COMMAND_UNITS, latencyIndex, type ActuatorKind } from "../actuators/actuator.js";
import { DelayLine } from "../actuators/delay-line.js";
import { encoderReading } from "../sensors/encoder.js";
import { buildParamTable, type ParamTable } from "../params.js";
import { applyModelParams } from "../model-params.js";
import { ObservationBuilder } from "../observation.js";
import { Randomizer } from "../randomization/randomizer.js";
import { loadUrdf } from "../urdf/parse.js";
import type { RobotModel } from "../urdf/model.js";
import { RobotSim } from "../physics/robot-sim.js";
import { validateRobotConfig } from "../robot-config.js";
import type { TaskConfigBase, TaskDefinition, TaskLogic } from "../tasks/task.js";
import { EnvError, type EnvSpec, type EpisodeResult } from "./contract.js";

/** Where an environment's parameters come from each episode. */
export type ParamSource =
  /** The task's own randomization spec. */
  | { kind: "task" }
  /** The nominal values. */
  | { kind: "nominal" }
  /** Another spec over the same table (e.g. held-out ranges). */
  | { kind: "spec"; randomizer: Randomizer }
  /** Fixed values by name; the rest nominal. */
  | { kind: "fixed"; values: Record<string, number> };

export interface SimEnvOptions<C extends TaskConfigBase> {
  task: TaskDefinition<C>;
  config: C;
  seed: number;
  /** Global index of this environment; selects its random streams. */
  envIndex: number;
  params?: ParamSource;
}

/** Parsed task pieces shared by every environment of a batch (and by tools that need the layout without physics). */
export interface TaskSetup<C extends TaskConfigBase = TaskConfigBase> {
  task: TaskDefinition<C>;
  config: C;
  model: RobotModel;
  table: ParamTable;
  randomizer: Randomizer;
  spec: EnvSpec;
}

export function resolveUrdfPath(urdf: string): string {
  return isAbsolute(urdf) ? urdf : projectPath(urdf);
}

export function setupTask<C extends TaskConfigBase>(task: TaskDefinition<C>, config: C): TaskSetup<C> {
  validateRobotConfig(config.robot);
  const model = loadUrdf(resolveUrdfPath(config.robot.urdf));
  const table = buildParamTable(model, config.robot);
  const randomizer = new Randomizer(table, config.randomization);
  const substeps = Math.round(config.controlDt / config.physicsDt);
  if (substeps < 1 || Math.abs(substeps * config.physicsDt - config.controlDt) > 1e-9) {
    throw new Error(`task ${task.name}: physicsDt ${config.physicsDt} must divide controlDt ${config.controlDt}`);
  }
  const jointNames = new Set(model.joints.map((j) => j.name));
  config.robot.actuators.forEach((a, i) => {
    if (!jointNames.has(a.joint)) throw new Error(`task ${task.name}: robot.actuators[${i}].joint: no joint ${JSON.stringify(a.joint)} in ${config.robot.urdf}`);
  });
  config.robot.sensors.forEach((s, i) => {
    if (!jointNames.has(s.joint)) throw new Error(`task ${task.name}: robot.sensors[${i}].joint: no joint ${JSON.stringify(s.joint)} in ${config.robot.urdf}`);
  });
  const jointOrder = config.robot.sensors.map((s) => s.joint);
  const actuatorOrder = config.robot.actuators.map((a) => a.name);
  const obs = new ObservationBuilder(config.observation, jointOrder, actuatorOrder, config.controlDt);
  const spec: EnvSpec = {
    task: task.name,
    robot: config.robot.name,
    numObs: obs.size,
    numActions: config.robot.actuators.length,
    numPrivileged: randomizer.privilegedSize,
    observationLayout: obs.layout(),
    actionLayout: config.robot.actuators.map((a) => ({
      name: a.name,
      unit: COMMAND_UNITS[a.kind as ActuatorKind],
      low: -a.commandScale,
      high: a.commandScale,
      scale: a.commandScale,
    })),
    privilegedNames: [...randomizer.privilegedNames],
    jointOrder,
    controlDt: config.controlDt,
    maxEpisodeSteps: Math.round(config.episodeSeconds / config.controlDt),
  };
  return { task, config, model, table, randomizer, spec };
}

/**
 * One simulated robot running one task. Its state is the physics state, the
 * actuators' delay lines, the observation builder's last reading and the
 * task's bookkeeping; its parameters are redrawn each episode; its random
 * numbers come from streams derived from (seed, envIndex) only.
 */
export class SimEnv<C extends TaskConfigBase = TaskConfigBase> {
  readonly spec: EnvSpec;
  private readonly substeps: number;
  private readonly logic: TaskLogic;
  private readonly obsBuilder: ObservationBuilder;
  private readonly paramRng: Rng;
  private readonly noiseRng: Rng;
  private readonly initRng: Rng;
  /** Parameters of the current episode, and of the current step (per-step entries redrawn). */
  private readonly episodeValues: Float64Array;
  private readonly stepValues: Float64Array;
  private readonly privileged: Float32Array;
  private readonly q: Float64Array;
  private readonly qd: Float64Array;
  private readonly tau: Float64Array;
  private readonly readings: Float64Array;
  private readonly action: Float32Array;
  private readonly command: Float32Array;
  private readonly delays: DelayLine[];
  /** Per actuator: kind, DOF index, offset of its parameters in the table. */
  private readonly act: { kind: ActuatorKind; dof: number; paramOffset: number; latencyOffset: number; disturbance: number }[];
  /** Per sensor: DOF index and parameter offset. */
  private readonly sens: { dof: number; paramOffset: number }[];
  private readonly disturbanceIdx: Int32Array;
  private lastModelKey = "";
  private stepCount = 0;
  private episodeIndex = -1;
  private episodeReturn = 0;
  private peak = 0;

  private constructor(
    readonly setup: TaskSetup<C>,
    private readonly physics: RobotSim,
    readonly envIndex: number,
    seed: number,
    private readonly params: ParamSource,
  ) {
    const { config, table, spec } = setup;
    this.spec = spec;
    this.substeps = Math.round(config.controlDt / config.physicsDt);
    this.logic = setup.task.createLogic(config, setup.model, physics.dofNames);
    this.obsBuilder = new ObservationBuilder(config.observation, spec.jointOrder, config.robot.actuators.map((a) => a.name), config.controlDt);
    this.paramRng = Rng.derive(seed, envIndex, 1);
    this.noiseRng = Rng.derive(seed, envIndex, 2);
    this.initRng = Rng.derive(seed, envIndex, 3);
    this.episodeValues = table.nominal();
    this.stepValues = table.nominal();
    this.privileged = new Float32Array(spec.numPrivileged);
    const dof = physics.dof;
    this.q = new Float64Array(dof);
    this.qd = new Float64Array(dof);
    this.tau = new Float64Array(dof);
    this.readings = new Float64Array(spec.jointOrder.length);
    this.action = new Float32Array(spec.numActions);
    this.command = new Float32Array(spec.numActions);
    const dofOf = (joint: string) => {
      const i = physics.dofNames.indexOf(joint);
      if (i < 0) throw new Error(`joint ${joint} is not a movable joint of ${config.robot.urdf}`);
      return i;
    };
    this.act = config.robot.actuators.map((a) => {
      const kind = a.kind as ActuatorKind;
      const paramOffset = table.indexOf(`actuators.${a.name}.${ACTUATOR_PARAMS[kind][0]}`);
      return { kind, dof: dofOf(a.joint), paramOffset, latencyOffset: paramOffset + latencyIndex(kind), disturbance: -1 };
    });
    this.delays = this.act.map(() => new DelayLine(0));
    this.sens = config.robot.sensors.map((s) => ({ dof: dofOf(s.joint), paramOffset: table.indexOf(`sensors.${s.name}.countsPerRev`) }));
    this.disturbanceIdx = Int32Array.from(physics.dofNames, (n) => (table.has(`joints.${n}.disturbance`) ? table.indexOf(`joints.${n}.disturbance`) : -1));
  }

  static async create<C extends TaskConfigBase>(setup: TaskSetup<C>, envIndex: number, seed: number, params: ParamSource = { kind: "task" }): Promise<SimEnv<C>> {
    const { model, gravity } = applyModelParams(setup.model, setup.table, setup.table.nominal());
    const physics = await RobotSim.create(model, { dt: setup.config.physicsDt, gravity });
    return new SimEnv(setup, physics, envIndex, seed, params);
  }

  get episode(): number {
    return this.episodeIndex;
  }

  /** Parameter values of the current episode, by table order. */
  get currentParams(): Float64Array {
    return this.episodeValues;
  }

  /** Starts the next episode; writes its first observation and privileged vector. */
  reset(obs: Float32Array, obsOffset: number, priv: Float32Array, privOffset: number): void {
    this.episodeIndex++;
    this.drawParams();
    const { model, gravity } = applyModelParams(this.setup.model, this.setup.table, this.episodeValues);
    const key = modelKey(this.setup.table, this.episodeValues);
    if (key !== this.lastModelKey) {
      this.physics.rebuild(model);
      this.physics.setGravity(gravity);
      this.lastModelKey = key;
    }
    this.logic.initialState(this.initRng, this.q, this.qd);
    this.physics.setState(this.q, this.qd);
    this.physics.setJointTorques(this.tau.fill(0));
    this.physics.getState(this.q, this.qd);
    for (const d of this.delays) d.reset(0);
    this.action.fill(0);
    this.command.fill(0);
    this.stepCount = 0;
    this.episodeReturn = 0;
    this.peak = 0;
    this.logic.resetEpisode();
    this.obsBuilder.reset();
    this.stepValues.set(this.episodeValues);
    this.observe(obs, obsOffset);
    priv.set(this.privileged, privOffset);
  }

  /**
   * Advances one control period. Writes the next observation (of the same
   * episode: the caller resets on done) and returns reward and flags.
   */
  step(action: Float32Array, actionOffset: number, obs: Float32Array, obsOffset: number): { reward: number; terminated: boolean; truncated: boolean } {
    const nA = this.spec.numActions;
    for (let k = 0; k < nA; k++) {
      const a = action[actionOffset + k]!;
      if (!Number.isFinite(a)) throw new EnvError(this.envIndex, `action[${k}] (${this.spec.actionLayout[k]!.name}) is ${a}`);
      const c = clamp(a, -1, 1);
      this.action[k] = c;
      this.command[k] = c * this.spec.actionLayout[k]!.scale;
      this.delays[k]!.push(this.stepCount * this.setup.config.controlDt, this.command[k]!);
      const mag = Math.abs(this.command[k]!);
      if (mag > this.peak) this.peak = mag;
    }
    if (this.setup.randomizer.hasStepEntries || this.params.kind === "spec") {
      const r = this.params.kind === "spec" ? this.params.randomizer : this.setup.randomizer;
      if (r.hasStepEntries) r.applyStep(this.noiseRng, this.episodeValues, this.stepValues);
    }
    const p = this.stepValues;
    const dt = this.setup.config.physicsDt;
    const t0 = this.stepCount * this.setup.config.controlDt;
    for (let s = 0; s < this.substeps; s++) {
      const t = t0 + s * dt;
      this.tau.fill(0);
      for (let j = 0; j < this.disturbanceIdx.length; j++) {
        const di = this.disturbanceIdx[j]!;
        if (di >= 0) this.tau[j] = p[di]!;
      }
      for (let k = 0; k < this.act.length; k++) {
        const a = this.act[k]!;
        const cmd = this.delays[k]!.valueAt(t, p[a.latencyOffset]!);
        this.tau[a.dof]! += actuatorEffort(a.kind, p, a.paramOffset, cmd, this.q[a.dof]!, this.qd[a.dof]!);
      }
      this.physics.setJointTorques(this.tau);
      this.physics.step();
      this.physics.getState(this.q, this.qd);
    }
    this.stepCount++;
    for (let j = 0; j < this.q.length; j++) {
      if (!Number.isFinite(this.q[j]!) || !Number.isFinite(this.qd[j]!)) {
        throw new EnvError(this.envIndex, `simulation diverged: joint ${this.physics.dofNames[j]} q=${this.q[j]} qd=${this.qd[j]} at t=${(this.stepCount * this.setup.config.controlDt).toFixed(3)} s (episode ${this.episodeIndex})`);
      }
    }
    const r = this.logic.step({ q: this.q, qd: this.qd, command: this.command, action: this.action, time: this.stepCount * this.setup.config.controlDt });
    this.episodeReturn += r.reward;
    this.observe(obs, obsOffset);
    const truncated = !r.terminated && this.stepCount >= this.spec.maxEpisodeSteps;
    return { reward: r.reward, terminated: r.terminated, truncated };
  }

  /** The finished (or running) episode's result. */
  result(terminated: boolean): EpisodeResult {
    return {
      env: this.envIndex,
      episode: this.episodeIndex,
      return: this.episodeReturn,
      length: this.stepCount,
      success: this.logic.success(),
      terminated,
      metrics: { ...this.logic.metrics(), peakCommand: this.peak },
    };
  }

  /** True joint state (DOF order), for tests, traces and the emulator. */
  trueState(q: Float64Array, qd: Float64Array): void {
    q.set(this.q);
    qd.set(this.qd);
  }

  dispose(): void {
    this.physics.dispose();
  }

  private drawParams(): void {
    const src = this.params;
    const r = this.setup.randomizer;
    switch (src.kind) {
      case "task":
        r.drawEpisode(this.paramRng, this.episodeValues, this.privileged);
        return;
      case "nominal":
        this.episodeValues.set(this.setup.table.nominal());
        break;
      case "spec":
        src.randomizer.drawEpisode(this.paramRng, this.episodeValues);
        break;
      case "fixed":
        this.episodeValues.set(this.setup.table.nominal());
        for (const [name, v] of Object.entries(src.values)) this.episodeValues[this.setup.table.indexOf(name)] = v;
        break;
    }
    r.privilegedOf(this.episodeValues, this.privileged);
  }

  private observe(obs: Float32Array, offset: number): void {
    const p = this.stepValues;
    for (let i = 0; i < this.sens.length; i++) {
      const s = this.sens[i]!;
      this.readings[i] = encoderReading(this.q[s.dof]!, { countsPerRev: p[s.paramOffset]!, offset: p[s.paramOffset + 1]!, noise: p[s.paramOffset + 2]! }, this.noiseRng);
    }
    this.obsBuilder.build(this.readings, this.action, obs, offset);
  }
}

/** Identifies the rigid-body model of a parameter vector, so physics is rebuilt only when it changes. */
function modelKey(table: ParamTable, values: Float64Array): string {
  let key = "";
  for (let i = 0; i < table.size; i++) if (table.entries[i]!.stage === "model") key += values[i] + ",";
  return key;
}
