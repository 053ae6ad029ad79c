import { cameraConfigSchema, type CameraConfig } from "../../../sim/sensors/camera-config.js";
import { opticalRpyLookingAt } from "../../../sim/sensors/look-at.js";
import { parseUrdf } from "../../../sim/urdf/parse.js";
import type { RobotModel } from "../../../sim/urdf/model.js";
import { buildVisualParamTable } from "../../../sim/render/visual-params.js";
import { Renderer } from "../../../sim/render/renderer.js";
import type { ParamTable } from "../../../sim/params.js";

/** A 64 x 48 camera at (-1, 0, 0) looking along +x: image x is world -y, image y is world -z. */
export const TEST_INTRINSICS = { width: 64, height: 48, fx: 50, fy: 50, cx: 30.2, cy: 20.7, distortionModel: "none" as const, distortion: [] };

export function testCamera(exposure = 0): CameraConfig {
  return cameraConfigSchema.parse({ name: "cam", mount: { parent: "world", xyz: [-1, 0, 0], rpy: opticalRpyLookingAt([-1, 0, 0], [0, 0, 0]) }, intrinsics: TEST_INTRINSICS, exposure }, "camera");
}

/** A URDF whose root link "base" holds `visuals`; `more` adds joints and links. */
export function robotWith(visuals: string, more = ""): RobotModel {
  return parseUrdf(`<robot name="t"><link name="base">${visuals}</link>${more}</robot>`);
}

/**
 * A renderer with flat, unlit colours (ambient 1, no diffuse or specular) on
 * a black backdrop, so a pixel is exactly its surface's colour x 255.
 */
export function flatRenderer(model: RobotModel, camera = testCamera()): { renderer: Renderer; table: ParamTable; values: Float64Array; render: (q?: number[], qd?: number[]) => Uint8Array } {
  const table = buildVisualParamTable(model, [camera]);
  const values = table.nominal();
  const set = (name: string, v: number) => (values[table.indexOf(name)] = v);
  set("visual.light.ambient", 1);
  set("visual.light.intensity", 0);
  set("visual.light.specular", 0);
  set("visual.background.value", 0);
  const renderer = new Renderer(model, table, { camera });
  const render = (q: number[] = [], qd?: number[]) => {
    const out = new Uint8Array(renderer.frameBytes);
    renderer.render(q, qd, values, { scene: 1, frame: 1 }, out);
    return out;
  };
  return { renderer, table, values, render };
}

/** Bounding box (inclusive pixel indices) of the pixels that are not black. */
export function litBox(img: Uint8Array, w: number, h: number): { left: number; right: number; top: number; bottom: number; count: number } {
  let left = w, right = -1, top = h, bottom = -1, count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      if (img[o]! + img[o + 1]! + img[o + 2]! === 0) continue;
      count++;
      left = Math.min(left, x); right = Math.max(right, x);
      top = Math.min(top, y); bottom = Math.max(bottom, y);
    }
  }
  return { left, right, top, bottom, count };
}
