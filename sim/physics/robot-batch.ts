/**
 * Many independent robots stepped together in one Rapier world.
 *
 * Why one world: a Rapier step has a fixed cost of a few microseconds however
 * little is in the world, so a world per robot spends most of its time on that
 * overhead; sharing it makes a 2-body robot several times cheaper per step
 * (numbers in bench/physics-probe.ts). Robots have no colliders, so they never
 * interact, and every robot sits at the world origin: far-apart robots would lose
 * float32 precision, and placing them identically also makes each robot's
 * trajectory bit-identical to the same robot alone in its own world (tested).
 *
 * Model. Each robot is a RobotModel compiled by layout.ts: links joined by fixed
 * joints are merged into one rigid body; the root body is fixed at the world
 * origin; every moving joint is a Rapier impulse joint (not a multibody joint:
 * those carry a fixed 0.1 N m s/rad damping, far too much for a light pendulum).
 * Per DOF, in URDF order:
 * - q, qd: joint position (rad or m) and velocity of child relative to parent.
 *   Revolute angles are unwrapped (continuous across ±π, counting turns): the
 *   batch reads every body once per step, so the angle change between reads is
 *   always far below π.
 * - effort: the held generalized force from setJointTorques, plus viscous
 *   damping -D qd (D from the model's <dynamics>), applied as equal and
 *   opposite torques (revolute) or forces at the joint (prismatic) on child and
 *   parent, re-computed at the start of every step. Efforts are held over the
 *   step, so a velocity-dependent one is evaluated at the step's mid-point
 *   velocity, predicted from the last two steps (qd + (qd - qd_prev) / 2; qd
 *   after a reset): the impulse is then second-order accurate, where the
 *   step-start velocity gave errors of 0.6 of the fidelity tolerance at dt =
 *   5 ms (midStepVelocities() gives the same prediction to actuator models).
 * - Coulomb friction (model's <dynamics friction>): a Rapier joint motor driving
 *   the joint velocity to 0 with its force capped at the friction value. The
 *   solver treats it as a velocity constraint, so it holds a joint still under a
 *   smaller effort and does not chatter or pump energy around qd = 0.
 * - Position limits of revolute/prismatic joints are Rapier joint limits;
 *   limitContact() reports when a joint is at (or past) one.
 * Gyroscopic torque ω × (I ω) is integrated by Rapier itself (checked against
 * Euler's equations in test/sim/physics.test.ts), so nothing is added for it.
 *
 * Accuracy and cost. Rapier integrates with symplectic Euler and enforces
 * joints at the velocity level, re-projecting each body's velocity onto the
 * joint's tangent space every substep. That is first-order: a link whose centre
 * of mass circles a joint loses energy at a rate proportional to the substep h
 * (≈ h ω³/2 of angular speed per second at speed ω), i.e. it acts like extra
 * speed-dependent damping. Rapier also evaluates each body's world-frame
 * inertia (and the velocity change from the applied torques) once per step and
 * holds it over the step's substeps, an error proportional to dt that gains
 * energy when bodies rotate: on the undamped Furuta at dt = 5 ms, about +3 %/s
 * on a large swing, and a net +7 %/s (after the substep loss) with the arm
 * spinning at 8 rad/s. The two nearly
 * cancel on a swinging pendulum at dt = 5 ms, h = 0.2 ms, the Furuta task's
 * setting: errors 0.07 / 0.03 / 0.47 of the three fidelity tolerances and 0.84
 * on the spinning-arm check (test/sim/fidelity.test.ts), at half the solver
 * work of dt = 2 ms, h = 0.1 ms (0.03 / 0.02 / 0.20 and 0.32). Smaller steps
 * at h = 0.2 ms lose the cancellation (dt = 2 ms: 2.0 on the third). Substeps
 * are nearly all the cost, about 1 µs per robot each. Two cheaper remedies were
 * tried and rejected: more PGS sweeps change nothing (the constraint solve is
 * already accurate), and re-projecting bodies onto (q, qd) after each step
 * drops the Coriolis coupling the projection carries (errors of radians).
 *
 * Reset: setState places every body by forward kinematics and sets consistent
 * velocities. Nothing else carries over between steps that could make a
 * trajectory depend on history: efforts are re-applied from scratch each step
 * (the mid-step velocity prediction restarts at a reset),
 * and the reset->rollout determinism test checks that Rapier's internal solver
 * state (joint warm-start impulses) does not leak either. Snapshots are not
 * used (restoring one leaks WebAssembly memory).
 */
import type { RobotModel } from "../urdf/model.js";
import { UrdfError } from "../urdf/errors.js";
import { compileLayout, forwardKinematics, type RobotLayout } from "./layout.js";
import { rotate, type Vec3 } from "./math.js";
import { loadRapier, rapierIfLoaded, type Rapier } from "./rapier.js";

