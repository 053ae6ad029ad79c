/**
 * The robot description the simulator consumes: a URDF tree reduced to what
 * rigid-body dynamics needs, plus the visual geometry the renderer draws (no
 * collisions). Plain data, so domain randomization can copy and perturb it
 * before `RobotSim.rebuild`.
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

/** Visual shapes, in the frame given by the visual's origin (URDF conventions: box centred, cylinder along z and centred). */
export type VisualGeometry =
  | { kind: "box"; size: Vec3 }
  | { kind: "cylinder"; radius: number; length: number }
  | { kind: "sphere"; radius: number }
  /** A mesh read from an STL or OBJ file next to the URDF, already scaled: triangle soup [x0 y0 z0 x1 ... ] in m. */
  | { kind: "mesh"; file: string; triangles: number[] };

/** Linear RGBA in [0, 1]; `name` when it came from (or defines) a named <material>. */
export interface VisualMaterial {
  name?: string;
  rgba: [number, number, number, number];
}

export interface VisualModel {
  origin: Pose;
  geometry: VisualGeometry;
  material?: VisualMaterial;
}

export interface LinkModel {
  name: string;
  /** Absent for massless links (only allowed where nothing moves them, e.g. the fixed root). */
  inertial?: { mass: number; origin: Pose; inertia: Inertia };
  /** What the camera sees of this link; absent or empty when the URDF gives no <visual>. */
  visuals?: VisualModel[];
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
