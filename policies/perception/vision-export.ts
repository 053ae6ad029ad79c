import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonFileValidated } from "../../common/atomic-file.js";
import { canonicalJson, sha256Hex } from "../../common/hash.js";
import { readJsonFile } from "../../common/json-file.js";
import { ConfigError, arrayOf, int, obj, oneOf, str, type Infer } from "../../common/schema.js";
import { cameraIntrinsicsSchema, cropResizeIntrinsics, type CameraConfig } from "../../sim/sensors/camera-config.js";
import { ManifestMismatchError, onnxManifestEntry } from "../manifest.js";
import { exportPerceptionOnnx, PERCEPTION_IO, PERCEPTION_OPSET_MIN } from "../onnx/export-perception.js";
import type { InspectedModel } from "../onnx/inspect-model.js";
import type { PerceptionNet } from "./perception-net.js";

/**
 * vision.json: what a deployment needs to feed an exported perception
 * network (vision.onnx) and read its outputs, following policy.json's
 * conventions (policies/manifest.ts): validated on read with errors naming
 * the field, the ONNX file pinned by SHA-256, the training run and config
 * hash recorded. The camera section holds the camera's native intrinsics,
 * the crop taken from its image and the intrinsics of the network's input
 * after crop and resize, so a real camera can be checked against them.
 */

export const VISION_MANIFEST_SCHEMA_VERSION = 1;

const cropSchema = obj({ x0: int(undefined, { min: 0 }), y0: int(undefined, { min: 0 }), w: int(undefined, { min: 1 }), h: int(undefined, { min: 1 }) });

export const visionManifestSchema = obj({
  schemaVersion: int(undefined, { min: 1 }),
  kind: oneOf(["s2r-vision"] as const, undefined),
  camera: obj({
    name: str(undefined),
    encoding: oneOf(["rgb8", "mono8"] as const, undefined),
    native: cameraIntrinsicsSchema,
    crop: cropSchema,
    /** Intrinsics of the network's input (the crop resized). */
    input: cameraIntrinsicsSchema,
  }),
  input: obj({
    name: str(undefined),
    dtype: oneOf(["uint8"] as const, undefined),
    layout: oneOf(["NHWC"] as const, undefined),
    width: int(undefined, { min: 1 }),
    height: int(undefined, { min: 1 }),
    /** channels of the encoding x framesStacked. */
    channels: int(undefined, { min: 1 }),
    encoding: oneOf(["rgb8", "mono8"] as const, undefined),
    framesStacked: int(undefined, { min: 1 }),
  }),
  joints: arrayOf(str(undefined), undefined, { minLength: 1 }),
  outputs: arrayOf(obj({ name: str(undefined), size: int(undefined, { min: 1 }), unit: str(undefined), meaning: str(undefined) }), undefined, { minLength: 1 }),
  training: obj({ run: str(undefined), configHash: str(undefined) }),
  onnx: obj({ file: str(undefined), sha256: str(undefined), opset: int(undefined, { min: 1 }) }),
});

export type VisionManifest = Infer<typeof visionManifestSchema>;

export interface VisionExportOptions {
  /** The camera the network was trained for (its native image). */
  camera: CameraConfig;
  /** Region of the native image resized to the network's input (default: the whole image). */
  crop?: { x0: number; y0: number; w: number; h: number };
  /** Training run name and its config (hashed as canonical JSON), or the hash itself. */
  training: { run: string; config?: unknown; configHash?: string };
  opset?: number;
}

export function readVisionManifest(file: string): VisionManifest {
  return readJsonFile(file, visionManifestSchema);
}

