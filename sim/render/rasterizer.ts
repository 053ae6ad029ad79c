/**
 * The hot path of the renderer: triangles of one object, already posed in the
 * camera's optical frame by a 3x4 matrix, culled, clipped against the near
 * plane, projected (pinhole, plumb-bob distortion at the vertices), lit once
 * per triangle (flat shading: ambient + Lambert + Blinn-Phong specular) and
 * filled with a depth test on 1/z and a procedural texture evaluated at the
 * perspective-correct surface coordinate.
 *
 * Pixel centres sit at integer coordinates (ROS camera_info convention): a
 * point projecting to (u, v) covers the pixel whose centre is nearest.
 * Buffers are allocated once; nothing here allocates per frame.
 */

/** Geometry in an object frame: 9 floats of positions, 3 of normal and 6 of surface uv per triangle. */
export interface MeshArrays {
  positions: Float32Array;
  normals: Float32Array;
  uvs: Float32Array;
}

/** Texture family indices (TEXTURE_FAMILIES order). */
export const enum Family {
  Flat = 0,
  Noise = 1,
  Stripes = 2,
  Checker = 3,
  Gradient = 4,
}

/** How a surface looks: base colour r, g, b in [0, 1], texture family, cycles per metre, contrast. */
export interface Surface {
  r: number;
  g: number;
  b: number;
  family: number;
  scale: number;
  contrast: number;
}

export interface Lighting {
  /** Unit direction towards the light, in the optical frame. */
  lx: number;
  ly: number;
  lz: number;
  ambient: number;
  intensity: number;
  specular: number;
}

export interface Projection {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** plumb_bob [k1, k2, t1, t2, k3], or undefined for none. */
  distortion: readonly number[] | undefined;
  near: number;
}

/** Pixel coordinates of optical-frame point (x, y, z > 0) through the pinhole and plumb-bob distortion, into out[at], out[at + 1]. */
export function projectPoint(proj: Projection, x: number, y: number, z: number, out: Float64Array, at: number): void {
  let xn = x / z, yn = y / z;
  const d = proj.distortion;
  if (d) {
    const r2 = xn * xn + yn * yn;
    const radial = 1 + r2 * (d[0]! + r2 * (d[1]! + r2 * d[4]!));
    const xd = xn * radial + 2 * d[2]! * xn * yn + d[3]! * (r2 + 2 * xn * xn);
    yn = yn * radial + d[2]! * (r2 + 2 * yn * yn) + 2 * d[3]! * xn * yn;
    xn = xd;
  }
  out[at] = proj.fx * xn + proj.cx;
  out[at + 1] = proj.fy * yn + proj.cy;
}

/** Darkening in [1 - contrast, 1] of a procedural texture at surface coordinate (u, v) already multiplied by the scale. */
export function textureFactor(family: number, u: number, v: number, contrast: number): number {
  switch (family) {
    case Family.Stripes:
      return u - Math.floor(u) < 0.5 ? 1 : 1 - contrast;
    case Family.Checker:
      return ((Math.floor(u) + Math.floor(v)) & 1) === 0 ? 1 : 1 - contrast;
    case Family.Gradient:
      return 1 - contrast * (u - Math.floor(u));
    case Family.Noise: {
      // Cell noise: a hash of the integer cell, stable under motion because (u, v) is on the surface.
      let h = Math.imul(Math.floor(u) | 0, 0x27d4eb2d) ^ Math.imul(Math.floor(v) | 0, 0x165667b1);
      h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
      h ^= h >>> 13;
      return 1 - contrast * ((h >>> 0) / 4294967296);
    }
    default:
      return 1;
  }
}

export class Rasterizer {
  readonly color: Float32Array;
  /** 1/z of the nearest surface drawn so far; 0 where nothing is (infinitely far). */
  readonly depth: Float32Array;
  /** Clip scratch: up to 4 vertices of x, y, z, u, v in the optical frame. */
  private readonly poly = new Float64Array(20);
  private readonly tri = new Float64Array(15);
  /** Projected vertices: screen x, y, 1/z, u/z, v/z. */
  private readonly scr = new Float64Array(20);

