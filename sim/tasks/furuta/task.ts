import type { Rng } from "../../../common/rng.js";
import type { RobotModel } from "../../urdf/model.js";
import type { TaskDefinition, TaskLogic, TaskStepInput, TaskStepResult } from "../task.js";
import { furutaConfigSchema, type FurutaConfig } from "./config.js";

/** Signed distance of alpha from upright (pi), wrapped to (-pi, pi]. */
export function uprightError(alpha: number): number {
  let d = (alpha - Math.PI) % (2 * Math.PI);
  if (d <= -Math.PI) d += 2 * Math.PI;
  if (d > Math.PI) d -= 2 * Math.PI;
  return d;
}

/**
 * Tracks the rig page's success rule over an episode: the pendulum upright
 * (|alpha - pi| < tolerance) for `holdSeconds` without interruption, and the
 * arm never at a hard stop. Shared by the simulated task and the robot's
 * deploy episodes, so both report success the same way.
 */
export class FurutaSuccessTracker {
  private run = 0;
  bestHold = 0;
  timeUpright = 0;
  firstUpright = NaN;
  stopContact = false;
  stopStrikeSpeed = 0;
  /** Arm speed at the previous update: the hard stop zeroes the speed within the control period, so a strike is measured by the approach speed. */
  private lastThetaDot = 0;

  constructor(
    private readonly tolerance: number,
    private readonly holdSeconds: number,
    private readonly stopLimit: number,
  ) {}

  reset(): void {
    this.run = 0;
    this.bestHold = 0;
    this.timeUpright = 0;
    this.firstUpright = NaN;
    this.stopContact = false;
    this.stopStrikeSpeed = 0;
    this.lastThetaDot = 0;
  }

  /** Feeds one control period; returns whether the arm is at a stop. */
  update(theta: number, thetaDot: number, alpha: number, dt: number, time: number): boolean {
    if (Math.abs(uprightError(alpha)) < this.tolerance) {
      this.run += dt;
      this.timeUpright += dt;
      if (Number.isNaN(this.firstUpright)) this.firstUpright = time;
      if (this.run > this.bestHold) this.bestHold = this.run;
    } else this.run = 0;
    const atStop = Math.abs(theta) >= this.stopLimit;
    if (atStop) {
      const approaching = Math.sign(this.lastThetaDot) === Math.sign(theta) ? Math.abs(this.lastThetaDot) : 0;
      this.stopContact = true;
      this.stopStrikeSpeed = Math.max(this.stopStrikeSpeed, Math.abs(thetaDot), approaching);
    }
    this.lastThetaDot = thetaDot;
    return atStop;
  }

  success(): boolean {
    return !this.stopContact && this.bestHold >= this.holdSeconds - 1e-9;
  }

  metrics(): Record<string, number> {
    return {
      bestHoldSeconds: this.bestHold,
      secondsUpright: this.timeUpright,
      firstUprightSeconds: Number.isNaN(this.firstUpright) ? -1 : this.firstUpright,
      stopContact: this.stopContact ? 1 : 0,
      stopStrikeSpeed: this.stopStrikeSpeed,
    };
  }
}

class FurutaLogic implements TaskLogic {
  private readonly arm: number;
  private readonly pend: number;
  private readonly tracker: FurutaSuccessTracker;
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
    this.tracker = new FurutaSuccessTracker(c.success.uprightTolerance, c.success.holdSeconds, this.stopLimit);
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
      w.upright * 0.5 * (1 - Math.cos(alpha)) +
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
