/**
 * Small pose and quaternion math for URDF kinematics and the Rapier adapter.
 *
 * Quaternions are [x, y, z, w] (Rapier's component order), unit length, and
 * compose like rotation matrices: quatMul(a, b) rotates by b first, then a.
 * Everything here runs in float64; Rapier stores float32, so values are rounded
 * only when they cross into the physics engine.
 */

export type Vec3 = [number, number, number];
export type Quat = [number, number, number, number];

/** A rigid transform: rotate by `rot`, then translate by `pos`. */
export interface Transform {
  pos: Vec3;
  rot: Quat;
}

export const QUAT_IDENTITY: Readonly<Quat> = [0, 0, 0, 1];

export function identityTransform(): Transform {
  return { pos: [0, 0, 0], rot: [0, 0, 0, 1] };
}

export function add(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function sub(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function scale(a: Readonly<Vec3>, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

export function dot(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Readonly<Vec3>): number {
  return Math.hypot(a[0], a[1], a[2]);
}

export function normalize(a: Readonly<Vec3>): Vec3 {
  const n = norm(a);
  if (!(n > 0)) throw new RangeError("normalize: zero-length vector");
  return [a[0] / n, a[1] / n, a[2] / n];
}

export function quatMul(a: Readonly<Quat>, b: Readonly<Quat>): Quat {
  const [ax, ay, az, aw] = a;
  const [bx, by, bz, bw] = b;
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

export function quatConj(q: Readonly<Quat>): Quat {
  return [-q[0], -q[1], -q[2], q[3]];
}

export function quatNormalize(q: Readonly<Quat>): Quat {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/** Rotation by `angle` (rad, right-hand rule) about the unit vector `axis`. */
export function quatFromAxisAngle(axis: Readonly<Vec3>, angle: number): Quat {
  const s = Math.sin(angle / 2);
  return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
}

/**
 * URDF's rpy: fixed-axis rotations, roll about X, then pitch about Y, then yaw
 * about Z, all about the parent's axes, i.e. R = Rz(yaw) Ry(pitch) Rx(roll).
 */
export function quatFromRpy(rpy: Readonly<Vec3>): Quat {
  const qx = quatFromAxisAngle([1, 0, 0], rpy[0]);
  const qy = quatFromAxisAngle([0, 1, 0], rpy[1]);
  const qz = quatFromAxisAngle([0, 0, 1], rpy[2]);
  return quatMul(qz, quatMul(qy, qx));
}

export function rotate(q: Readonly<Quat>, v: Readonly<Vec3>): Vec3 {
  // v' = v + 2w (u x v) + 2 u x (u x v), u = q.xyz
  const u: Vec3 = [q[0], q[1], q[2]];
  const t = scale(cross(u, v), 2);
  return add(add(v, scale(t, q[3])), cross(u, t));
}

/** Row-major 3x3 rotation matrix of a unit quaternion. */
export function quatToMatrix(q: Readonly<Quat>): number[] {
  const [x, y, z, w] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

/** Unit quaternion of a proper rotation matrix (row-major), Shepperd's method. */
export function quatFromMatrix(m: readonly number[]): Quat {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m as [number, number, number, number, number, number, number, number, number];
  const tr = m00 + m11 + m22;
  let q: Quat;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, s / 4];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [s / 4, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m01 + m10) / s, s / 4, (m12 + m21) / s, (m02 - m20) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m02 + m20) / s, (m12 + m21) / s, s / 4, (m10 - m01) / s];
  }
  return quatNormalize(q);
}

/**
 * The shortest rotation taking the X axis onto the unit vector `axis`. Rapier's
 * revolute and prismatic joints move about/along their frames' X axis, so a
 * joint frame is the URDF joint frame turned by this.
 */
export function quatAlignXTo(axis: Readonly<Vec3>): Quat {
  const a = normalize(axis);
  const c = a[0]; // cos of the angle between X and axis
  if (c < -1 + 1e-12) return [0, 0, 1, 0]; // half-turn about Z maps X to -X
  // q = (X x a, 1 + X.a) normalized; X x a = (0, -a_z, a_y)
  return quatNormalize([0, -a[2], a[1], 1 + c]);
}

export function composeTransforms(a: Readonly<Transform>, b: Readonly<Transform>): Transform {
  return { pos: add(a.pos, rotate(a.rot, b.pos)), rot: quatNormalize(quatMul(a.rot, b.rot)) };
}

export function invertTransform(t: Readonly<Transform>): Transform {
  const r = quatConj(t.rot);
  return { pos: scale(rotate(r, t.pos), -1), rot: r };
}

export function transformPoint(t: Readonly<Transform>, p: Readonly<Vec3>): Vec3 {
  return add(t.pos, rotate(t.rot, p));
}

/** Angle (rad) of quaternion `q` about unit `axis`, in (-pi, pi]: the twist part of a swing-twist split. */
export function twistAngle(q: Readonly<Quat>, axis: Readonly<Vec3>): number {
  const s = q[0] * axis[0] + q[1] * axis[1] + q[2] * axis[2];
  return wrapAngle(2 * Math.atan2(s, q[3]));
}

/** Wraps an angle into (-pi, pi]. */
export function wrapAngle(a: number): number {
  const twoPi = 2 * Math.PI;
  let r = a - twoPi * Math.floor((a + Math.PI) / twoPi);
  if (r <= -Math.PI) r += twoPi;
  return r;
}