type World = InstanceType<Rapier["World"]>;
type RawVector = ReturnType<Rapier["VectorOps"]["intoRaw"]>;
type RawBodies = World["bodies"]["raw"];

export interface PhysicsOptions {
  /** Physics step (s). */
  dt: number;
  /** World gravity (m/s²); default [0, 0, -9.81]. */
  gravity?: Vec3;
  /**
   * Longest integration substep (s); default DEFAULT_SUBSTEP. Rapier's solver
   * substeps (TGS-soft): each step runs ceil(dt / substep) solver iterations,
   * each a full velocity solve and position update. Its impulse joints lose
   * energy at a rate proportional to the substep (velocity projection, roughly
   * dω/dt ≈ -h ω³/2 for a link spinning at ω), so accuracy is set by this,
   * not by dt. See test/sim/fidelity.test.ts for the errors it buys.
   */
  substep?: number;
  /** Rapier solver iterations per step; overrides `substep` when given. */
  solverIterations?: number;
  /** Projected Gauss-Seidel sweeps over the constraints per solver iteration; default 1. */
  pgsIterations?: number;
  /** A joint counts as touching a limit within this distance of it (rad or m); default 1e-3. */
  limitEpsilon?: number;
}

export const DEFAULT_GRAVITY: Readonly<Vec3> = [0, 0, -9.81];

/**
 * 0.1 ms: keeps the Furuta within the fidelity tolerances at dt = 2 ms (the
 * errors depend on dt too, see "Accuracy and cost" above; tasks choose their
 * own setting in TaskConfigBase.physicsSubstep).
 */
export const DEFAULT_SUBSTEP = 1e-4;

/**
 * Motor damping used to turn a joint motor into Coulomb friction: large enough
 * that the motor acts as a hard "velocity = 0" constraint whose force is capped
 * at the friction value.
 */
const FRICTION_MOTOR_DAMPING = 1e6;

interface Slot {
  model: RobotModel;
  layout: RobotLayout;
  dofs: DofFrames[];
  bodyHandles: number[];
  /** Per body: world rotation (4), angular velocity (3), origin position (3), COM linear velocity (3). */
  rot: Float64Array;
  ang: Float64Array;
  pos: Float64Array;
  lin: Float64Array;
  /** Body centre of mass in body frame (3 per body). */
  com: Float64Array;
  /** Whether body poses/velocities and q/qd reflect the current physics state. */
  fresh: boolean;
  q: Float64Array;
  qd: Float64Array;
  /** qd at the start of the previous step, when there was one since the last reset (`history`). */
  qdPrev: Float64Array;
  history: boolean;
  tau: Float64Array;
  /** Body carries a user torque / force in Rapier (so it must be cleared when no longer wanted). */
  hadTorque: Uint8Array;
  hadForce: Uint8Array;
  torque: Float64Array;
  /** This robot's gravity as a multiple of the world gravity (Rapier's per-body gravity scale). */
  gravityScale: number;
}

/** Per-DOF joint frames of one robot (joint origins may be randomized per robot). */
interface DofFrames {
  prismatic: boolean;
  parent: number;
  child: number;
  damping: number;
  /** frame1 rotation and joint axis / anchor in the parent body frame, frame2 rotation in the child frame. */
  f1: Float64Array;
  f2: Float64Array;
  axis1: Float64Array;
  anchor1: Float64Array;
}

export class RobotBatch {
  readonly dofNames: string[];
  readonly dof: number;
  readonly dt: number;
  readonly solverIterations: number;
  readonly pgsIterations: number;
  readonly limitEpsilon: number;

  private readonly R: Rapier;
  private world: World | undefined;
  private readonly raw: RawBodies;
  private readonly rawStep: () => void;
  private readonly gravityRaw: RawVector;
  private readonly vec: RawVector;
  private readonly vec2: RawVector;
  private readonly f32 = new Float32Array(4);
  private readonly axis = new Float64Array(3);
  private readonly point = new Float64Array(3);
  private readonly slots: Slot[] = [];
  private readonly hasPrismatic: boolean;
  private gravity: Vec3;

  /** Loads Rapier if needed, then builds the batch. */
  static async create(models: RobotModel | RobotModel[], options: PhysicsOptions & { count?: number }): Promise<RobotBatch> {
    return new RobotBatch(await loadRapier(), models, options);
  }

