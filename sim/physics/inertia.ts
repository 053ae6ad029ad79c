/**
 * Rigid-body inertia tensors: validation, rotation, the parallel-axis shift used
 * to merge links joined by fixed joints, and the principal-axes split Rapier wants
 * (principal moments plus the rotation of the principal frame).
 *
 * Tensors are symmetric 3x3, stored as the six URDF components.
 */
import { quatFromMatrix, quatToMatrix, type Quat, type Vec3 } from "./math.js";

export interface Sym3 {
  ixx: number;
  ixy: number;
  ixz: number;
  iyy: number;
  iyz: number;
  izz: number;
}

export const ZERO_SYM3: Readonly<Sym3> = { ixx: 0, ixy: 0, ixz: 0, iyy: 0, iyz: 0, izz: 0 };

function toMatrix(s: Readonly<Sym3>): number[] {
  return [s.ixx, s.ixy, s.ixz, s.ixy, s.iyy, s.iyz, s.ixz, s.iyz, s.izz];
}

function fromMatrix(m: readonly number[]): Sym3 {
  // Average the off-diagonal pairs so round-off never makes the result asymmetric.
  return {
    ixx: m[0]!,
    ixy: (m[1]! + m[3]!) / 2,
    ixz: (m[2]! + m[6]!) / 2,
    iyy: m[4]!,
    iyz: (m[5]! + m[7]!) / 2,
    izz: m[8]!,
  };
}

export function addSym3(a: Readonly<Sym3>, b: Readonly<Sym3>): Sym3 {
  return {
    ixx: a.ixx + b.ixx,
    ixy: a.ixy + b.ixy,
    ixz: a.ixz + b.ixz,
    iyy: a.iyy + b.iyy,
    iyz: a.iyz + b.iyz,
    izz: a.izz + b.izz,
  };
}

/** R I R^T: the tensor `s`, given in a frame rotated by `q`, expressed in the outer frame. */
export function rotateSym3(s: Readonly<Sym3>, q: Readonly<Quat>): Sym3 {
  const r = quatToMatrix(q);
  const m = toMatrix(s);
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) acc += r[i * 3 + k]! * m[k * 3 + l]! * r[j * 3 + l]!;
      out[i * 3 + j] = acc;
    }
  return fromMatrix(out);
}

/** Inertia of a point mass `m` at offset `d` from the reference point (parallel-axis term). */
export function pointMassSym3(m: number, d: Readonly<Vec3>): Sym3 {
  const [x, y, z] = d;
  return { ixx: m * (y * y + z * z), ixy: -m * x * y, ixz: -m * x * z, iyy: m * (x * x + z * z), iyz: -m * y * z, izz: m * (x * x + y * y) };
}

/** Product I v. */
export function mulSym3(s: Readonly<Sym3>, v: Readonly<Vec3>): Vec3 {
  return [
    s.ixx * v[0] + s.ixy * v[1] + s.ixz * v[2],
    s.ixy * v[0] + s.iyy * v[1] + s.iyz * v[2],
    s.ixz * v[0] + s.iyz * v[1] + s.izz * v[2],
  ];
}

export interface PrincipalInertia {
  /** Principal moments, one per column of the principal frame. */
  moments: Vec3;
  /** Rotation whose X, Y, Z axes are the principal axes of `moments[0..2]`. */
  frame: Quat;
}

/**
 * Eigen-decomposition by cyclic Jacobi rotations (exact enough for 3x3 in a
 * handful of sweeps), returned as moments plus a proper rotation.
 */
export function principalInertia(s: Readonly<Sym3>): PrincipalInertia {
  const a = toMatrix(s);
  const v = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[1]!) + Math.abs(a[2]!) + Math.abs(a[5]!);
    const diag = Math.abs(a[0]!) + Math.abs(a[4]!) + Math.abs(a[8]!);
    if (off <= 1e-18 * diag || off === 0) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[p * 3 + q]!;
      if (apq === 0) continue;
      const app = a[p * 3 + p]!;
      const aqq = a[q * 3 + q]!;
      const theta = (aqq - app) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const sn = t * c;
      // A <- J^T A J with the Givens rotation J in the (p, q) plane.
      for (let k = 0; k < 3; k++) {
        const akp = a[k * 3 + p]!;
        const akq = a[k * 3 + q]!;
        a[k * 3 + p] = c * akp - sn * akq;
        a[k * 3 + q] = sn * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p * 3 + k]!;
        const aqk = a[q * 3 + k]!;
        a[p * 3 + k] = c * apk - sn * aqk;
        a[q * 3 + k] = sn * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p]!;
        const vkq = v[k * 3 + q]!;
        v[k * 3 + p] = c * vkp - sn * vkq;
        v[k * 3 + q] = sn * vkp + c * vkq;
      }
    }
  }
  // Columns of v are the eigenvectors; make the frame right-handed.
  const det =
    v[0]! * (v[4]! * v[8]! - v[5]! * v[7]!) - v[1]! * (v[3]! * v[8]! - v[5]! * v[6]!) + v[2]! * (v[3]! * v[7]! - v[4]! * v[6]!);
  if (det < 0) for (let k = 0; k < 3; k++) v[k * 3 + 2] = -v[k * 3 + 2]!;
  return { moments: [a[0]!, a[4]!, a[8]!], frame: quatFromMatrix(v) };
}

/**
 * Why an inertia tensor is not physical, or undefined if it is: principal
 * moments must be positive and obey the triangle inequality (no moment exceeds
 * the sum of the other two), up to a relative tolerance for round-off.
 */
export function inertiaProblem(s: Readonly<Sym3>): string | undefined {
  const values = [s.ixx, s.ixy, s.ixz, s.iyy, s.iyz, s.izz];
  if (!values.every(Number.isFinite)) return "inertia has a non-finite component";
  const { moments } = principalInertia(s);
  const largest = Math.max(...moments.map(Math.abs));
  if (!(largest > 0)) return "inertia is zero (not positive-definite)";
  const tol = 1e-9 * largest;
  const fmt = (x: number) => Number(x.toPrecision(6));
  if (moments.some((m) => m <= tol))
    return `inertia is not positive-definite (principal moments ${moments.map(fmt).join(", ")})`;
  const [a, b, c] = moments;
  if (a > b + c + tol || b > a + c + tol || c > a + b + tol)
    return `inertia violates the triangle inequality (principal moments ${moments.map(fmt).join(", ")}: one exceeds the sum of the other two)`;
  return undefined;
}
