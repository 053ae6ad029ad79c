import { isAbsolute } from "node:path";
import { Rng } from "../../common/rng.js";
import { projectPath } from "../../common/paths.js";
import { clamp, COMMAND_UNITS, type ActuatorKind } from "../actuators/actuator.js";
import { encoderReading } from "../sensors/encoder.js";
import { buildParamTable, type ParamTable } from "../params.js";
import { ObservationBuilder } from "../observation.js";
import { Randomizer } from "../randomization/randomizer.js";
import { buildVisualParamTable } from "../render/visual-params.js";
import { loadUrdf } from "../urdf/parse.js";
import type { RobotModel } from "../urdf/model.js";
import { PlantDivergedError, RobotPlant } from "../plant.js";
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
  | { kind: "fixed"; values: Record<string, number> }
  /** The task's draw, then automatic domain randomization's ranges with boundary sampling (param-source.ts). */
  | { kind: "adr"; ranges: { index: number; low: number; high: number }[]; boundaryProb: number };

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
  /** What the cameras see (visual-params.ts) and the visual entries of the task's randomization spec. */
  visualTable: ParamTable;
  visualRandomizer: Randomizer;
  spec: EnvSpec;
}

export function resolveUrdfPath(urdf: string): string {
  return isAbsolute(urdf) ? urdf : projectPath(urdf);
}