  /**
   * `models` is one model per robot, or one model used `options.count` times
   * (default 1). All robots must have the same moving joints (names and types).
   */
  constructor(rapier: Rapier | undefined, models: RobotModel | RobotModel[], options: PhysicsOptions & { count?: number }) {
    this.R = rapier ?? rapierIfLoaded();
    const list = Array.isArray(models) ? models : new Array<RobotModel>(options.count ?? 1).fill(models);
    if (list.length === 0) throw new RangeError("RobotBatch: needs at least one robot");
    if (!(options.dt > 0 && Number.isFinite(options.dt))) throw new RangeError(`RobotBatch: dt must be a positive number of seconds, got ${options.dt}`);
    const substep = options.substep ?? DEFAULT_SUBSTEP;
    if (!(substep > 0 && Number.isFinite(substep))) throw new RangeError(`RobotBatch: substep must be a positive number of seconds, got ${substep}`);
    const iters = options.solverIterations ?? Math.max(1, Math.ceil(options.dt / substep - 1e-9));
    if (!(Number.isInteger(iters) && iters >= 1)) throw new RangeError(`RobotBatch: solverIterations must be an integer >= 1, got ${iters}`);
    const eps = options.limitEpsilon ?? 1e-3;
    if (!(eps >= 0)) throw new RangeError(`RobotBatch: limitEpsilon must be >= 0, got ${eps}`);
    const pgs = options.pgsIterations ?? 1;
    if (!(Number.isInteger(pgs) && pgs >= 1)) throw new RangeError(`RobotBatch: pgsIterations must be an integer >= 1, got ${pgs}`);
    this.dt = options.dt;
    this.solverIterations = iters;
    this.limitEpsilon = eps;
    this.gravity = checkVec3(options.gravity ?? [...DEFAULT_GRAVITY], "gravity");

    const first = compileLayout(list[0]!);
    this.dofNames = first.dofs.map((d) => d.name);
    this.dof = first.dofs.length;

    const R = this.R;
    const world = new R.World({ x: this.gravity[0], y: this.gravity[1], z: this.gravity[2] });
    this.world = world;
    world.timestep = this.dt;
    world.numSolverIterations = iters;
    world.numInternalPgsIterations = pgs;
    this.pgsIterations = pgs;
    this.raw = world.bodies.raw;
    this.gravityRaw = R.VectorOps.intoRaw({ x: this.gravity[0], y: this.gravity[1], z: this.gravity[2] });
    this.vec = R.VectorOps.intoRaw({ x: 0, y: 0, z: 0 });
    this.vec2 = R.VectorOps.intoRaw({ x: 0, y: 0, z: 0 });

    // World.step() also re-syncs its JS-side maps of bodies and colliders on every
    // call, which costs more than stepping a small robot; nothing is created
    // behind its back here, so call the pipeline directly when its signature is
    // the one this code was written against (Rapier 0.20: ten arguments), else fall back.
    const pipeline = world.physicsPipeline.raw as unknown as { step: (...args: unknown[]) => void };
    const ip = world.integrationParameters.raw;
    this.rawStep =
      pipeline.step.length === 10
        ? () =>
            pipeline.step(this.gravityRaw, ip, world.islands.raw, world.broadPhase.raw, world.narrowPhase.raw, world.bodies.raw,
              world.colliders.raw, world.impulseJoints.raw, world.multibodyJoints.raw, world.ccdSolver.raw)
        : () => world.step();

    this.structure = structureOf(first);
    this.hasPrismatic = first.dofs.some((d) => d.type === "prismatic");
    try {
      for (let i = 0; i < list.length; i++) this.slots.push(this.build(list[i]!, i === 0 ? first : compileLayout(list[i]!)));
    } catch (e) {
      this.dispose(); // a half-built batch would otherwise hold its WebAssembly memory
      throw e;
    }
  }

  /** Moving joints and the bodies they connect; every robot of the batch must match it. */
  private readonly structure: string;

  get count(): number {
    return this.slots.length;
  }

  /** The model robot `i` was built from (do not mutate; rebuild with a copy instead). */
  model(i: number): RobotModel {
    return this.slot(i).model;
  }

  /** Joint positions and velocities of robot `i` (length dof each). */
  getState(i: number, q: Float64Array, qd: Float64Array): void {
    const s = this.slot(i);
    if (!s.fresh) this.refresh(s);
    for (let j = 0; j < this.dof; j++) {
      q[j] = s.q[j]!;
      qd[j] = s.qd[j]!;
    }
  }

