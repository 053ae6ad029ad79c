import type { CameraConfig } from "../sensors/camera-config.js";
import { ParamTable, type ParamEntry } from "../params.js";
import { isVisualTarget } from "../randomization/spec.js";
import type { RobotModel } from "../urdf/model.js";

/** Colour of a visual without a material. */
export const DEFAULT_RGBA: readonly [number, number, number, number] = [0.6, 0.6, 0.6, 1];

/**
 * The appearance parameters the renderer reads, as one named table like the
 * dynamics one (params.ts), so visual randomization is the same data:
 *
 *   visual.links.<link>.hue|saturation|value        HSV of the link's (first visual's) material (deg, 0..1, 0..1);
 *                                                   the link's other visuals keep their HSV offsets from it
 *   visual.links.<link>.texture                     categorical: flat, noise, stripes, checker, gradient
 *   visual.links.<link>.textureScale                cycles per metre along the surface
 *   visual.links.<link>.textureContrast             0 = invisible texture, 1 = black second colour
 *   visual.background.<same six>                    the backdrop (texture in cycles per image width)
 *   visual.distractors.count|size                   shapes scattered around the robot (count, m)
 *   visual.light.azimuth|elevation                  direction the light comes from, world frame, rad
 *   visual.light.intensity|ambient|specular         diffuse, ambient and specular gains
 *   camera.<name>.x|y|z                             mount offset in the parent frame, m
 *   camera.<name>.roll|pitch|yaw                    rotation offset about the optical axes x, y, z, rad
 *   camera.<name>.fov                               focal-length scale (1 = the configured intrinsics; < 1 widens)
 *   camera.<name>.exposure                          s (motion blur integrates over it)
 *   camera.<name>.noise                             sensor noise std, fraction of full scale
 *   camera.<name>.gamma|contrast|brightness         tone curve: ((v^(1/gamma)) - 0.5) * contrast + 0.5 + brightness
 *   camera.<name>.channelOrder                      categorical: rgb, rbg, grb, gbr, brg, bgr
 *   camera.<name>.dropRate                          probability a frame is dropped (the previous one repeats)
 *   camera.<name>.delay                             frames of extra delay
 *
 * Categorical entries hold the index of the option in `ParamEntry.choices`.
 * Every entry is "runtime": it may be drawn per episode or per frame.
 */
export const TEXTURE_FAMILIES = ["flat", "noise", "stripes", "checker", "gradient"] as const;
export type TextureFamily = (typeof TEXTURE_FAMILIES)[number];
export const CHANNEL_ORDERS = ["rgb", "rbg", "grb", "gbr", "brg", "bgr"] as const;

export const SURFACE_PARAMS = ["hue", "saturation", "value", "texture", "textureScale", "textureContrast"] as const;
export const LIGHT_PARAMS = ["azimuth", "elevation", "intensity", "ambient", "specular"] as const;
export const CAMERA_PARAMS = ["x", "y", "z", "roll", "pitch", "yaw", "fov", "exposure", "noise", "gamma", "contrast", "brightness", "channelOrder", "dropRate", "delay"] as const;

/** The backdrop of the nominal scene: a pale grey-blue wall. */
const BACKGROUND_HSV: [number, number, number] = [210, 0.08, 0.8];
const NOMINAL_LIGHT = { azimuth: 0.9, elevation: 0.9, intensity: 0.75, ambient: 0.35, specular: 0.15 };

export { isVisualTarget };

/** Links that have something to draw, in model order. */
export function visibleLinks(model: RobotModel): string[] {
  return model.links.filter((l) => (l.visuals?.length ?? 0) > 0).map((l) => l.name);
}

export function buildVisualParamTable(model: RobotModel, cameras: readonly CameraConfig[]): ParamTable {
  const e: ParamEntry[] = [];
  const rt = (name: string, nominal: number, unit: string, choices?: readonly string[]): ParamEntry => ({ name, nominal, unit, stage: "runtime", ...(choices ? { choices } : {}) });
  const surface = (prefix: string, hsv: [number, number, number], scaleUnit: string, textureScale: number) => {
    e.push(rt(`${prefix}.hue`, hsv[0], "deg"), rt(`${prefix}.saturation`, hsv[1], ""), rt(`${prefix}.value`, hsv[2], ""));
    e.push(rt(`${prefix}.texture`, 0, "choice", TEXTURE_FAMILIES), rt(`${prefix}.textureScale`, textureScale, scaleUnit), rt(`${prefix}.textureContrast`, 0.5, ""));
  };
  for (const link of model.links) {
    const v = link.visuals?.[0];
    if (!v) continue;
    const rgba = v.material?.rgba ?? DEFAULT_RGBA;
    surface(`visual.links.${link.name}`, rgbToHsv(rgba[0], rgba[1], rgba[2]), "1/m", 60);
  }
  surface("visual.background", BACKGROUND_HSV, "1/image", 8);
  e.push(rt("visual.distractors.count", 0, "count"), rt("visual.distractors.size", 0.03, "m"));
  e.push(rt("visual.light.azimuth", NOMINAL_LIGHT.azimuth, "rad"), rt("visual.light.elevation", NOMINAL_LIGHT.elevation, "rad"));
  e.push(rt("visual.light.intensity", NOMINAL_LIGHT.intensity, ""), rt("visual.light.ambient", NOMINAL_LIGHT.ambient, ""), rt("visual.light.specular", NOMINAL_LIGHT.specular, ""));
  for (const c of cameras) {
    const p = `camera.${c.name}`;
    for (const k of ["x", "y", "z"]) e.push(rt(`${p}.${k}`, 0, "m"));
    for (const k of ["roll", "pitch", "yaw"]) e.push(rt(`${p}.${k}`, 0, "rad"));
    e.push(rt(`${p}.fov`, 1, "scale"), rt(`${p}.exposure`, c.exposure, "s"), rt(`${p}.noise`, 0, "full scale"));
    e.push(rt(`${p}.gamma`, 1, ""), rt(`${p}.contrast`, 1, ""), rt(`${p}.brightness`, 0, "full scale"));
    e.push(rt(`${p}.channelOrder`, 0, "choice", CHANNEL_ORDERS), rt(`${p}.dropRate`, 0, "probability"), rt(`${p}.delay`, 0, "frames"));
  }
  return new ParamTable(e);
}

/** Hue in degrees [0, 360), saturation and value in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d + 6) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  return [h, max > 0 ? d / max : 0, max];
}

/** Writes r, g, b in [0, 1] of (hue deg, any real; saturation and value clamped to [0, 1]) into out[at..at+2]. */
export function hsvToRgb(h: number, s: number, v: number, out: Float32Array | Float64Array | number[], at = 0): void {
  s = s < 0 ? 0 : s > 1 ? 1 : s;
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const sector = Math.floor(hh);
  // No array temporaries: this runs for every surface of every frame.
  let r = c, g = 0, b = x;
  if (sector === 0) { r = c; g = x; b = 0; }
  else if (sector === 1) { r = x; g = c; b = 0; }
  else if (sector === 2) { r = 0; g = c; b = x; }
  else if (sector === 3) { r = 0; g = x; b = c; }
  else if (sector === 4) { r = x; g = 0; b = c; }
  out[at] = r + m;
  out[at + 1] = g + m;
  out[at + 2] = b + m;
}
