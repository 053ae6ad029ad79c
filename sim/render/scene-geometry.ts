import type { RobotModel } from "../urdf/model.js";
import { DEFAULT_RGBA, rgbToHsv } from "./visual-params.js";
import type { MeshArrays } from "./rasterizer.js";
import { emptySoup, tessellateVisual, type TriangleSoup } from "./tessellate.js";

/**
 * All visible geometry of a robot, tessellated once: one set of typed arrays
 * with a triangle range per visible link (links in model order).
 */
export interface SceneGeometry extends MeshArrays {
  /**
   * Visible links: model link index, corners of the link-frame bounding box (24 floats), and one part per
   * <visual>: its triangle range and its material colour (HSV; the link's first visual gives the nominal of
   * the link's colour parameters, the others keep their offsets from it).
   */
  links: { name: string; linkIndex: number; corners: Float64Array; parts: { start: number; count: number; hsv: [number, number, number] }[] }[];
}

export function soupToArrays(s: TriangleSoup): MeshArrays {
  return { positions: Float32Array.from(s.positions), normals: Float32Array.from(s.normals), uvs: Float32Array.from(s.uvs) };
}

export function buildSceneGeometry(model: RobotModel): SceneGeometry {
  const all = emptySoup();
  const links: SceneGeometry["links"] = [];
  model.links.forEach((link, linkIndex) => {
    if (!link.visuals?.length) return;
    const own = emptySoup();
    const parts = link.visuals.map((v) => {
      const start = all.normals.length / 3 + own.normals.length / 3;
      tessellateVisual(v, own);
      const rgba = v.material?.rgba ?? DEFAULT_RGBA;
      return { start, count: all.normals.length / 3 + own.normals.length / 3 - start, hsv: rgbToHsv(rgba[0], rgba[1], rgba[2]) };
    });
    all.positions.push(...own.positions);
    all.normals.push(...own.normals);
    all.uvs.push(...own.uvs);
    links.push({ name: link.name, linkIndex, corners: boxCorners(own.positions), parts });
  });
  return { ...soupToArrays(all), links };
}

/** The 8 corners of the axis-aligned box around `positions` (for the motion-blur estimate). */
function boxCorners(p: readonly number[]): Float64Array {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    lo[i % 3] = Math.min(lo[i % 3]!, p[i]!);
    hi[i % 3] = Math.max(hi[i % 3]!, p[i]!);
  }
  const out = new Float64Array(24);
  for (let c = 0; c < 8; c++) for (let a = 0; a < 3; a++) out[c * 3 + a] = (c >> a) & 1 ? hi[a]! : lo[a]!;
  return out;
}
