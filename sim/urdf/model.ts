/**
 * The robot description the simulator consumes: a URDF tree reduced to what
 * rigid-body dynamics needs (no visuals, no collisions). Plain data, so domain
 * randomization can copy and perturb it before `RobotSim.rebuild`.
 *
 * Units are SI (m, kg, kg m², rad, N, N m, s). Angles in `rpy` follow URDF:
 * fixed-axis roll about X, then pitch about Y, then yaw about Z.
 */
import type { Vec3 } from "../physics/math.js";

export type { Vec3 };

export interface Pose {
  xyz: Vec3;
  rpy: Vec3;
}

/** Inertia tensor about the centre of mass, in the inertial frame. */
export interface Inertia {
  ixx: number;
  ixy: number;
  ixz: number;
  iyy: number;
  iyz: number;
  izz: number;
}

export interface LinkModel {
  name: string;
  /** Absent for massless links (only allowed where nothing moves them, e.g. the fixed root). */
  inertial?: { mass: number; origin: Pose; inertia: Inertia };
}

export type JointType = "revolute" | "continuous" | "prismatic" | "fixed";

export interface JointModel {
  name: string;
  type: JointType;
  parent: string;
  child: string;
  /** Pose of the child link frame relative to the parent link frame at q = 0. */
  origin: Pose;
  /** Unit axis in the joint (= child link) frame. */
  axis: Vec3;
  /**
   * Position limits (rad or m) and effort/velocity limits. Required by URDF for
   * revolute and prismatic joints; a continuous joint may carry one for its
   * effort and velocity, with lower = -Infinity and upper = Infinity.
   */
  limit?: { lower: number; upper: number; effort: number; velocity: number };
  /** Viscous damping (N m s/rad or N s/m) and Coulomb friction (N m or N). */
  dynamics: { damping: number; friction: number };
}

export interface RobotModel {
  name: string;
  links: LinkModel[];
  joints: JointModel[];
  /** The one link no joint moves; it is fixed to the world. */
  rootLink: string;
}

/** Joints that carry a degree of freedom, in URDF order. */
export function movingJoints(model: RobotModel): JointModel[] {
  return model.joints.filter((j) => j.type !== "fixed");
}

/** A deep copy that randomization may mutate freely. */
export function cloneModel(model: RobotModel): RobotModel {
  return structuredClone(model);
}
