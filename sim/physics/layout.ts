/**
 * Compiles a RobotModel into what the physics engine simulates: rigid bodies
 * and the joints between them. Links joined by fixed joints are merged into one
 * body (their masses, centres of mass and inertias combined), so a fixed joint
 * costs nothing and is perfectly rigid. The root link's body is fixed to the
 * world. Each moving joint becomes a DOF with its frames expressed in the two
 * bodies' frames, X along the joint axis (Rapier's convention).
 *
 * Pure: no Rapier here, so the kinematics can be tested on their own.
 */
import type { RobotModel } from "../urdf/model.js";
import { validateModel } from "../urdf/validate.js";
import { UrdfError } from "../urdf/errors.js";
import { addSym3, pointMassSym3, principalInertia, rotateSym3, ZERO_SYM3, type Sym3 } from "./inertia.js";
import {
  add,
  composeTransforms,
  cross,
  identityTransform,
  invertTransform,
  quatAlignXTo,
  quatFromRpy,
  quatMul,
  rotate,
  scale,
  sub,
  transformPoint,
  type Quat,
  type Transform,
  type Vec3,
} from "./math.js";

export interface BodyLayout {
  /** Name of the link whose frame is this body's frame. */
  name: string;
  /** All links rigidly merged into this body, first = `name`. */
  links: string[];
  /** Pose of each merged link's frame in the body frame. */
  linkPoses: Map<string, Transform>;
  /** True for the world-fixed root body. */
  fixed: boolean;
  /** Index of the DOF that moves this body (-1 for the root). */
  dof: number;
  mass: number;
  /** Centre of mass in the body frame. */
  com: Vec3;
  /** Inertia about the centre of mass, in body-frame axes. */
  inertia: Sym3;
  principalMoments: Vec3;
  /** Rotation (body frame) of the principal axes. */
  principalFrame: Quat;
}

export type DofType = "revolute" | "continuous" | "prismatic";

export interface DofLayout {
  name: string;
  type: DofType;
  parentBody: number;
  childBody: number;
  /** Joint frame in the parent body frame at q = 0 (X = joint axis). */
  frame1: Transform;
  /** Joint frame in the child body frame (X = joint axis). */
  frame2: Transform;
  /** Position limits, or undefined when the joint is unlimited. */
  limit?: { lower: number; upper: number };
  damping: number;
  friction: number;
}

export interface RobotLayout {
  name: string;
  /** Parents before children; body 0 is the fixed root. */
  bodies: BodyLayout[];
  /** Moving joints in URDF order. */
  dofs: DofLayout[];
}

