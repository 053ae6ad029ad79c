import { uniformEntry } from "./heavy-visual-spec.js";

/**
 * The looks of a camera the policy never trained on: what the emulator's
 * camera shows (`s2r emulate --ros2 --camera --seed S`), so deploy against it
 * faces a visual domain gap as it would on real hardware. Every range lies
 * outside the one heavyVisualRandomization (the training spec) draws from,
 * where the parameter has an outside at all:
 *
 *   backdrop      near black (value < 0.12, training: 0.12..1), fine textures (scale 32..60, training: 2..30)
 *   links         washed out (saturation < 0.12 is inside training's 0..1: hue and saturation have no
 *                 outside), texture scale beyond training's 15..250, strong texture contrast (0.82..0.95)
 *   light         harsher (intensity 1.15..1.4, training 0.3..1.1), dim ambient (0.03..0.08, training 0.1..0.6),
 *                 glossier (specular 0.55..0.8, training 0..0.5)
 *   sensor        longer exposure (0.018..0.03 s: more motion blur, training 0..0.016), more noise
 *                 (0.045..0.07, training 0..0.04), a tone curve beyond training's (gamma 1.55..1.9,
 *                 contrast 1.32..1.5), brightness offsets beyond +-0.12 (0.13..0.2 per episode)
 *
 * What stays nominal, on purpose: the camera's pose and focal length (the
 * published camera_info must remain the calibration deploy checks), its
 * channel order (a driver declares its encoding), drops and delays (the
 * emulator's camera has its real latency and drops frames when rendering
 * falls behind), and distractors (none): more or larger ones than training's
 * hide the pendulum outright, which tests luck, not generalization. The light's direction and the colours' hues have no outside
 * to draw from: they are drawn over their full circle.
 */
export function hiddenVisualLooks(links: readonly string[], camera: string) {
  const u = uniformEntry;
  const c = `camera.${camera}`;
  return [
    ...links.flatMap((l) => [
      u(`visual.links.${l}.hue`, 0, 360),
      u(`visual.links.${l}.saturation`, 0.02, 0.12),
      { target: `visual.links.${l}.textureScale`, distribution: "loguniform" as const, mode: "absolute" as const, low: 260, high: 400, when: "episode" as const },
      u(`visual.links.${l}.textureContrast`, 0.82, 0.95),
    ]),
    u("visual.background.hue", 0, 360),
    u("visual.background.value", 0.03, 0.11),
    u("visual.background.textureScale", 32, 60),
    u("visual.background.textureContrast", 0.82, 0.95),
    u("visual.light.azimuth", -Math.PI, Math.PI),
    u("visual.light.intensity", 1.15, 1.4),
    u("visual.light.ambient", 0.03, 0.08),
    u("visual.light.specular", 0.55, 0.8),
    u(`${c}.exposure`, 0.018, 0.03),
    u(`${c}.noise`, 0.045, 0.07, "step"),
    u(`${c}.gamma`, 1.55, 1.9),
    u(`${c}.contrast`, 1.32, 1.5),
    u(`${c}.brightness`, 0.13, 0.2),
  ];
}

