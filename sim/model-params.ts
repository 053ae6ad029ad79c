import type { RobotModel, Vec3 } from "./urdf/model.js";
import type { ParamTable } from "./params.js";

/**
 * Applies the "model" entries of a parameter vector to a nominal robot model,
 * giving the rigid-body model of one randomized episode. Pure: the nominal
 * model is not changed. See params.ts for what each entry means.
 */
export function applyModelParams(nominal: RobotModel, table: ParamTable, values: Float64Array): { model: RobotModel; gravity: Vec3 } {
  const get = (name: string, fallback: number) => (table.has(name) ? values[table.indexOf(name)]! : fallback);
  const geometricScale = new Map<string, number>();
  const links = nominal.links.map((link) => {
    if (!link.inertial) return link;
    const inertial = link.inertial;
    const massScale = get(`links.${link.name}.mass`, inertial.mass) / inertial.mass;
    const s = get(`links.${link.name}.scale`, 1);
    geometricScale.set(link.name, s);
    const inertiaScale = massScale * get(`links.${link.name}.inertia`, 1) * s * s;
    const comScale = get(`links.${link.name}.com`, 1) * s;
    const I = inertial.inertia;
    return {
      ...link,
      inertial: {
        mass: inertial.mass * massScale,
        origin: { xyz: scale3(inertial.origin.xyz, comScale), rpy: inertial.origin.rpy },
        inertia: { ixx: I.ixx * inertiaScale, ixy: I.ixy * inertiaScale, ixz: I.ixz * inertiaScale, iyy: I.iyy * inertiaScale, iyz: I.iyz * inertiaScale, izz: I.izz * inertiaScale },
      },
    };
  });
  const joints = nominal.joints.map((j) => {
    const dist = Math.hypot(...j.origin.xyz);
    let xyz = j.origin.xyz;
    if (dist > 0) xyz = scale3(xyz, (get(`joints.${j.name}.origin`, dist) / dist) * (geometricScale.get(j.parent) ?? 1));
    if (j.type === "fixed") return { ...j, origin: { xyz, rpy: j.origin.rpy } };
    return {
      ...j,
      origin: { xyz, rpy: j.origin.rpy },
      dynamics: { damping: get(`joints.${j.name}.damping`, j.dynamics.damping), friction: get(`joints.${j.name}.friction`, j.dynamics.friction) },
    };
  });
  return { model: { ...nominal, links, joints }, gravity: [0, 0, -get("gravity", 9.81)] };
}

function scale3(v: Vec3, s: number): Vec3 {
  return [v[0] * s, v[1] * s, v[2] * s];
}