  /**
   * All robots' states, row-major: q[i * dof + j]. With `qdMid`, also the
   * velocities predicted for the middle of the coming step (see the header),
   * at which velocity-dependent efforts for that step should be evaluated.
   */
  getStates(q: Float64Array, qd: Float64Array, qdMid?: Float64Array): void {
    const n = this.dof;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (!s.fresh) this.refresh(s);
      for (let j = 0; j < n; j++) {
        q[i * n + j] = s.q[j]!;
        qd[i * n + j] = s.qd[j]!;
      }
      if (qdMid) for (let j = 0; j < n; j++) qdMid[i * n + j] = midVelocity(s, j);
    }
  }

  /** Robot `i`'s velocities predicted for the middle of the coming step (length dof). */
  midStepVelocities(i: number, out: Float64Array): void {
    const s = this.slot(i);
    if (!s.fresh) this.refresh(s);
    for (let j = 0; j < this.dof; j++) out[j] = midVelocity(s, j);
  }

  /**
   * Places robot `i` at joint positions `q` with velocities `qd` (bodies by
   * forward kinematics from the fixed root, velocities consistent with qd).
   * This is the reset; held efforts (setJointTorques) are kept.
   */
  setState(i: number, q: ArrayLike<number>, qd: ArrayLike<number>): void {
    const s = this.slot(i);
    this.checkLength(q, "q");
    this.checkLength(qd, "qd");
    for (let j = 0; j < this.dof; j++)
      if (!Number.isFinite(q[j]!) || !Number.isFinite(qd[j]!))
        throw new RangeError(`RobotBatch.setState: non-finite value for joint "${this.dofNames[j]}" (q=${q[j]}, qd=${qd[j]})`);
    const motions = forwardKinematics(s.layout, q, qd);
    const raw = this.raw;
    for (let b = 1; b < motions.length; b++) {
      const m = motions[b]!;
      const h = s.bodyHandles[b]!;
      const [px, py, pz] = m.pose.pos;
      const [qx, qy, qz, qw] = m.pose.rot;
      raw.rbSetTranslation(h, px, py, pz, false);
      raw.rbSetRotation(h, qx, qy, qz, qw, false);
      // Rapier's linear velocity is that of the centre of mass.
      const r = rotate(m.pose.rot, [s.com[3 * b]!, s.com[3 * b + 1]!, s.com[3 * b + 2]!]);
      const w = m.omega;
      this.vec.x = m.vOrigin[0] + w[1] * r[2] - w[2] * r[1];
      this.vec.y = m.vOrigin[1] + w[2] * r[0] - w[0] * r[2];
      this.vec.z = m.vOrigin[2] + w[0] * r[1] - w[1] * r[0];
      raw.rbSetLinvel(h, this.vec, false);
      this.vec.x = w[0];
      this.vec.y = w[1];
      this.vec.z = w[2];
      raw.rbSetAngvel(h, this.vec, false);
      raw.rbResetTorques(h, false);
      raw.rbResetForces(h, false);
      s.hadTorque[b] = 0;
      s.hadForce[b] = 0;
    }
    // Unwrap the next reading relative to the requested angles (e.g. q = 7 rad stays near 7).
    for (let j = 0; j < this.dof; j++) {
      s.q[j] = q[j]!;
      s.qd[j] = qd[j]!;
    }
    s.fresh = false;
    s.history = false;
  }

  /** Sets all robots to the same state. */
  setStates(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    for (let i = 0; i < this.slots.length; i++) this.setState(i, q, qd);
  }

  /** Generalized efforts (N m, or N for prismatic joints) held on robot `i` until changed. */
  setJointTorques(i: number, tau: ArrayLike<number>): void {
    const s = this.slot(i);
    this.checkLength(tau, "tau");
    for (let j = 0; j < this.dof; j++) {
      const t = tau[j]!;
      if (!Number.isFinite(t)) throw new RangeError(`RobotBatch.setJointTorques: non-finite effort ${t} for joint "${this.dofNames[j]}"`);
      s.tau[j] = t;
    }
  }

  /** Efforts for all robots, row-major: tau[i * dof + j]. */
  setAllJointTorques(tau: ArrayLike<number>): void {
    if (tau.length !== this.slots.length * this.dof)
      throw new RangeError(`RobotBatch.setAllJointTorques: expected ${this.slots.length * this.dof} values (count × dof), got ${tau.length}`);
    const n = this.dof;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      for (let j = 0; j < n; j++) {
        const t = tau[i * n + j]!;
        if (!Number.isFinite(t)) throw new RangeError(`RobotBatch.setAllJointTorques: non-finite effort ${t} for robot ${i} joint "${this.dofNames[j]}"`);
        s.tau[j] = t;
      }
    }
  }

  /**
   * Gravity acting on robot `i` (m/s²). A Rapier world has one gravity, so a
   * robot's own gravity is the world gravity times a per-body scale
   * (RigidBody gravity scale): `g` must point along the world gravity (a
   * randomized magnitude, as the parameter table's "gravity" entry draws).
   * Kept across rebuild(); setGravity() rescales every robot with the world.
   */
  setRobotGravity(i: number, g: ArrayLike<number>): void {
    const s = this.slot(i);
    const v = checkVec3(g, "robot gravity");
    const G = this.gravity;
    const GG = G[0] * G[0] + G[1] * G[1] + G[2] * G[2];
    const scale = GG > 0 ? (v[0] * G[0] + v[1] * G[1] + v[2] * G[2]) / GG : 0;
    const off = Math.hypot(v[0] - scale * G[0], v[1] - scale * G[1], v[2] - scale * G[2]);
    if (off > 1e-9 * Math.max(1, Math.hypot(...v)))
      throw new RangeError(
        `RobotBatch.setRobotGravity: robot ${i}: gravity [${v.join(", ")}] is not along the world gravity [${G.join(", ")}]; a robot's gravity can only scale the world's`,
      );
    if (scale === s.gravityScale) return;
    s.gravityScale = scale;
    for (let b = 1; b < s.bodyHandles.length; b++) this.raw.rbSetGravityScale(s.bodyHandles[b]!, scale, false);
  }

  /** Gravity acting on robot `i` (the world gravity times its scale). */
  robotGravity(i: number): Vec3 {
    const k = this.slot(i).gravityScale;
    return [this.gravity[0] * k, this.gravity[1] * k, this.gravity[2] * k];
  }

  /** Advances every robot by dt. */
  step(): void {
    this.live();
    for (let i = 0; i < this.slots.length; i++) this.applyEfforts(this.slots[i]!);
    this.rawStep();
    for (let i = 0; i < this.slots.length; i++) this.slots[i]!.fresh = false;
  }

  /**
   * True when joint `j` of robot `i` is within limitEpsilon of (or past) its
   * lower or upper position limit; always false for unlimited joints. The
   * limit stops the joint within a step, so the speed at which it was struck is
   * the |qd| read just before this first turned true.
   */
  limitContact(i: number, j: number): boolean {
    const s = this.slot(i);
    if (!(Number.isInteger(j) && j >= 0 && j < this.dof)) throw new RangeError(`RobotBatch.limitContact: joint index ${j} out of range 0..${this.dof - 1}`);
    const lim = s.layout.dofs[j]!.limit;
    if (!lim) return false;
    if (!s.fresh) this.refresh(s);
    const q = s.q[j]!;
    return q <= lim.lower + this.limitEpsilon || q >= lim.upper - this.limitEpsilon;
  }

  /** Position limits of DOF `j` of robot `i`, or undefined when it has none. */
  jointLimit(i: number, j: number): { lower: number; upper: number } | undefined {
    const lim = this.slot(i).layout.dofs[j]?.limit;
    return lim ? { ...lim } : undefined;
  }

  /** World gravity; each robot feels it times its own scale (setRobotGravity, default 1). */
  setGravity(g: Vec3): void {
    this.live();
    this.gravity = checkVec3(g, "gravity");
    this.gravityRaw.x = g[0];
    this.gravityRaw.y = g[1];
    this.gravityRaw.z = g[2];
    this.world!.gravity = { x: g[0], y: g[1], z: g[2] };
  }

  getGravity(): Vec3 {
    return [...this.gravity];
  }

  /**
   * Replaces robot `i` with a new model (e.g. randomized masses, inertias,
   * centres of mass, joint origins, damping, friction, limits). Its moving
   * joints must match the batch's (names and types). The robot restarts at
   * q = 0, qd = 0; held efforts are kept. Its old bodies and joints are removed,
   * so repeated rebuilds do not grow the world.
   */
  rebuild(i: number, model: RobotModel): void {
    const old = this.slot(i);
    const slot = this.build(model, compileLayout(model), old.gravityScale);
    slot.tau.set(old.tau);
    this.destroy(old);
    this.slots[i] = slot;
  }

  /** Frees the Rapier world. Safe to call twice; any other use afterwards throws. */
  dispose(): void {
    if (!this.world) return;
    this.world.free();
    this.gravityRaw.free();
    this.vec.free();
    this.vec2.free();
    this.world = undefined;
  }

  get disposed(): boolean {
    return this.world === undefined;
  }

  /** Bodies and impulse joints currently in the Rapier world (a leak check for rebuild). */
  engineStats(): { bodies: number; joints: number } {
    this.live();
    return { bodies: this.world!.bodies.raw.len(), joints: this.world!.impulseJoints.raw.len() };
  }

  // ---------------------------------------------------------------- internals

  private live(): void {
    if (!this.world) throw new Error("physics simulation (RobotSim/RobotBatch) used after dispose()");
  }

  private slot(i: number): Slot {
    this.live();
    const s = this.slots[i];
    if (!s) throw new RangeError(`RobotBatch: robot index ${i} out of range 0..${this.slots.length - 1}`);
    return s;
  }

  private checkLength(a: ArrayLike<number>, what: string): void {
    if (a.length !== this.dof) throw new RangeError(`RobotBatch: ${what} has ${a.length} values, expected ${this.dof} (${this.dofNames.join(", ")})`);
  }

  private build(model: RobotModel, layout: RobotLayout, gravityScale = 1): Slot {
    const R = this.R;
    const world = this.world!;
    const structure = structureOf(layout);
    if (structure !== this.structure)
      throw new UrdfError(`robot "${model.name}"`, undefined, "",
        `its moving joints and links (${structure}) differ from the batch's (${this.structure}); every robot of a batch needs the same structure`);
    const nb = layout.bodies.length;
    const zero = new Float64Array(layout.dofs.length);
    const motions = forwardKinematics(layout, zero, zero);
    const bodies = layout.bodies.map((b, k) => {
      const pose = motions[k]!.pose;
      const desc = (b.fixed ? R.RigidBodyDesc.fixed() : R.RigidBodyDesc.dynamic())
        .setTranslation(pose.pos[0], pose.pos[1], pose.pos[2])
        .setRotation({ x: pose.rot[0], y: pose.rot[1], z: pose.rot[2], w: pose.rot[3] })
        .setCanSleep(false)
        .setGravityScale(gravityScale);
      if (!b.fixed) {
        const [fx, fy, fz, fw] = b.principalFrame;
        desc.setAdditionalMassProperties(
          b.mass,
          { x: b.com[0], y: b.com[1], z: b.com[2] },
          { x: b.principalMoments[0], y: b.principalMoments[1], z: b.principalMoments[2] },
          { x: fx, y: fy, z: fz, w: fw },
        );
      }
      return world.createRigidBody(desc);
    });
    for (const d of layout.dofs) {
      const b1 = bodies[d.parentBody]!;
      const b2 = bodies[d.childBody]!;
      const a1 = { x: d.frame1.pos[0], y: d.frame1.pos[1], z: d.frame1.pos[2] };
      const a2 = { x: d.frame2.pos[0], y: d.frame2.pos[1], z: d.frame2.pos[2] };
      const data = d.type === "prismatic" ? R.JointData.prismatic(a1, a2, { x: 1, y: 0, z: 0 }) : R.JointData.revolute(a1, a2, { x: 1, y: 0, z: 0 });
      const joint = world.createImpulseJoint(data, b1, b2, true) as InstanceType<Rapier["RevoluteImpulseJoint"]>;
      // Exact joint frames (X = axis), so Rapier's joint coordinate is q with its zero at the URDF pose.
      const rot = (r: readonly number[]) => ({ x: r[0]!, y: r[1]!, z: r[2]!, w: r[3]! });
      joint.setLocalFrame1(a1, rot(d.frame1.rot));
      joint.setLocalFrame2(a2, rot(d.frame2.rot));
      if (d.limit) joint.setLimits(d.limit.lower, d.limit.upper);
      if (d.friction > 0) {
        joint.configureMotorModel(R.MotorModel.ForceBased);
        joint.configureMotorVelocity(0, FRICTION_MOTOR_DAMPING);
        joint.setMotorMaxForce(d.friction);
      }
    }
    const com = new Float64Array(3 * nb);
    layout.bodies.forEach((b, k) => com.set(b.com, 3 * k));
    const rot = new Float64Array(4 * nb);
    for (let k = 0; k < nb; k++) rot[4 * k + 3] = 1;
    const slot: Slot = {
      model,
      layout,
      dofs: layout.dofs.map((d) => ({
        prismatic: d.type === "prismatic",
        parent: d.parentBody,
        child: d.childBody,
        damping: d.damping,
        f1: Float64Array.from(d.frame1.rot),
        f2: Float64Array.from(d.frame2.rot),
        axis1: Float64Array.from(rotate(d.frame1.rot, [1, 0, 0])),
        anchor1: Float64Array.from(d.frame1.pos),
      })),
      bodyHandles: bodies.map((b) => b.handle),
      rot,
      ang: new Float64Array(3 * nb),
      pos: new Float64Array(3 * nb),
      lin: new Float64Array(3 * nb),
      com,
      fresh: false,
      q: new Float64Array(this.dof),
      qd: new Float64Array(this.dof),
      qdPrev: new Float64Array(this.dof),
      history: false,
      tau: new Float64Array(this.dof),
      hadTorque: new Uint8Array(nb),
      hadForce: new Uint8Array(nb),
      torque: new Float64Array(3 * nb),
      gravityScale,
    };
    return slot;
  }

  private destroy(s: Slot): void {
    const world = this.world!;
    // Removing a body also removes the joints attached to it.
    for (const h of s.bodyHandles) world.removeRigidBody(world.getRigidBody(h));
  }

  /** Reads body states from Rapier and recomputes q (unwrapped) and qd. */
  private refresh(s: Slot): void {
    const raw = this.raw;
    const f = this.f32;
    const nb = s.bodyHandles.length;
    const { rot, ang, pos, lin } = s;
    for (let b = 1; b < nb; b++) {
      const h = s.bodyHandles[b]!;
      raw.rbRotation(h, f);
      rot[4 * b] = f[0]!;
      rot[4 * b + 1] = f[1]!;
      rot[4 * b + 2] = f[2]!;
      rot[4 * b + 3] = f[3]!;
      raw.rbAngvel(h, f);
      ang[3 * b] = f[0]!;
      ang[3 * b + 1] = f[1]!;
      ang[3 * b + 2] = f[2]!;
      if (this.hasPrismatic) {
        raw.rbTranslation(h, f);
        pos[3 * b] = f[0]!;
        pos[3 * b + 1] = f[1]!;
        pos[3 * b + 2] = f[2]!;
        raw.rbLinvel(h, f);
        lin[3 * b] = f[0]!;
        lin[3 * b + 1] = f[1]!;
        lin[3 * b + 2] = f[2]!;
      }
    }
    const twoPi = 2 * Math.PI;
    const axis = this.axis;
    for (let j = 0; j < this.dof; j++) {
      const d = s.dofs[j]!;
      const p = d.parent, c = d.child;
      const px = rot[4 * p]!, py = rot[4 * p + 1]!, pz = rot[4 * p + 2]!, pw = rot[4 * p + 3]!;
      rotInto(axis, px, py, pz, pw, d.axis1[0]!, d.axis1[1]!, d.axis1[2]!);
      const ax = axis[0]!, ay = axis[1]!, az = axis[2]!;
      if (!d.prismatic) {
        // qa = q_parent * f1 and qb = q_child * f2 are the two joint frames in the
        // world; the joint angle is the rotation of conj(qa) * qb about X.
        const f1 = d.f1, f2 = d.f2;
        const a0 = pw * f1[0]! + px * f1[3]! + py * f1[2]! - pz * f1[1]!;
        const a1 = pw * f1[1]! - px * f1[2]! + py * f1[3]! + pz * f1[0]!;
        const a2 = pw * f1[2]! + px * f1[1]! - py * f1[0]! + pz * f1[3]!;
        const a3 = pw * f1[3]! - px * f1[0]! - py * f1[1]! - pz * f1[2]!;
        const cx = rot[4 * c]!, cy = rot[4 * c + 1]!, cz = rot[4 * c + 2]!, cw = rot[4 * c + 3]!;
        const b0 = cw * f2[0]! + cx * f2[3]! + cy * f2[2]! - cz * f2[1]!;
        const b1 = cw * f2[1]! - cx * f2[2]! + cy * f2[3]! + cz * f2[0]!;
        const b2 = cw * f2[2]! + cx * f2[1]! - cy * f2[0]! + cz * f2[3]!;
        const b3 = cw * f2[3]! - cx * f2[0]! - cy * f2[1]! - cz * f2[2]!;
        const relX = a3 * b0 - a0 * b3 - a1 * b2 + a2 * b1;
        const relW = a3 * b3 + a0 * b0 + a1 * b1 + a2 * b2;
        const angle = 2 * Math.atan2(relX, relW);
        // Unwrap: the turn count that puts the angle nearest the previous reading.
        s.q[j] = angle + twoPi * Math.round((s.q[j]! - angle) / twoPi);
        s.qd[j] = (ang[3 * c]! - ang[3 * p]!) * ax + (ang[3 * c + 1]! - ang[3 * p + 1]!) * ay + (ang[3 * c + 2]! - ang[3 * p + 2]!) * az;
      } else {
        // q: child origin minus the parent's anchor, along the axis. qd: the two
        // bodies' velocities at the child origin, differenced along the axis.
        const ox = pos[3 * c]!, oy = pos[3 * c + 1]!, oz = pos[3 * c + 2]!;
        const point = this.point;
        rotInto(point, px, py, pz, pw, d.anchor1[0]!, d.anchor1[1]!, d.anchor1[2]!);
        s.q[j] = (ox - pos[3 * p]! - point[0]!) * ax + (oy - pos[3 * p + 1]! - point[1]!) * ay + (oz - pos[3 * p + 2]! - point[2]!) * az;
        let rel = this.pointVelocityAlong(s, c, ox, oy, oz, ax, ay, az);
        if (p !== 0) rel -= this.pointVelocityAlong(s, p, ox, oy, oz, ax, ay, az);
        s.qd[j] = rel;
      }
    }
    s.fresh = true;
  }

  /** Velocity of body `b` at world point (x, y, z), projected on (ax, ay, az). */
  private pointVelocityAlong(s: Slot, b: number, x: number, y: number, z: number, ax: number, ay: number, az: number): number {
    const { rot, ang, pos, lin, com } = s;
    const c = this.point;
    rotInto(c, rot[4 * b]!, rot[4 * b + 1]!, rot[4 * b + 2]!, rot[4 * b + 3]!, com[3 * b]!, com[3 * b + 1]!, com[3 * b + 2]!);
    const dx = x - pos[3 * b]! - c[0]!, dy = y - pos[3 * b + 1]! - c[1]!, dz = z - pos[3 * b + 2]! - c[2]!;
    const wx = ang[3 * b]!, wy = ang[3 * b + 1]!, wz = ang[3 * b + 2]!;
    return (lin[3 * b]! + wy * dz - wz * dy) * ax + (lin[3 * b + 1]! + wz * dx - wx * dz) * ay + (lin[3 * b + 2]! + wx * dy - wy * dx) * az;
  }

  /** Writes this step's user torques/forces (held effort minus viscous damping) into Rapier. */
  private applyEfforts(s: Slot): void {
    if (!s.fresh) this.refresh(s);
    const raw = this.raw;
    const nb = s.bodyHandles.length;
    const { torque, rot, hadForce, hadTorque } = s;
    const axis = this.axis;
    torque.fill(0);
    if (this.hasPrismatic)
      for (let b = 1; b < nb; b++)
        if (hadForce[b]) {
          raw.rbResetForces(s.bodyHandles[b]!, false);
          hadForce[b] = 0;
        }
    for (let j = 0; j < this.dof; j++) {
      const d = s.dofs[j]!;
      const effort = s.tau[j]! - d.damping * midVelocity(s, j);
      if (effort === 0) continue;
      const p = d.parent, c = d.child;
      rotInto(axis, rot[4 * p]!, rot[4 * p + 1]!, rot[4 * p + 2]!, rot[4 * p + 3]!, d.axis1[0]!, d.axis1[1]!, d.axis1[2]!);
      const ax = axis[0]!, ay = axis[1]!, az = axis[2]!;
      if (!d.prismatic) {
        torque[3 * c] += effort * ax;
        torque[3 * c + 1] += effort * ay;
        torque[3 * c + 2] += effort * az;
        torque[3 * p] -= effort * ax;
        torque[3 * p + 1] -= effort * ay;
        torque[3 * p + 2] -= effort * az;
      } else {
        // Equal and opposite forces through one point (the child origin), so they add no net moment.
        this.vec2.x = s.pos[3 * c]!;
        this.vec2.y = s.pos[3 * c + 1]!;
        this.vec2.z = s.pos[3 * c + 2]!;
        for (let k = 0; k < 2; k++) {
          const b = k === 0 ? c : p;
          if (b === 0) continue;
          const f = k === 0 ? effort : -effort;
          this.vec.x = f * ax;
          this.vec.y = f * ay;
          this.vec.z = f * az;
          raw.rbAddForceAtPoint(s.bodyHandles[b]!, this.vec, this.vec2, false);
          hadForce[b] = 1;
        }
      }
    }
    for (let b = 1; b < nb; b++) {
      const h = s.bodyHandles[b]!;
      const tx = torque[3 * b]!, ty = torque[3 * b + 1]!, tz = torque[3 * b + 2]!;
      if (tx !== 0 || ty !== 0 || tz !== 0) {
        raw.rbResetTorques(h, false);
        this.vec.x = tx;
        this.vec.y = ty;
        this.vec.z = tz;
        raw.rbAddTorque(h, this.vec, false);
        hadTorque[b] = 1;
      } else if (hadTorque[b]) {
        raw.rbResetTorques(h, false);
        hadTorque[b] = 0;
      }
    }
    s.qdPrev.set(s.qd);
    s.history = true;
  }
}