export function setupTask<C extends TaskConfigBase>(task: TaskDefinition<C>, config: C): TaskSetup<C> {
  validateRobotConfig(config.robot);
  const model = loadUrdf(resolveUrdfPath(config.robot.urdf));
  const table = buildParamTable(model, config.robot);
  // One spec holds dynamics and visual entries; each table takes its own (Randomizer's default).
  const randomizer = new Randomizer(table, config.randomization);
  const visualTable = buildVisualParamTable(model, config.robot.cameras);
  const visualRandomizer = new Randomizer(visualTable, config.randomization);
  const substeps = Math.round(config.controlDt / config.physicsDt);
  if (substeps < 1 || Math.abs(substeps * config.physicsDt - config.controlDt) > 1e-9) {
    throw new Error(`task ${task.name}: physicsDt ${config.physicsDt} must divide controlDt ${config.controlDt}`);
  }
  if (!(config.physicsSubstep <= config.physicsDt)) {
    throw new Error(`task ${task.name}: physicsSubstep ${config.physicsSubstep} must not exceed physicsDt ${config.physicsDt}`);
  }
  const jointNames = new Set(model.joints.map((j) => j.name));
  config.robot.actuators.forEach((a, i) => {
    if (!jointNames.has(a.joint)) throw new Error(`task ${task.name}: robot.actuators[${i}].joint: no joint ${JSON.stringify(a.joint)} in ${config.robot.urdf}`);
  });
  config.robot.sensors.forEach((s, i) => {
    if (!jointNames.has(s.joint)) throw new Error(`task ${task.name}: robot.sensors[${i}].joint: no joint ${JSON.stringify(s.joint)} in ${config.robot.urdf}`);
  });
  const linkNames = model.links.map((l) => l.name);
  config.robot.cameras.forEach((c, i) => {
    if (c.mount.parent !== "world" && !linkNames.includes(c.mount.parent))
      throw new Error(`task ${task.name}: robot.cameras[${i}].mount.parent: no link ${JSON.stringify(c.mount.parent)} in ${config.robot.urdf} (links: ${linkNames.join(", ")}, or "world")`);
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
  return { task, config, model, table, randomizer, visualTable, visualRandomizer, spec };
}

/**
 * One simulated robot running one task: a RobotPlant (physics, actuators,
 * latency) plus encoders, the observation builder and the task's logic. Its
 * parameters are redrawn each episode; its random numbers come from streams
 * derived from (seed, envIndex) only.
 *
 * A control step is three phases so that a vector env can step many envs'
 * plants together in one physics world (PlantGroup): `applyAction` (commands),
 * the plant's physics, then `finishStep` (sensors, reward, observation).
 * `step` runs all three for an env with a plant of its own.
 */
export class SimEnv<C extends TaskConfigBase = TaskConfigBase> {
  readonly spec: EnvSpec;
  private readonly physicsSteps: number;
  private readonly logic: TaskLogic;
  private readonly obsBuilder: ObservationBuilder;
  private readonly paramRng: Rng;
  private readonly noiseRng: Rng;
  private readonly initRng: Rng;
  /** Parameters of the current episode, and of the current step (per-step entries redrawn). */
  private readonly episodeValues: Float64Array;
  private readonly stepValues: Float64Array;
  private readonly privileged: Float32Array;
  private readonly q0: Float64Array;
  private readonly qd0: Float64Array;
  private readonly readings: Float64Array;
  private readonly action: Float32Array;
  private readonly command: Float32Array;
  /** Per sensor: DOF index and parameter offset. */
  private readonly sens: { dof: number; paramOffset: number }[];
  private readonly outcome = { reward: 0, terminated: false, truncated: false };
  private stepCount = 0;
  private episodeIndex = -1;
  private episodeReturn = 0;
  private peak = 0;
  /** The ADR boundary this episode pins (2 k low, 2 k + 1 high side of range k), -1 for none; undefined when the episode was not drawn by ADR. */
  private adrBoundary: number | undefined;

  private constructor(
    readonly setup: TaskSetup<C>,
    readonly plant: RobotPlant,
    readonly envIndex: number,
    seed: number,
    private params: ParamSource,
    /** Whether this env created its plant (and so frees it); group members are freed with their group. */
    private readonly ownsPlant: boolean,
  ) {
    const { config, table, spec } = setup;
    this.spec = spec;
    this.physicsSteps = Math.round(config.controlDt / config.physicsDt);
    this.logic = setup.task.createLogic(config, setup.model, plant.dofNames);
    this.obsBuilder = new ObservationBuilder(config.observation, spec.jointOrder, config.robot.actuators.map((a) => a.name), config.controlDt);
    this.paramRng = Rng.derive(seed, envIndex, 1);
    this.noiseRng = Rng.derive(seed, envIndex, 2);
    this.initRng = Rng.derive(seed, envIndex, 3);
    this.episodeValues = table.nominal();
    this.stepValues = table.nominal();
    this.privileged = new Float32Array(spec.numPrivileged);
    this.q0 = new Float64Array(plant.dof);
    this.qd0 = new Float64Array(plant.dof);
    this.readings = new Float64Array(spec.jointOrder.length);
    this.action = new Float32Array(spec.numActions);
    this.command = new Float32Array(spec.numActions);
    this.sens = config.robot.sensors.map((s) => ({ dof: plant.dofNames.indexOf(s.joint), paramOffset: table.indexOf(`sensors.${s.name}.countsPerRev`) }));
    const missing = config.robot.sensors.find((s, i) => this.sens[i]!.dof < 0);
    if (missing) throw new Error(`sensor ${missing.name}: joint ${missing.joint} is not a movable joint of ${config.robot.urdf}`);
  }

  /** An env with a plant of its own, simulated with the task's physics settings. */
  static async create<C extends TaskConfigBase>(setup: TaskSetup<C>, envIndex: number, seed: number, params: ParamSource = { kind: "task" }): Promise<SimEnv<C>> {
    const { config } = setup;
    const plant = await RobotPlant.create(setup.model, setup.table, config.robot, config.physicsDt, config.physicsSubstep);
    try {
      return new SimEnv(setup, plant, envIndex, seed, params, true);
    } catch (e) {
      plant.dispose();
      throw e;
    }
  }

  /** An env on a plant of a PlantGroup (built with the task's physics settings); the group advances and frees it. */
  static onPlant<C extends TaskConfigBase>(setup: TaskSetup<C>, plant: RobotPlant, envIndex: number, seed: number, params: ParamSource = { kind: "task" }): SimEnv<C> {
    const { physicsDt, physicsSubstep } = setup.config;
    if (plant.physicsDt !== physicsDt || plant.physicsSubstep !== physicsSubstep)
      throw new Error(`env ${envIndex}: its plant steps ${plant.physicsDt} s in ${plant.physicsSubstep} s substeps, the task ${physicsDt} s in ${physicsSubstep} s`);
    return new SimEnv(setup, plant, envIndex, seed, params, false);
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
    this.adrBoundary = undefined;
    this.drawParams();
    this.plant.setParams(this.episodeValues);
    this.logic.initialState(this.initRng, this.q0, this.qd0);
    this.plant.reset(this.q0, this.qd0);
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
   * Advances one control period of an env that owns its plant. Writes the
   * next observation (of the same episode: the caller resets on done) and
   * returns reward and flags (the object is reused by the next step).
   */
  step(action: Float32Array, actionOffset: number, obs: Float32Array, obsOffset: number): { reward: number; terminated: boolean; truncated: boolean } {
    this.applyAction(action, actionOffset);
    try {
      this.plant.advance(this.physicsSteps);
    } catch (e) {
      if (e instanceof PlantDivergedError) throw this.divergence(e.message);
      throw e;
    }
    return this.finishStep(obs, obsOffset);
  }

  /** Physics steps per control step. */
  get physicsStepsPerControl(): number {
    return this.physicsSteps;
  }

  /** Throws an EnvError naming the element when an action is not finite. */
  checkAction(action: Float32Array, actionOffset: number): void {
    const nA = this.spec.numActions;
    for (let k = 0; k < nA; k++) {
      const a = action[actionOffset + k]!;
      if (!Number.isFinite(a)) throw new EnvError(this.envIndex, `action[${k}] (${this.spec.actionLayout[k]!.name}) is ${a}`);
    }
  }

  /** Phase 1 of a control step: clips and scales the action, issues the commands, redraws per-step parameters. */
  applyAction(action: Float32Array, actionOffset: number): void {
    this.checkAction(action, actionOffset);
    const nA = this.spec.numActions;
    for (let k = 0; k < nA; k++) {
      const c = clamp(action[actionOffset + k]!, -1, 1);
      this.action[k] = c;
      this.command[k] = c * this.spec.actionLayout[k]!.scale;
      const mag = Math.abs(this.command[k]!);
      if (mag > this.peak) this.peak = mag;
    }
    const stepRandomizer = this.params.kind === "spec" ? this.params.randomizer : this.setup.randomizer;
    if (stepRandomizer.hasStepEntries) {
      stepRandomizer.applyStep(this.noiseRng, this.episodeValues, this.stepValues);
      this.plant.setRuntimeParams(this.stepValues);
    }
    this.plant.command(this.command);
  }

  /**
   * Phase 3, after the plant has advanced one control period: checks the
   * state, asks the task for reward and termination, writes the observation.
   * The returned object is reused by the next step.
   */
  finishStep(obs: Float32Array, obsOffset: number): { reward: number; terminated: boolean; truncated: boolean } {
    this.stepCount++;
    const bad = this.plant.firstNonFinite();
    if (bad >= 0) {
      throw this.divergence(`simulation diverged: joint ${this.plant.dofNames[bad]} q=${this.plant.q[bad]} qd=${this.plant.qd[bad]} at t=${this.plant.time.toFixed(3)} s`);
    }
    const r = this.logic.step({ q: this.plant.q, qd: this.plant.qd, command: this.command, action: this.action, time: this.stepCount * this.setup.config.controlDt });
    this.episodeReturn += r.reward;
    this.observe(obs, obsOffset);
    const out = this.outcome;
    out.reward = r.reward;
    out.terminated = r.terminated;
    out.truncated = !r.terminated && this.stepCount >= this.spec.maxEpisodeSteps;
    return out;
  }

  /** The error for a diverged simulation, naming this env and its episode. */
  divergence(message: string): EnvError {
    return new EnvError(this.envIndex, `${message} (episode ${this.episodeIndex})`);
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
      metrics: { ...this.logic.metrics(), peakCommand: this.peak, ...(this.adrBoundary !== undefined ? { adrBoundary: this.adrBoundary } : {}) },
    };
  }

  dispose(): void {
    if (this.ownsPlant) this.plant.dispose();
  }

  /** Where the parameters of the next episodes come from (the running episode keeps its own). */
  setParamSource(params: ParamSource): void {
    this.params = params;
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
      case "adr": {
        r.drawEpisode(this.paramRng, this.episodeValues);
        const n = src.ranges.length;
        this.adrBoundary = n > 0 && this.paramRng.next() < src.boundaryProb ? this.paramRng.int(2 * n) : -1;
        for (let k = 0; k < n; k++) {
          const g = src.ranges[k]!;
          const u = this.paramRng.uniform(g.low, g.high);
          this.episodeValues[g.index] = this.adrBoundary >> 1 === k ? ((this.adrBoundary & 1) === 1 ? g.high : g.low) : u;
        }
        break;
      }
    }
    r.privilegedOf(this.episodeValues, this.privileged);
  }

  private observe(obs: Float32Array, offset: number): void {
    const p = this.stepValues;
    const q = this.plant.q;
    for (let i = 0; i < this.sens.length; i++) {
      const s = this.sens[i]!;
      this.readings[i] = encoderReading(q[s.dof]!, { countsPerRev: p[s.paramOffset]!, offset: p[s.paramOffset + 1]!, noise: p[s.paramOffset + 2]! }, this.noiseRng);
    }
    this.obsBuilder.build(this.readings, this.action, obs, offset);
  }
}
