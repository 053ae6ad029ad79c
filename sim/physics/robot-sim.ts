/**
 * One robot in its own Rapier world: the single-robot face of RobotBatch (see
 * robot-batch.ts for the model, the conventions and why batching is faster).
 * Results are bit-identical to the same robot inside a batch.
 */
import type { RobotModel } from "../urdf/model.js";
import type { Vec3 } from "./math.js";
import { loadRapier, type Rapier } from "./rapier.js";
import { RobotBatch, type PhysicsOptions } from "./robot-batch.js";

export type { PhysicsOptions };

export class RobotSim {
  private readonly batch: RobotBatch;

  /** Loads Rapier if needed, then builds the simulation. */
  static async create(model: RobotModel, options: PhysicsOptions): Promise<RobotSim> {
    return new RobotSim(await loadRapier(), model, options);
  }

  /** Synchronous form: pass the engine from `await loadRapier()` (or undefined once it has loaded). */
  constructor(rapier: Rapier | undefined, model: RobotModel, options: PhysicsOptions) {
    this.batch = new RobotBatch(rapier, [model], options);
  }

  /** Names of the moving joints, in URDF order: the DOFs. */
  get dofNames(): string[] {
    return this.batch.dofNames;
  }

  get dof(): number {
    return this.batch.dof;
  }

  get dt(): number {
    return this.batch.dt;
  }

  get model(): RobotModel {
    return this.batch.model(0);
  }

  /** Joint positions (rad or m; revolute angles unwrapped) and velocities. */
  getState(q: Float64Array, qd: Float64Array): void {
    this.batch.getState(0, q, qd);
  }

  /** Joint velocities predicted for the middle of the coming step (see RobotBatch): evaluate velocity-dependent efforts at these. */
  midStepVelocities(out: Float64Array): void {
    this.batch.midStepVelocities(0, out);
  }

  /** Places the robot (forward kinematics from the fixed root) with consistent velocities: the reset. */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    this.batch.setState(0, q, qd);
  }

  /** Generalized joint efforts (N m, or N for prismatic), held until changed. */
  setJointTorques(tau: ArrayLike<number>): void {
    this.batch.setJointTorques(0, tau);
  }

  step(): void {
    this.batch.step();
  }

  /** True when DOF `j` is within `limitEpsilon` of, or past, a position limit (see RobotBatch.limitContact). */
  limitContact(j: number): boolean {
    return this.batch.limitContact(0, j);
  }

  /** Position limits of DOF `j`, or undefined when it has none. */
  jointLimit(j: number): { lower: number; upper: number } | undefined {
    return this.batch.jointLimit(0, j);
  }

  setGravity(g: Vec3): void {
    this.batch.setGravity(g);
  }

  getGravity(): Vec3 {
    return this.batch.getGravity();
  }

  /** Replaces the model (same moving joints); the robot restarts at q = 0, qd = 0. */
  rebuild(model: RobotModel): void {
    this.batch.rebuild(0, model);
  }

  /** Alias of rebuild. */
  setModel(model: RobotModel): void {
    this.batch.rebuild(0, model);
  }

  dispose(): void {
    this.batch.dispose();
  }

  get disposed(): boolean {
    return this.batch.disposed;
  }

  /** Bodies and joints in the Rapier world (a leak check for rebuild). */
  engineStats(): { bodies: number; joints: number } {
    return this.batch.engineStats();
  }
}
