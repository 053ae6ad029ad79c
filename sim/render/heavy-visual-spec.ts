import { CHANNEL_ORDERS, TEXTURE_FAMILIES } from "./visual-params.js";

/** An absolute uniform randomization entry (visual specs are lists of these). */
export function uniformEntry(target: string, low: number, high: number, when: "episode" | "step" = "episode") {
  return { target, distribution: "uniform" as const, mode: "absolute" as const, low, high, when };
}

/**
 * Heavy visual randomization in the manner of Tobin et al. 2017: any colour
 * and texture on every link and on the backdrop, distractor shapes, light
 * from anywhere above, camera pose and focal jitter, exposure, sensor noise,
 * tone curve, channel order, dropped and delayed frames. Drawn per episode,
 * except brightness flicker and sensor noise, drawn per frame. A task's
 * default randomization appends this to its dynamics entries.
 */
export function heavyVisualRandomization(links: readonly string[], camera: string) {
  const u = uniformEntry;
  const choice = (target: string, choices: readonly string[]) => ({ target, distribution: "choice" as const, mode: "absolute" as const, choices: [...choices] });
  const surface = (prefix: string, scale: [number, number]) => [
    u(`${prefix}.hue`, 0, 360),
    u(`${prefix}.saturation`, 0, 1),
    u(`${prefix}.value`, 0.12, 1),
    choice(`${prefix}.texture`, TEXTURE_FAMILIES),
    { target: `${prefix}.textureScale`, distribution: "loguniform" as const, mode: "absolute" as const, low: scale[0], high: scale[1] },
    u(`${prefix}.textureContrast`, 0, 0.8),
  ];
  const c = `camera.${camera}`;
  return [
    ...links.flatMap((l) => surface(`visual.links.${l}`, [15, 250])),
    ...surface("visual.background", [2, 30]),
    u("visual.distractors.count", 0, 6.49),
    u("visual.distractors.size", 0.015, 0.07),
    u("visual.light.azimuth", -Math.PI, Math.PI),
    u("visual.light.elevation", 0.15, 1.45),
    u("visual.light.intensity", 0.3, 1.1),
    u("visual.light.ambient", 0.1, 0.6),
    u("visual.light.specular", 0, 0.5),
    u(`${c}.x`, -0.02, 0.02),
    u(`${c}.y`, -0.02, 0.02),
    u(`${c}.z`, -0.02, 0.02),
    u(`${c}.roll`, -0.04, 0.04),
    u(`${c}.pitch`, -0.04, 0.04),
    u(`${c}.yaw`, -0.04, 0.04),
    u(`${c}.fov`, 0.92, 1.08),
    u(`${c}.exposure`, 0, 0.016),
    u(`${c}.noise`, 0, 0.04, "step"),
    u(`${c}.gamma`, 0.7, 1.5),
    u(`${c}.contrast`, 0.7, 1.3),
    u(`${c}.brightness`, -0.12, 0.12, "step"),
    choice(`${c}.channelOrder`, CHANNEL_ORDERS),
    u(`${c}.dropRate`, 0, 0.05),
    u(`${c}.delay`, 0, 1.49),
  ];
}
