/** Small robot models built in code for the physics tests. */
import type { JointModel, JointType, LinkModel, RobotModel, Vec3 } from "../../sim/urdf/model.js";

export function link(name: string, mass?: number, com: Vec3 = [0, 0, 0], diag: Vec3 = [1e-3, 1e-3, 1e-3]): LinkModel {
  if (mass === undefined) return { name };
  return {
    name,
    inertial: {
      mass,
      origin: { xyz: com, rpy: [0, 0, 0] },
      inertia: { ixx: diag[0], ixy: 0, ixz: 0, iyy: diag[1], iyz: 0, izz: diag[2] },
    },
  };
}

export function joint(
  name: string,
  type: JointType,
  parent: string,
  child: string,
  opts: { axis?: Vec3; xyz?: Vec3; rpy?: Vec3; limit?: [number, number]; damping?: number; friction?: number } = {},
): JointModel {
  return {
    name,
    type,
    parent,
    child,
    origin: { xyz: opts.xyz ?? [0, 0, 0], rpy: opts.rpy ?? [0, 0, 0] },
    axis: opts.axis ?? [1, 0, 0],
    ...(opts.limit ? { limit: { lower: opts.limit[0], upper: opts.limit[1], effort: 10, velocity: 10 } } : {}),
    dynamics: { damping: opts.damping ?? 0, friction: opts.friction ?? 0 },
  };
}

export function robot(name: string, links: LinkModel[], joints: JointModel[], rootLink = links[0]!.name): RobotModel {
  return { name, links, joints, rootLink };
}

/**
 * One rod on a continuous joint at the origin: mass m, centre of mass `l`
 * along -z from the pivot, axis `axis`, inertia about the centre of mass
 * `icom` on each axis. Its inertia about the pivot for axis x is icom + m l².
 */
export function singleLink(opts: { axis?: Vec3; m?: number; l?: number; icom?: number; damping?: number; friction?: number } = {}): RobotModel {
  const m = opts.m ?? 0.5;
  const l = opts.l ?? 0.1;
  const i = opts.icom ?? 0.002;
  return robot(
    "single",
    [link("base"), link("rod", m, [0, 0, -l], [i, i, i])],
    [joint("hinge", "continuous", "base", "rod", { axis: opts.axis ?? [1, 0, 0], damping: opts.damping ?? 0, friction: opts.friction ?? 0 })],
  );
}

/** A cart on a prismatic x-rail with a pole on a revolute y-axis hinge. */
export function cartPole(): RobotModel {
  return robot(
    "cartpole",
    [link("world"), link("cart", 1.0, [0, 0, 0], [0.01, 0.01, 0.01]), link("pole", 0.2, [0, 0, 0.25], [0.004, 0.004, 1e-5])],
    [
      joint("slider", "prismatic", "world", "cart", { axis: [1, 0, 0], limit: [-2, 2] }),
      joint("hinge", "continuous", "cart", "pole", { axis: [0, 1, 0], xyz: [0, 0, 0.05] }),
    ],
  );
}
