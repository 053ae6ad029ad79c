/**
 * Mesh files for URDF <visual><mesh filename=...>: binary STL, ASCII STL and
 * Wavefront OBJ (vertices and faces; polygons are fanned into triangles).
 * Each reader returns a triangle soup [x0 y0 z0 x1 y1 z1 x2 y2 z2 ...] in the
 * file's units; the URDF reader applies <mesh scale>. Errors are plain
 * messages: the URDF reader adds the file, line and element.
 */
export function parseMeshFile(bytes: Uint8Array, fileName: string): number[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".stl")) return isBinaryStl(bytes) ? parseBinaryStl(bytes) : parseAsciiStl(new TextDecoder().decode(bytes));
  if (lower.endsWith(".obj")) return parseObj(new TextDecoder().decode(bytes));
  throw new Error(`unsupported mesh format "${fileName}" (supported: .stl binary or ASCII, .obj)`);
}

/** A binary STL is an 80-byte header, a uint32 count and 50 bytes per triangle; ASCII STLs start with "solid" but so do some binary headers, so the size decides. */
function isBinaryStl(bytes: Uint8Array): boolean {
  if (bytes.length < 84) return false;
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(80, true);
  return 84 + count * 50 === bytes.length;
}

function parseBinaryStl(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(80, true);
  const out: number[] = new Array(count * 9);
  for (let t = 0; t < count; t++) {
    const base = 84 + t * 50 + 12; // skip the facet normal: the renderer recomputes it from the winding
    for (let k = 0; k < 9; k++) out[t * 9 + k] = view.getFloat32(base + k * 4, true);
  }
  checkFinite(out);
  return out;
}

function parseAsciiStl(text: string): number[] {
  const out: number[] = [];
  const lines = text.split(/\r?\n/);
  let inFacet = 0;
  lines.forEach((raw, i) => {
    const parts = raw.trim().split(/\s+/);
    if (parts[0] === "facet") inFacet = 0;
    if (parts[0] !== "vertex") return;
    const v = parts.slice(1).map(Number);
    if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) throw new Error(`STL line ${i + 1}: "vertex" needs three finite numbers, got "${raw.trim()}"`);
    out.push(...v);
    inFacet++;
    if (inFacet > 3) throw new Error(`STL line ${i + 1}: a facet has more than three vertices`);
  });
  if (out.length === 0 || out.length % 9 !== 0) throw new Error(`STL: expected whole triangles of "vertex x y z" lines, got ${out.length / 3} vertices`);
  return out;
}

function parseObj(text: string): number[] {
  const verts: number[][] = [];
  const out: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const parts = raw.trim().split(/\s+/);
    if (parts[0] === "v") {
      const v = parts.slice(1, 4).map(Number);
      if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) throw new Error(`OBJ line ${i + 1}: "v" needs three finite numbers`);
      verts.push(v);
    } else if (parts[0] === "f") {
      // Face entries are v, v/vt, v//vn or v/vt/vn; negative indices count back from the last vertex.
      const idx = parts.slice(1).map((p) => {
        const n = parseInt(p.split("/")[0]!, 10);
        const k = n < 0 ? verts.length + n : n - 1;
        if (!Number.isInteger(n) || n === 0 || k < 0 || k >= verts.length) throw new Error(`OBJ line ${i + 1}: face index "${p}" does not name a vertex defined above`);
        return k;
      });
      if (idx.length < 3) throw new Error(`OBJ line ${i + 1}: a face needs at least three vertices`);
      for (let j = 1; j + 1 < idx.length; j++) out.push(...verts[idx[0]!]!, ...verts[idx[j]!]!, ...verts[idx[j + 1]!]!);
    }
  });
  if (out.length === 0) throw new Error("OBJ: no faces");
  return out;
}

function checkFinite(a: number[]): void {
  if (a.some((x) => !Number.isFinite(x))) throw new Error("STL: a vertex coordinate is not finite");
}