/** Validates `model` and compiles it. */
export function compileLayout(model: RobotModel): RobotLayout {
  validateModel(model);
  const source = `robot "${model.name}"`;
  const linkByName = new Map(model.links.map((l) => [l.name, l]));
  const jointsFrom = new Map<string, typeof model.joints>();
  for (const j of model.joints) jointsFrom.set(j.parent, [...(jointsFrom.get(j.parent) ?? []), j]);

  const bodies: BodyLayout[] = [];
  const dofIndex = new Map(model.joints.filter((j) => j.type !== "fixed").map((j, i) => [j.name, i]));
  // Filled by index so DOFs keep URDF order although bodies are visited depth-first.
  const dofs: DofLayout[] = new Array(dofIndex.size);

  // Depth-first from the root: each body collects its fixed-joint subtree, and
  // each moving joint leaving that subtree starts a child body.
  const startBody = (link: string, dof: number): number => {
    const index = bodies.length;
    const body: BodyLayout = {
      name: link,
      links: [],
      linkPoses: new Map(),
      fixed: dof < 0,
      dof,
      mass: 0,
      com: [0, 0, 0],
      inertia: { ...ZERO_SYM3 },
      principalMoments: [0, 0, 0],
      principalFrame: [0, 0, 0, 1],
    };
    bodies.push(body);
    const outgoing: { joint: (typeof model.joints)[number]; pose: Transform }[] = [];
    const visit = (name: string, pose: Transform) => {
      body.links.push(name);
      body.linkPoses.set(name, pose);
      for (const j of jointsFrom.get(name) ?? []) {
        const jointPose = composeTransforms(pose, { pos: [...j.origin.xyz], rot: quatFromRpy(j.origin.rpy) });
        if (j.type === "fixed") visit(j.child, jointPose);
        else outgoing.push({ joint: j, pose: jointPose });
      }
    };
    visit(link, identityTransform());
    computeMass(body);
    if (!body.fixed && !(body.mass > 0)) {
      const moved = model.joints.find((j) => j.child === link)!;
      throw new UrdfError(source, undefined, `link "${link}"`,
        `is moved by joint "${moved.name}" but has no mass (no <inertial> on it or on links fixed to it); give it a mass and inertia`);
    }
    for (const { joint, pose } of outgoing) {
      const align = quatAlignXTo(joint.axis);
      const child = startBody(joint.child, dofIndex.get(joint.name)!);
      const isLimited = (joint.type === "revolute" || joint.type === "prismatic") && joint.limit !== undefined;
      dofs[dofIndex.get(joint.name)!] = {
        name: joint.name,
        type: joint.type as DofType,
        parentBody: index,
        childBody: child,
        frame1: { pos: pose.pos, rot: quatMul(pose.rot, align) },
        frame2: { pos: [0, 0, 0], rot: align },
        ...(isLimited ? { limit: { lower: joint.limit!.lower, upper: joint.limit!.upper } } : {}),
        damping: joint.dynamics.damping,
        friction: joint.dynamics.friction,
      };
    }
    return index;
  };

  function computeMass(body: BodyLayout): void {
    let mass = 0;
    let moment: Vec3 = [0, 0, 0];
    const parts: { m: number; c: Vec3; inertia: Sym3 }[] = [];
    for (const name of body.links) {
      const inertial = linkByName.get(name)!.inertial;
      if (!inertial) continue;
      const linkPose = body.linkPoses.get(name)!;
      const frame = composeTransforms(linkPose, { pos: [...inertial.origin.xyz], rot: quatFromRpy(inertial.origin.rpy) });
      const c = frame.pos;
      parts.push({ m: inertial.mass, c, inertia: rotateSym3(inertial.inertia, frame.rot) });
      mass += inertial.mass;
      moment = [moment[0] + inertial.mass * c[0], moment[1] + inertial.mass * c[1], moment[2] + inertial.mass * c[2]];
    }
    body.mass = mass;
    if (mass === 0) return;
    const com = scale(moment, 1 / mass);
    let inertia: Sym3 = { ...ZERO_SYM3 };
    for (const p of parts) inertia = addSym3(inertia, addSym3(p.inertia, pointMassSym3(p.m, sub(p.c, com))));
    const principal = principalInertia(inertia);
    body.com = com;
    body.inertia = inertia;
    body.principalMoments = principal.moments;
    body.principalFrame = principal.frame;
  }

  startBody(model.rootLink, -1);
  return { name: model.name, bodies, dofs };
}

/** A body's pose and velocity in world coordinates (linear velocity of the body-frame origin). */
export interface BodyMotion {
  pose: Transform;
  /** Angular velocity, world frame. */
  omega: Vec3;
  /** Velocity of the body-frame origin, world frame. */
  vOrigin: Vec3;
}

/**
 * Forward kinematics with velocities: each body's pose and twist for joint
 * positions `q` and velocities `qd`, the root at the world origin and at rest.
 */
export function forwardKinematics(layout: RobotLayout, q: ArrayLike<number>, qd: ArrayLike<number>): BodyMotion[] {
  const out: BodyMotion[] = new Array(layout.bodies.length);
  out[0] = { pose: identityTransform(), omega: [0, 0, 0], vOrigin: [0, 0, 0] };
  for (let b = 1; b < layout.bodies.length; b++) {
    const dofIdx = layout.bodies[b]!.dof;
    const dof = layout.dofs[dofIdx]!;
    const parent = out[dof.parentBody]!;
    const joint = composeTransforms(parent.pose, dof.frame1);
    const qi = q[dofIdx]!;
    const qdi = qd[dofIdx]!;
    const axis = rotate(joint.rot, [1, 0, 0]);
    const motion: Transform =
      dof.type === "prismatic" ? { pos: [qi, 0, 0], rot: [0, 0, 0, 1] } : { pos: [0, 0, 0], rot: [Math.sin(qi / 2), 0, 0, Math.cos(qi / 2)] };
    const pose = composeTransforms(composeTransforms(joint, motion), invertTransform(dof.frame2));
    // Velocity of the parent body at the child's origin, plus the joint's own contribution.
    const r = sub(pose.pos, parent.pose.pos);
    let vOrigin = add(parent.vOrigin, cross(parent.omega, r));
    let omega = parent.omega;
    if (dof.type === "prismatic") vOrigin = add(vOrigin, scale(axis, qdi));
    else {
      omega = add(omega, scale(axis, qdi));
      vOrigin = add(vOrigin, cross(scale(axis, qdi), sub(pose.pos, joint.pos)));
    }
    out[b] = { pose, omega, vOrigin };
  }
  return out;
}

/** World position of a point given in a body's frame. */
export function bodyPoint(motion: BodyMotion, local: Readonly<Vec3>): Vec3 {
  return transformPoint(motion.pose, local);
}
