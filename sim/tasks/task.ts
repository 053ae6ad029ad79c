import type { Rng } from "../../common/rng.js";
import type { Schema } from "../../common/schema.js";
import type { ObservationConfig } from "../observation.js";
import type { RandomizationEntry } from "../randomization/spec.js";
import type { RobotConfig } from "../robot-config.js";
import type { RobotModel } from "../urdf/model.js";

/**
 * A task is data plus a little code. The data (`TaskConfig`, validated from
 * JSON, composed from a robot config, an observation config, a randomization
 * spec and reward weights) says everything numeric; the code (`TaskLogic`)
 * says only what cannot be data: the start state, the reward's shape and the
 * success rule. The generic SimEnv does the plumbing for every task.
 */
export interface TaskConfigBase {
  robot: RobotConfig;
  /** Control period, s. */
  controlDt: number;
  /** Physics step, s; must divide the control period. Actuator efforts are re-evaluated once per step. */
  physicsDt: number;
  /**
   * Longest Rapier solver substep, s (each physics step runs ceil(physicsDt /
   * physicsSubstep) of them). It sets the integration accuracy and most of
   * the cost; see sim/physics/robot-batch.ts and test/sim/fidelity.test.ts.
   */
  physicsSubstep: number;
  episodeSeconds: number;
  observation: ObservationConfig;
  randomization: RandomizationEntry[];
}

/** What a task sees after each control step: the true state (not the sensor readings). */
export interface TaskStepInput {
  /** True joint positions and velocities, in the physics' DOF order. */
  q: Float64Array;
  qd: Float64Array;
  /** Commands applied this step (after clipping and scaling), in actuator order. */
  command: Float32Array;
  /** Actions in [-1, 1], in actuator order. */
  action: Float32Array;
  time: number;
}

export interface TaskStepResult {
  reward: number;
  terminated: boolean;
}

export interface TaskLogic {
  /** Initial joint state of a new episode (DOF order). */
  initialState(rng: Rng, q: Float64Array, qd: Float64Array): void;
  /** Clears per-episode bookkeeping. */
  resetEpisode(): void;
  step(s: TaskStepInput): TaskStepResult;
  /** Whether the finished (or running) episode counts as a success. */
  success(): boolean;
  /** Task-specific figures of the current episode. */
  metrics(): Record<string, number>;
}

export interface TaskDefinition<C extends TaskConfigBase = TaskConfigBase> {
  name: string;
  description: string;
  /** Validates a partial config (from a file or flags) and fills the defaults. */
  configSchema: Schema<C>;
  createLogic(config: C, model: RobotModel, dofNames: readonly string[]): TaskLogic;
}