/** Velocity of DOF `j` predicted for the middle of the coming step: qd + (qd - qd_prev) / 2, or qd with no history. */
function midVelocity(s: Slot, j: number): number {
  const v = s.qd[j]!;
  return s.history ? v + 0.5 * (v - s.qdPrev[j]!) : v;
}

/** Writes (x, y, z) rotated by unit quaternion (qx, qy, qz, qw) into out[0..2]. */
function rotInto(out: Float64Array, qx: number, qy: number, qz: number, qw: number, x: number, y: number, z: number): void {
  // t = 2 q.xyz × v; v' = v + qw t + q.xyz × t
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[0] = x + qw * tx + (qy * tz - qz * ty);
  out[1] = y + qw * ty + (qz * tx - qx * tz);
  out[2] = z + qw * tz + (qx * ty - qy * tx);
}

/** A layout's structural signature: joint names and kinds and which bodies they connect. */
function structureOf(layout: RobotLayout): string {
  return layout.dofs.map((d) => `${d.name}:${d.type === "prismatic" ? "P" : "R"}:${d.parentBody}>${d.childBody}`).join(", ");
}

function checkVec3(v: ArrayLike<number>, what: string): Vec3 {
  if (v.length !== 3 || ![0, 1, 2].every((k) => Number.isFinite(v[k]))) throw new RangeError(`${what} must be three finite numbers, got ${Array.from(v).join(", ")}`);
  return [v[0]!, v[1]!, v[2]!];
}