/** Writes vision.onnx and vision.json into `dir` (each atomically) and returns their paths. */
export function writeVisionExport(dir: string, net: PerceptionNet<any>, opts: VisionExportOptions): { onnx: string; manifest: string } {
  const spec = net.toSpec();
  const cam = opts.camera;
  if (cam.encoding !== spec.input.encoding) {
    throw new ConfigError("camera.encoding", `the camera delivers ${cam.encoding} but the network was built for ${spec.input.encoding}`);
  }
  const crop = opts.crop ?? { x0: 0, y0: 0, w: cam.intrinsics.width, h: cam.intrinsics.height };
  if (crop.x0 + crop.w > cam.intrinsics.width || crop.y0 + crop.h > cam.intrinsics.height) {
    throw new ConfigError("crop", `[${crop.x0}, ${crop.y0}, ${crop.w}, ${crop.h}] leaves the ${cam.intrinsics.width}x${cam.intrinsics.height} image`);
  }
  const configHash = opts.training.configHash ?? sha256Hex(canonicalJson(opts.training.config ?? null));
  const onnxPath = join(dir, "vision.onnx");
  const manifestPath = join(dir, "vision.json");
  writeFileAtomic(onnxPath, exportPerceptionOnnx(spec, { opset: opts.opset ?? PERCEPTION_OPSET_MIN, metadata: { configHash } }));
  const J = spec.joints.length;
  const manifest: VisionManifest = {
    schemaVersion: VISION_MANIFEST_SCHEMA_VERSION,
    kind: "s2r-vision",
    camera: {
      name: cam.name, encoding: cam.encoding, native: cam.intrinsics, crop,
      input: cropResizeIntrinsics(cam.intrinsics, crop, spec.input.width, spec.input.height),
    },
    input: {
      name: PERCEPTION_IO.image, dtype: "uint8", layout: "NHWC", width: spec.input.width, height: spec.input.height,
      channels: spec.input.channels, encoding: spec.input.encoding, framesStacked: spec.input.framesStacked,
    },
    joints: spec.joints,
    outputs: [
      { name: PERCEPTION_IO.joints, size: 2 * J, unit: "1", meaning: "sin, cos of each joint's angle, in the order of joints; angle = atan2(sin, cos) rad" },
      { name: PERCEPTION_IO.features, size: spec.featureSize, unit: "1", meaning: "the head's input (perceptual features)" },
    ],
    training: { run: opts.training.run, configHash },
    onnx: onnxManifestEntry(onnxPath),
  };
  writeJsonFileValidated(manifestPath, manifest, visionManifestSchema);
  return { onnx: onnxPath, manifest: manifestPath };
}

/** Refuses a model whose SHA-256, opset or interface differs from its vision.json. */
export function verifyVisionManifest(m: VisionManifest, model: InspectedModel, bytes: Uint8Array, onnxPath: string): void {
  const sha = sha256Hex(bytes);
  if (sha !== m.onnx.sha256) {
    throw new ManifestMismatchError(onnxPath, [`SHA-256 of the file is ${sha} but the manifest's onnx.sha256 is ${m.onnx.sha256} (the manifest belongs to another export)`]);
  }
  const problems: string[] = [];
  const opset = model.opsets.get("") ?? model.opsets.get("ai.onnx");
  if (opset !== m.onnx.opset) problems.push(`the model's opset is ${opset} but the manifest's onnx.opset is ${m.onnx.opset}`);
  const image = model.inputs.find((v) => v.name === m.input.name);
  const want = [m.input.height, m.input.width, m.input.channels];
  if (!image) problems.push(`the model has no input "${m.input.name}"`);
  else if (JSON.stringify(image.shape?.slice(1)) !== JSON.stringify(want)) problems.push(`input "${m.input.name}" is [${image.shape?.join(", ")}] in the model but [batch, ${want.join(", ")}] per the manifest`);
  for (const o of m.outputs) {
    const v = model.outputs.find((x) => x.name === o.name);
    if (!v) problems.push(`the model has no output "${o.name}"`);
    else if (v.shape?.[1] !== o.size) problems.push(`output "${o.name}" is ${v.shape?.[1]} wide in the model but ${o.size} per the manifest`);
  }
  if (problems.length > 0) throw new ManifestMismatchError(onnxPath, problems);
}

/** Reads a file's bytes, naming it on failure. */
export function readModelBytes(onnxPath: string): Uint8Array {
  try {
    return readFileSync(onnxPath);
  } catch (e) {
    throw new Error(`${onnxPath}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
