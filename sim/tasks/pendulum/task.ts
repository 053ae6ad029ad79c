import type { Rng } from "../../../common/rng.js";
import type { RobotModel } from "../../urdf/model.js";
import type { TaskDefinition, TaskLogic, TaskStepInput, TaskStepResult } from "../task.js";
import { UprightTracker, uprightError } from "../upright.js";
import { pendulumConfigSchema, type PendulumConfig } from "./config.js";

class PendulumLogic implements TaskLogic {
  private readonly joint: number;
  private readonly tracker: UprightTracker;

  constructor(
    private readonly c: PendulumConfig,
    _model: RobotModel,
    dofNames: readonly string[],
  ) {
    this.joint = dofNames.indexOf(c.robot.actuators[0]!.joint);
    if (this.joint < 0) throw new Error(`pendulum task: no joint ${c.robot.actuators[0]!.joint} in the URDF`);
    this.tracker = new UprightTracker(c.success.uprightTolerance, c.success.holdSeconds, Infinity);
  }

  initialState(rng: Rng, q: Float64Array, qd: Float64Array): void {
    q.fill(0);
    qd.fill(0);
    q[this.joint] = rng.uniform(-this.c.init.angle, this.c.init.angle);
    qd[this.joint] = rng.uniform(-this.c.init.speed, this.c.init.speed);
  }

  resetEpisode(): void {
    this.tracker.reset();
  }

  step(s: TaskStepInput): TaskStepResult {
    const q = s.q[this.joint]!, qd = s.qd[this.joint]!;
    this.tracker.update(0, 0, q, this.c.controlDt, s.time);
    const e = uprightError(q);
    const w = this.c.reward;
    const cost = w.angle * e * e + w.velocity * qd * qd + w.effort * s.action[0]! * s.action[0]!;
    const bonus = w.upright * Math.exp(-((e / w.uprightWidth) ** 2));
    return { reward: (bonus - cost) * this.c.controlDt * 10, terminated: false };
  }

  success(): boolean {
    return this.tracker.success();
  }

  metrics(): Record<string, number> {
    const m = this.tracker.metrics();
    return { bestHoldSeconds: m.bestHoldSeconds!, secondsUpright: m.secondsUpright!, firstUprightSeconds: m.firstUprightSeconds! };
  }
}

export const pendulumTask: TaskDefinition<PendulumConfig> = {
  name: "pendulum",
  description: "Single pendulum on a torque motor: swing up from hanging and hold upright (the simpler second task)",
  configSchema: pendulumConfigSchema,
  createLogic: (config, model, dofNames) => new PendulumLogic(config, model, dofNames),
};
