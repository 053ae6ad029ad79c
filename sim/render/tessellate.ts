import { cross, normalize, quatFromRpy, rotate, sub, transformPoint, type Transform, type Vec3 } from "../physics/math.js";
import type { VisualModel } from "../urdf/model.js";

/**
 * URDF visuals -> triangles in the link frame. Every triangle carries its
 * outward normal (for lighting and back-face culling) and a surface
 * coordinate (u, v) in metres per vertex, so procedural textures stick to the
 * surface as the link moves. Winding is counter-clockwise seen from outside.
 */
export interface TriangleSoup {
  /** 9 per triangle: x0 y0 z0 x1 ... in the link frame, m. */
  positions: number[];
  /** 3 per triangle: the unit outward normal in the link frame. */
  normals: number[];
  /** 6 per triangle: u0 v0 u1 v1 u2 v2, m along the surface. */
  uvs: number[];
}

/** Segments around a cylinder or sphere: enough for a smooth silhouette at 96 px, few enough for the frame budget. */
export const ROUND_SEGMENTS = 12;

export function emptySoup(): TriangleSoup {
  return { positions: [], normals: [], uvs: [] };
}

/** Appends the triangles of one <visual> (its origin applied) to `soup`. */
export function tessellateVisual(v: VisualModel, soup: TriangleSoup, segments = ROUND_SEGMENTS): void {
  const origin: Transform = { pos: [...v.origin.xyz], rot: quatFromRpy(v.origin.rpy) };
  const local = emptySoup();
  const g = v.geometry;
  if (g.kind === "box") box(g.size, local);
  else if (g.kind === "cylinder") cylinder(g.radius, g.length, segments, local);
  else if (g.kind === "sphere") sphere(g.radius, segments, local);
  else meshSoup(g.triangles, local);
  appendTransformed(local, origin, soup);
}

function appendTransformed(src: TriangleSoup, t: Transform, dst: TriangleSoup): void {
  for (let i = 0; i < src.positions.length; i += 3) dst.positions.push(...transformPoint(t, [src.positions[i]!, src.positions[i + 1]!, src.positions[i + 2]!]));
  for (let i = 0; i < src.normals.length; i += 3) dst.normals.push(...rotate(t.rot, [src.normals[i]!, src.normals[i + 1]!, src.normals[i + 2]!]));
  dst.uvs.push(...src.uvs);
}

/** Adds triangle a-b-c (counter-clockwise from outside) with its uvs; the normal comes from the winding. */
function tri(s: TriangleSoup, a: Vec3, b: Vec3, c: Vec3, uv: [number, number, number, number, number, number]): void {
  const n = cross(sub(b, a), sub(c, a));
  if (!(Math.hypot(...n) > 0)) return; // degenerate: nothing to draw
  s.positions.push(...a, ...b, ...c);
  s.normals.push(...normalize(n));
  s.uvs.push(...uv);
}

function box(size: Vec3, s: TriangleSoup): void {
  const h = size.map((x) => x / 2) as Vec3;
  // For each axis and sign: the face's two in-plane axes, ordered so (a x b) points outward.
  for (let axis = 0; axis < 3; axis++) {
    for (const sign of [1, -1]) {
      const a = (axis + 1) % 3;
      const b = (axis + 2) % 3;
      const corner = (sa: number, sb: number): Vec3 => {
        const p: Vec3 = [0, 0, 0];
        p[axis] = sign * h[axis]!;
        p[a] = sa * h[a]!;
        p[b] = sb * h[b]! * sign; // flipping b on the negative face keeps the winding outward
        return p;
      };
      const p00 = corner(-1, -1), p10 = corner(1, -1), p11 = corner(1, 1), p01 = corner(-1, 1);
      const uv = (p: Vec3) => [p[a]!, p[b]!] as const;
      tri(s, p00, p10, p11, [...uv(p00), ...uv(p10), ...uv(p11)]);
      tri(s, p00, p11, p01, [...uv(p00), ...uv(p11), ...uv(p01)]);
    }
  }
}

function cylinder(r: number, length: number, n: number, s: TriangleSoup): void {
  const hz = length / 2;
  const ring = (k: number): Vec3 => [r * Math.cos((2 * Math.PI * k) / n), r * Math.sin((2 * Math.PI * k) / n), 0];
  for (let k = 0; k < n; k++) {
    const p = ring(k), q = ring(k + 1);
    const a0: Vec3 = [p[0], p[1], -hz], b0: Vec3 = [q[0], q[1], -hz], a1: Vec3 = [p[0], p[1], hz], b1: Vec3 = [q[0], q[1], hz];
    const ua = (2 * Math.PI * r * k) / n, ub = (2 * Math.PI * r * (k + 1)) / n;
    tri(s, a0, b0, b1, [-hz, ua, -hz, ub, hz, ub]);
    tri(s, a0, b1, a1, [-hz, ua, hz, ub, hz, ua]);
    tri(s, [0, 0, hz], a1, b1, [0, 0, p[0], p[1], q[0], q[1]]);
    tri(s, [0, 0, -hz], b0, a0, [0, 0, q[0], q[1], p[0], p[1]]);
  }
}

function sphere(r: number, n: number, s: TriangleSoup): void {
  const rings = Math.max(3, Math.round(n / 2));
  const at = (i: number, k: number): Vec3 => {
    const th = (Math.PI * i) / rings;
    const ph = (2 * Math.PI * k) / n;
    return [r * Math.sin(th) * Math.cos(ph), r * Math.sin(th) * Math.sin(ph), r * Math.cos(th)];
  };
  for (let i = 0; i < rings; i++) {
    for (let k = 0; k < n; k++) {
      const a = at(i, k), b = at(i + 1, k), c = at(i + 1, k + 1), d = at(i, k + 1);
      const u0 = (Math.PI * r * i) / rings, u1 = (Math.PI * r * (i + 1)) / rings;
      const v0 = (2 * Math.PI * r * k) / n, v1 = (2 * Math.PI * r * (k + 1)) / n;
      tri(s, a, b, c, [u0, v0, u1, v0, u1, v1]);
      tri(s, a, c, d, [u0, v0, u1, v1, u0, v1]);
    }
  }
}

/** Mesh triangles keep their file's winding; uvs are the two coordinates across the normal's dominant axis. */
function meshSoup(t: readonly number[], s: TriangleSoup): void {
  for (let i = 0; i + 8 < t.length; i += 9) {
    const a: Vec3 = [t[i]!, t[i + 1]!, t[i + 2]!], b: Vec3 = [t[i + 3]!, t[i + 4]!, t[i + 5]!], c: Vec3 = [t[i + 6]!, t[i + 7]!, t[i + 8]!];
    const n = cross(sub(b, a), sub(c, a));
    const ax = Math.abs(n[0]) >= Math.abs(n[1]) && Math.abs(n[0]) >= Math.abs(n[2]) ? 0 : Math.abs(n[1]) >= Math.abs(n[2]) ? 1 : 2;
    const ua = (ax + 1) % 3, va = (ax + 2) % 3;
    tri(s, a, b, c, [a[ua]!, a[va]!, b[ua]!, b[va]!, c[ua]!, c[va]!]);
  }
}

/** Applies a transform to a soup in place (used to place distractor shapes). */
export function transformSoup(s: TriangleSoup, t: Transform): TriangleSoup {
  const out = emptySoup();
  appendTransformed(s, t, out);
  return out;
}
