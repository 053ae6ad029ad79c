import { arrayOf, ConfigError, int, num, obj, oneOf, str, type Infer } from "../../common/schema.js";

/**
 * The perception network's architecture as data: input size and encoding,
 * frames stacked, convolution stack, pooling and head. `vision train`
 * composes this into its own config; checkpoints store it (the architecture
 * must match to load weights).
 */

export const convLayerSchema = obj({
  channels: int(undefined, { min: 1 }),
  /** Square kernel; zero padding kernel / 2 (rounded down) keeps the image centred. */
  kernel: int(3, { min: 1 }),
  stride: int(2, { min: 1 }),
});

export const perceptionNetConfigSchema = obj({
  /** The network's input size (the camera image is cropped and resized to it; camera-config.ts cropResizeIntrinsics). */
  inputWidth: int(96, { min: 8 }),
  inputHeight: int(96, { min: 8 }),
  /** ROS image encoding of the input: rgb8 (3 channels) or mono8 (1). */
  encoding: oneOf(["rgb8", "mono8"] as const, "rgb8"),
  /** Frames stacked along the channels, newest last: 2 makes velocity observable. */
  framesStacked: int(1, { min: 1, max: 4 }),
  /** Names of the observed joints, in output order (joints[n] = sin, cos of each). */
  joints: arrayOf(str(undefined), ["arm_joint", "pendulum_joint"], { minLength: 1 }),
  conv: arrayOf(convLayerSchema, [
    { channels: 16, kernel: 5, stride: 2 },
    { channels: 32, kernel: 3, stride: 2 },
    { channels: 32, kernel: 3, stride: 2 },
    { channels: 64, kernel: 3, stride: 2 },
  ], { minLength: 1 }),
  /** GroupNorm groups after every conv (must divide every conv's channels); per-sample statistics. */
  groups: int(8, { min: 1 }),
  /** "flatten" keeps where things are in the image (joint angles need it); "avg" is global average pooling. */
  pooling: oneOf(["flatten", "avg"] as const, "flatten"),
  /** Hidden widths of the MLP head (ELU); the features are the head's input. */
  head: arrayOf(int(undefined, { min: 1 }), [128], {}),
});

export type ConvLayerConfig = Infer<typeof convLayerSchema>;
export type PerceptionNetConfig = Infer<typeof perceptionNetConfigSchema>;

export function channelsOf(encoding: PerceptionNetConfig["encoding"]): number {
  return encoding === "rgb8" ? 3 : 1;
}

/** Parses and checks what the field schema cannot (groups dividing channels, the image not shrinking to nothing). */
export function parsePerceptionNetConfig(v: unknown, path = "perception"): PerceptionNetConfig {
  const c = perceptionNetConfigSchema.parse(v, path);
  c.conv.forEach((l, i) => {
    if (l.channels % c.groups !== 0) throw new ConfigError(`${path}.conv[${i}].channels`, `${l.channels} is not divisible by groups (${c.groups})`);
  });
  let h = c.inputHeight, w = c.inputWidth;
  c.conv.forEach((l, i) => {
    const p = Math.floor(l.kernel / 2);
    h = Math.floor((h + 2 * p - l.kernel) / l.stride) + 1;
    w = Math.floor((w + 2 * p - l.kernel) / l.stride) + 1;
    if (h < 1 || w < 1) throw new ConfigError(`${path}.conv[${i}]`, `the image shrinks to nothing at this layer (input ${c.inputWidth}x${c.inputHeight})`);
  });
  const dup = c.joints.find((j, i) => c.joints.indexOf(j) !== i);
  if (dup !== undefined) throw new ConfigError(`${path}.joints`, `"${dup}" is listed twice`);
  return c;
}
