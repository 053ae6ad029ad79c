import type { Rng } from "../../../common/rng.js";
import type { RobotModel } from "../../urdf/model.js";
import { UprightTracker, uprightError } from "../upright.js";
import type { TaskDefinition, TaskLogic, TaskStepInput, TaskStepResult } from "../task.js";
import { furutaConfigSchema, type FurutaConfig } from "./config.js";

export { uprightError } from "../upright.js";
/** The rig page's success rule (kept under this name for the robot runtime). */
export { UprightTracker as FurutaSuccessTracker } from "../upright.js";

class FurutaLogic implements TaskLogic {
  private readonly arm: number;
  private readonly pend: number;
  private readonly tracker: UprightTracker;
  private readonly stopLimit: number;
  private readonly vmax: number;

  constructor(
    private readonly c: FurutaConfig,
    model: RobotModel,
    dofNames: readonly string[],
  ) {
    this.arm = dofNames.indexOf("arm_joint");
    this.pend = dofNames.indexOf("pendulum_joint");
    if (this.arm < 0 || this.pend < 0) throw new Error(`furuta task: the URDF needs joints arm_joint and pendulum_joint, has ${dofNames.join(", ")}`);
    const limit = model.joints.find((j) => j.name === "arm_joint")?.limit;
    if (!limit) throw new Error("furuta task: arm_joint needs position limits (the hard stops)");
    // A stop is "touched" within half a millidegree-ish of the limit; Rapier holds the joint at the limit itself.
    this.stopLimit = Math.min(Math.abs(limit.lower), Math.abs(limit.upper)) - 1e-3;
    this.vmax = c.robot.actuators[0]!.commandScale;
    this.tracker = new UprightTracker(c.success.uprightTolerance, c.success.holdSeconds, this.stopLimit);
  }

  initialState(rng: Rng, q: Float64Array, qd: Float64Array): void {
    q.fill(0);
    qd.fill(0);
    q[this.arm] = rng.uniform(-this.c.init.theta, this.c.init.theta);
    q[this.pend] = rng.uniform(-this.c.init.alpha, this.c.init.alpha);
  }

  resetEpisode(): void {
    this.tracker.reset();
  }

  step(s: TaskStepInput): TaskStepResult {
    const w = this.c.reward;
    const theta = s.q[this.arm]!, alpha = s.q[this.pend]!;
    const thetaDot = s.qd[this.arm]!, alphaDot = s.qd[this.pend]!;
    const atStop = this.tracker.update(theta, thetaDot, alpha, this.c.controlDt, s.time);
    const e = uprightError(alpha);
    const v = s.command[0]! / this.vmax;
    const over = Math.max(0, Math.abs(theta) - w.armSoftLimit);
    let reward =
      w.upright * 0.5 * (1 - Math.cos(alpha)) * Math.exp(-w.uprightSpeed * alphaDot * alphaDot) +
      w.balance * Math.exp(-((e / w.balanceWidth) ** 2) - w.balanceAlphaDot * alphaDot * alphaDot - w.balanceThetaDot * thetaDot * thetaDot) -
      w.voltage * v * v -
      w.armTravel * theta * theta -
      w.armBarrier * over * over;
    if (atStop) reward -= w.stopContact;
    // Rewards are per control step; scale so that a fixed wall-clock behaviour earns the same at any control rate.
    return { reward: reward * this.c.controlDt * 100, terminated: atStop };
  }

  success(): boolean {
    return this.tracker.success();
  }

  metrics(): Record<string, number> {
    return this.tracker.metrics();
  }
}

export const furutaTask: TaskDefinition<FurutaConfig> = {
  name: "furuta",
  description: "Furuta pendulum on a DC motor: swing up from hanging and balance upright (shared/rigs/furuta.md)",
  configSchema: furutaConfigSchema,
  createLogic: (config, model, dofNames) => new FurutaLogic(config, model, dofNames),
};