  /** Pixel rectangle (inclusive) every fill since `resetDirty()` stayed inside; empty when minX > maxX. */
  dirtyMinX = 0;
  dirtyMinY = 0;
  dirtyMaxX = -1;
  dirtyMaxY = -1;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.color = new Float32Array(width * height * 3);
    this.depth = new Float32Array(width * height);
    this.resetDirty();
  }

  resetDirty(): void {
    this.dirtyMinX = this.width;
    this.dirtyMinY = this.height;
    this.dirtyMaxX = -1;
    this.dirtyMaxY = -1;
  }

  /**
   * Draws triangles [start, start + count) of `mesh` posed by `m` (row-major
   * 3x4: optical frame <- object frame), shaded with `surf` and `light`.
   */
  drawMesh(mesh: MeshArrays, start: number, count: number, m: Float64Array, surf: Surface, light: Lighting, proj: Projection): void {
    const P = mesh.positions, N = mesh.normals, UV = mesh.uvs;
    const tri = this.tri;
    for (let t = start; t < start + count; t++) {
      // Normal into the optical frame; cull faces turned away from the camera.
      const nx0 = N[t * 3]!, ny0 = N[t * 3 + 1]!, nz0 = N[t * 3 + 2]!;
      let nx = m[0]! * nx0 + m[1]! * ny0 + m[2]! * nz0;
      let ny = m[4]! * nx0 + m[5]! * ny0 + m[6]! * nz0;
      let nz = m[8]! * nx0 + m[9]! * ny0 + m[10]! * nz0;
      // A uniformly scaled object (distractors) scales its normals too.
      const nl = 1 / Math.sqrt(nx * nx + ny * ny + nz * nz);
      nx *= nl; ny *= nl; nz *= nl;
      let zmin = Infinity;
      for (let k = 0; k < 3; k++) {
        const px = P[t * 9 + k * 3]!, py = P[t * 9 + k * 3 + 1]!, pz = P[t * 9 + k * 3 + 2]!;
        const o = k * 5;
        tri[o] = m[0]! * px + m[1]! * py + m[2]! * pz + m[3]!;
        tri[o + 1] = m[4]! * px + m[5]! * py + m[6]! * pz + m[7]!;
        tri[o + 2] = m[8]! * px + m[9]! * py + m[10]! * pz + m[11]!;
        tri[o + 3] = UV[t * 6 + k * 2]! * surf.scale;
        tri[o + 4] = UV[t * 6 + k * 2 + 1]! * surf.scale;
        if (tri[o + 2]! < zmin) zmin = tri[o + 2]!;
      }
      if (nx * tri[0]! + ny * tri[1]! + nz * tri[2]! >= 0) continue;
      // Flat shading, once per triangle; the view direction is the first vertex's.
      const lambert = nx * light.lx + ny * light.ly + nz * light.lz;
      const diffuse = light.ambient + (lambert > 0 ? light.intensity * lambert : 0);
      let spec = 0;
      if (light.specular > 0 && lambert > 0) {
        const vl = Math.hypot(tri[0]!, tri[1]!, tri[2]!);
        let hx = light.lx - tri[0]! / vl, hy = light.ly - tri[1]! / vl, hz = light.lz - tri[2]! / vl;
        const hl = Math.hypot(hx, hy, hz);
        hx /= hl; hy /= hl; hz /= hl;
        const c = nx * hx + ny * hy + nz * hz;
        if (c > 0) {
          const c2 = c * c, c4 = c2 * c2, c8 = c4 * c4;
          spec = light.specular * c8 * c8;
        }
      }
      if (zmin >= proj.near) {
        this.fillPolygon(tri, 3, surf, diffuse, spec, proj);
      } else {
        const n = this.clipNear(proj.near);
        if (n >= 3) this.fillPolygon(this.poly, n, surf, diffuse, spec, proj);
      }
    }
  }

  /** Sutherland-Hodgman against z >= near: the triangle in `tri` becomes a polygon of 0, 3 or 4 vertices in `poly`. */
  private clipNear(near: number): number {
    const tri = this.tri, poly = this.poly;
    let n = 0;
    for (let k = 0; k < 3; k++) {
      const a = k * 5, b = ((k + 1) % 3) * 5;
      const za = tri[a + 2]!, zb = tri[b + 2]!;
      const ina = za >= near, inb = zb >= near;
      if (ina) {
        for (let c = 0; c < 5; c++) poly[n * 5 + c] = tri[a + c]!;
        n++;
      }
      if (ina !== inb) {
        const s = (near - za) / (zb - za);
        for (let c = 0; c < 5; c++) poly[n * 5 + c] = tri[a + c]! + s * (tri[b + c]! - tri[a + c]!);
        poly[n * 5 + 2] = near;
        n++;
      }
    }
    return n;
  }

  /** Projects a convex polygon (n <= 4 vertices of x, y, z, u, v) and fills it as a fan. */
  private fillPolygon(src: Float64Array, n: number, surf: Surface, diffuse: number, spec: number, proj: Projection): void {
    const scr = this.scr;
    for (let k = 0; k < n; k++) {
      const iz = 1 / src[k * 5 + 2]!;
      projectPoint(proj, src[k * 5]!, src[k * 5 + 1]!, src[k * 5 + 2]!, scr, k * 5);
      scr[k * 5 + 2] = iz;
      scr[k * 5 + 3] = src[k * 5 + 3]! * iz;
      scr[k * 5 + 4] = src[k * 5 + 4]! * iz;
    }
    for (let k = 1; k + 1 < n; k++) this.fillTriangle(0, k * 5, (k + 1) * 5, surf, diffuse, spec);
  }

  private fillTriangle(i0: number, i1: number, i2: number, surf: Surface, diffuse: number, spec: number): void {
    const s = this.scr;
    const x0 = s[i0]!, y0 = s[i0 + 1]!;
    let x1 = s[i1]!, y1 = s[i1 + 1]!, x2 = s[i2]!, y2 = s[i2 + 1]!;
    let area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (area === 0 || !Number.isFinite(area)) return;
    let j1 = i1, j2 = i2;
    if (area < 0) {
      // Make the winding positive so all three edge functions are >= 0 inside.
      j1 = i2; j2 = i1;
      [x1, y1, x2, y2] = [x2, y2, x1, y1];
      area = -area;
    }
    const W = this.width, H = this.height;
    const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2)));
    const maxX = Math.min(W - 1, Math.floor(Math.max(x0, x1, x2)));
    const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2)));
    const maxY = Math.min(H - 1, Math.floor(Math.max(y0, y1, y2)));
    if (minX > maxX || minY > maxY) return;
    if (minX < this.dirtyMinX) this.dirtyMinX = minX;
    if (maxX > this.dirtyMaxX) this.dirtyMaxX = maxX;
    if (minY < this.dirtyMinY) this.dirtyMinY = minY;
    if (maxY > this.dirtyMaxY) this.dirtyMaxY = maxY;
    const inv = 1 / area;
    const w0 = s[i0 + 2]!, w1 = s[j1 + 2]!, w2 = s[j2 + 2]!;
    const u0 = s[i0 + 3]!, u1 = s[j1 + 3]!, u2 = s[j2 + 3]!;
    const v0 = s[i0 + 4]!, v1 = s[j1 + 4]!, v2 = s[j2 + 4]!;
    // Edge functions (barycentric weights times area) and their steps along x and y.
    const a0 = (y1 - y2) * inv, b0 = (x2 - x1) * inv;
    const a1 = (y2 - y0) * inv, b1 = (x0 - x2) * inv;
    const a2 = (y0 - y1) * inv, b2 = (x1 - x0) * inv;
    const e0Row = ((x2 - x1) * (minY - y1) - (y2 - y1) * (minX - x1)) * inv;
    const e1Row = ((x0 - x2) * (minY - y2) - (y0 - y2) * (minX - x2)) * inv;
    const e2Row = ((x1 - x0) * (minY - y0) - (y1 - y0) * (minX - x0)) * inv;
    const cr = surf.r * diffuse, cg = surf.g * diffuse, cb = surf.b * diffuse;
    const family = surf.family, contrast = surf.contrast;
    const depth = this.depth, color = this.color;
    const eps = -1e-9;
    for (let y = minY; y <= maxY; y++) {
      const dy = y - minY;
      let e0 = e0Row + b0 * dy, e1 = e1Row + b1 * dy, e2 = e2Row + b2 * dy;
      let idx = y * W + minX;
      for (let x = minX; x <= maxX; x++, idx++, e0 += a0, e1 += a1, e2 += a2) {
        if (e0 < eps || e1 < eps || e2 < eps) continue;
        const w = e0 * w0 + e1 * w1 + e2 * w2;
        if (w <= depth[idx]!) continue;
        depth[idx] = w;
        let f = 1;
        if (family !== Family.Flat) {
          const iw = 1 / w;
          f = textureFactor(family, (e0 * u0 + e1 * u1 + e2 * u2) * iw, (e0 * v0 + e1 * v1 + e2 * v2) * iw, contrast);
        }
        const o = idx * 3;
        color[o] = cr * f + spec;
        color[o + 1] = cg * f + spec;
        color[o + 2] = cb * f + spec;
      }
    }
  }
}
