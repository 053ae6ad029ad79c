/**
 * Runs an exported perception network (vision.onnx): raw image bytes in,
 * joint angles out, on onnxruntime's CPU provider through the synchronous
 * session the policy runtime uses. Input and output tensors are created once
 * per batch size and reused; angles come back as atan2(sin, cos).
 */

import { OnnxFileError, inspectOnnxFile, type InspectedModel } from "../onnx/inspect-model.js";
import { PERCEPTION_IO } from "../onnx/export-perception.js";
import { readModelBytes, readVisionManifest, verifyVisionManifest, type VisionManifest } from "../perception/vision-export.js";
import { RUNTIME_IR_MAX, RUNTIME_OPSET_MAX } from "./policy-interface.js";
import { Tensor, createNativeSession, type NativeSession, type OrtFeeds, type OrtFetches, type SessionTuning } from "./ort-native-session.js";

const UINT8 = 2, FLOAT = 1;

export interface PerceptionInterface {
  height: number;
  width: number;
  channels: number;
  /** 2 x joints. */
  jointsSize: number;
  featureSize: number;
}

export interface PerceptionResult {
  /** [rows, 2 J]: sin, cos per joint. Owned by the runtime, overwritten by the next run. */
  joints: Float32Array;
  /** [rows, J] angles in rad, (-pi, pi]. Same ownership. */
  angles: Float64Array;
  /** [rows, F]. Same ownership. */
  features: Float32Array;
}

/** Checks the file is a perception network s2r can run: uint8 image [batch, H, W, C] -> float joints, features. */
export function checkPerceptionInterface(model: InspectedModel, file: string): PerceptionInterface {
  if (model.irVersion > RUNTIME_IR_MAX) throw new OnnxFileError(file, `IR version ${model.irVersion} is newer than onnxruntime-node 1.30 reads (up to ${RUNTIME_IR_MAX})`);
  const opset = model.opsets.get("") ?? model.opsets.get("ai.onnx");
  if (opset === undefined || opset < 17 || opset > RUNTIME_OPSET_MAX) throw new OnnxFileError(file, `opset ${opset} is not supported (perception models use ai.onnx 17..${RUNTIME_OPSET_MAX})`);
  const image = model.inputs.find((v) => v.name === PERCEPTION_IO.image);
  if (!image) {
    throw new OnnxFileError(file, `the model has no input "${PERCEPTION_IO.image}" (inputs: ${model.inputs.map((v) => `"${v.name}"`).join(", ") || "none"}); is it a perception network (vision.onnx)?`);
  }
  if (image.elemType !== UINT8) throw new OnnxFileError(file, `input "image" has element type ${image.elemType}; perception models take the raw uint8 (2) image`);
  const s = image.shape;
  if (!s || s.length !== 4 || !s.slice(1).every((d) => typeof d === "number" && d > 0)) {
    throw new OnnxFileError(file, `input "image" has shape [${s?.join(", ") ?? "unknown"}]; expected [batch, H, W, C] with fixed H, W, C`);
  }
  const width = (name: string) => {
    const v = model.outputs.find((o) => o.name === name);
    if (!v) throw new OnnxFileError(file, `the model has no output "${name}"`);
    const w = v.shape?.[1];
    if (v.elemType !== FLOAT || v.shape?.length !== 2 || typeof w !== "number") throw new OnnxFileError(file, `output "${name}" must be float32 [batch, n]`);
    return w;
  };
  return { height: s[1] as number, width: s[2] as number, channels: s[3] as number, jointsSize: width(PERCEPTION_IO.joints), featureSize: width(PERCEPTION_IO.features) };
}

interface Bound {
  rows: number;
  image: Uint8Array;
  feeds: OrtFeeds;
  fetches: OrtFetches;
  result: PerceptionResult;
}

export class OnnxPerception {
  readonly io: PerceptionInterface;
  private session: NativeSession | undefined;
  private bound: Bound | undefined;
  private readonly runOptions = {};

  private constructor(readonly onnxPath: string, session: NativeSession, io: PerceptionInterface, readonly manifest: VisionManifest | undefined) {
    this.session = session;
    this.io = io;
  }

  /** Loads vision.onnx; with `manifestPath` (vision.json) also refuses a model whose SHA-256 or interface differs from it. */
  static load(onnxPath: string, manifestPath?: string, options: SessionTuning = {}): OnnxPerception {
    const bytes = readModelBytes(onnxPath);
    const model = inspectOnnxFile(bytes, onnxPath);
    const io = checkPerceptionInterface(model, onnxPath);
    let manifest: VisionManifest | undefined;
    if (manifestPath !== undefined) {
      manifest = readVisionManifest(manifestPath);
      verifyVisionManifest(manifest, model, bytes, onnxPath);
    }
    return new OnnxPerception(onnxPath, createNativeSession(bytes, onnxPath, options), io, manifest);
  }

  get bytesPerImage(): number {
    return this.io.height * this.io.width * this.io.channels;
  }

  /** Runs `rows` images (rows x H x W x C bytes, NHWC, the ROS encoding's byte order). */
  run(images: Uint8Array, rows = 1): PerceptionResult {
    const session = this.session;
    if (!session) throw new Error(`${this.onnxPath}: run() after dispose()`);
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`${this.onnxPath}: rows must be a positive integer, got ${rows}`);
    const need = rows * this.bytesPerImage;
    if (images.length !== need) {
      const { width: W, height: H, channels: C } = this.io;
      throw new RangeError(`${this.onnxPath}: ${images.length} bytes given, ${rows} image(s) of ${W}x${H}x${C} take ${need}`);
    }
    const b = this.bind(rows);
    b.image.set(images);
    try {
      session.run(b.feeds, b.fetches, this.runOptions);
    } catch (e) {
      throw new Error(`${this.onnxPath}: onnxruntime failed to run the perception network: ${(e as Error).message}`);
    }
    const J = this.io.jointsSize / 2, { joints, angles } = b.result;
    for (let r = 0; r < rows; r++) for (let j = 0; j < J; j++) angles[r * J + j] = Math.atan2(joints[r * 2 * J + 2 * j]!, joints[r * 2 * J + 2 * j + 1]!);
    return b.result;
  }

  private bind(rows: number): Bound {
    if (this.bound?.rows === rows) return this.bound;
    const { height: H, width: W, channels: C, jointsSize, featureSize } = this.io;
    const image = new Uint8Array(rows * H * W * C);
    const joints = new Float32Array(rows * jointsSize), features = new Float32Array(rows * featureSize);
    this.bound = {
      rows, image,
      feeds: { [PERCEPTION_IO.image]: new Tensor("uint8", image, [rows, H, W, C]) },
      fetches: { [PERCEPTION_IO.joints]: new Tensor("float32", joints, [rows, jointsSize]), [PERCEPTION_IO.features]: new Tensor("float32", features, [rows, featureSize]) },
      result: { joints, features, angles: new Float64Array(rows * (jointsSize / 2)) },
    };
    return this.bound;
  }

  dispose(): void {
    const s = this.session;
    this.session = undefined;
    s?.dispose();
  }
}
