import { cross, normalize, quatFromMatrix, quatToMatrix, sub, type Vec3 } from "../physics/math.js";

/**
 * URDF roll-pitch-yaw of a camera's optical frame (x right, y down, z
 * forward, REP 103) at `eye` looking at `target`, with the image's "up" as
 * close to `up` (default +z) as the view allows. For writing camera mounts as
 * data: `rpy: opticalRpyLookingAt([0.5, 0.3, 0.2], [0, 0, 0])`.
 */
export function opticalRpyLookingAt(eye: Readonly<Vec3>, target: Readonly<Vec3>, up: Readonly<Vec3> = [0, 0, 1]): Vec3 {
  const z = normalize(sub(target, eye));
  const x = normalize(cross(z, up)); // right = forward x up
  const y = cross(z, x); // down = forward x right
  // Columns are the optical axes in the parent frame.
  const m = [x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]];
  return rpyFromMatrix(quatToMatrix(quatFromMatrix(m)));
}

/** Inverse of quatFromRpy through the matrix R = Rz(yaw) Ry(pitch) Rx(roll). */
function rpyFromMatrix(r: readonly number[]): Vec3 {
  const pitch = Math.asin(Math.max(-1, Math.min(1, -r[6]!)));
  return [Math.atan2(r[7]!, r[8]!), pitch, Math.atan2(r[3]!, r[0]!)];
}
