import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../common/rng.js";
import { cameraConfigSchema } from "../../../sim/sensors/camera-config.js";
import { PerceptionNet } from "../../../policies/perception/perception-net.js";
import { readVisionManifest, writeVisionExport } from "../../../policies/perception/vision-export.js";
import { OnnxPerception } from "../../../policies/runtime/onnx-perception.js";
import { exportPolicyOnnx } from "../../../policies/onnx/export-policy.js";
import { randomPolicyParts } from "../../../policies/onnx/random-parts.js";
import { inspectOnnxFile } from "../../../policies/onnx/inspect-model.js";

/**
 * vision.onnx against the in-process forward pass: <= 1e-4 on every output
 * over 1000 random images (raw uint8 in, Cast/scale/Transpose/Conv/group
 * norm/ReLU/flatten/Gemm inside the graph), the manifest, and the runtime's
 * errors for bad files.
 */

const dir = mkdtempSync(join(tmpdir(), "s2r-vision-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const camera = cameraConfigSchema.parse({
  name: "overhead", mount: { xyz: [0, 0, 0.6], rpy: [Math.PI, 0, 0] },
  intrinsics: { width: 640, height: 480, fx: 500, fy: 500, cx: 319.5, cy: 239.5 }, encoding: "rgb8",
}, "camera");

const CONFIG = {
  inputWidth: 40, inputHeight: 32, encoding: "rgb8", framesStacked: 2, joints: ["arm_joint", "pendulum_joint"], groups: 4,
  conv: [{ channels: 8, kernel: 5, stride: 2 }, { channels: 16, kernel: 3, stride: 2 }, { channels: 16, kernel: 3, stride: 1 }], head: [24],
};

/** Weights away from their init (GroupNorm's gamma 1 / beta 0 would hide a layout mistake). */
function perturb(net: PerceptionNet, seed: number): void {
  const rng = new Rng(seed);
  for (const p of net.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.value[i]! + 0.2 * rng.normal();
}

function compare(net: PerceptionNet, onnx: OnnxPerception, images: number, batch: number, seed: number): { joints: number; features: number; angle: number } {
  const rng = new Rng(seed);
  const ctx = net.newContext({ maxRows: batch });
  const worst = { joints: 0, features: 0, angle: 0 };
  for (let done = 0; done < images; done += batch) {
    const bytes = new Uint8Array(batch * net.inputBytesPerSample).map(() => rng.int(256));
    const ref = net.forward(ctx, bytes, batch);
    const refAngles = net.anglesOf(ref.joints, batch);
    const got = onnx.run(bytes, batch);
    for (let i = 0; i < batch * net.outputSize; i++) worst.joints = Math.max(worst.joints, Math.abs(got.joints[i]! - ref.joints[i]!));
    for (let i = 0; i < batch * net.featureSize; i++) worst.features = Math.max(worst.features, Math.abs(got.features[i]! - ref.features[i]!));
    for (let i = 0; i < refAngles.length; i++) worst.angle = Math.max(worst.angle, Math.abs(got.angles[i]! - refAngles[i]!));
  }
  return worst;
}

test("vision.onnx matches the in-process forward pass within 1e-4 over 1000 random images (rgb8, 2 frames, flatten)", (t) => {
  const net = PerceptionNet.create(CONFIG, { seed: 1, capacityMiB: 64 });
  try {
    perturb(net, 2);
    const out = writeVisionExport(dir, net, { camera, crop: { x0: 20, y0: 0, w: 600, h: 480 }, training: { run: "test", config: CONFIG } });
    const m = readVisionManifest(out.manifest);
    assert.equal(m.input.encoding, "rgb8");
    assert.equal(m.input.channels, 6);
    assert.equal(m.camera.input.width, 40);
    assert.ok(Math.abs(m.camera.input.fx - 500 * 40 / 600) < 1e-9);
    assert.deepEqual(m.joints, ["arm_joint", "pendulum_joint"]);
    assert.match(m.onnx.sha256, /^[0-9a-f]{64}$/);
    const model = inspectOnnxFile(readFileSync(out.onnx), out.onnx);
    assert.deepEqual(model.inputs[0], { name: "image", elemType: 2, shape: ["batch", 32, 40, 6] });
    const onnx = OnnxPerception.load(out.onnx, out.manifest);
    try {
      const worst = compare(net, onnx, 1000, 50, 3);
      t.diagnostic(`max |onnx - in-process| over 1000 images: joints ${worst.joints.toExponential(2)}, features ${worst.features.toExponential(2)}, angles ${worst.angle.toExponential(2)} rad`);
      assert.ok(worst.joints <= 1e-4 && worst.features <= 1e-4, `max |onnx - in-process|: joints ${worst.joints}, features ${worst.features}`);
      // Batch 1 (a deployment's case) through the same session.
      const one = compare(net, onnx, 5, 1, 4);
      assert.ok(one.joints <= 1e-4, `batch 1: ${one.joints}`);
    } finally {
      onnx.dispose();
    }
  } finally {
    net.dispose();
  }
});

test("vision.onnx parity with opset 18 (ReduceMean axes as input) and global average pooling, mono8", () => {
  const net = PerceptionNet.create({ ...CONFIG, encoding: "mono8", framesStacked: 1, pooling: "avg" }, { seed: 5, capacityMiB: 64 });
  const sub = join(dir, "opset18");
  try {
    perturb(net, 6);
    const monoCam = { ...camera, encoding: "mono8" as const };
    mkdirSync(sub, { recursive: true });
    const out = writeVisionExport(sub, net, { camera: monoCam, training: { run: "test", configHash: "0".repeat(64) }, opset: 18 });
    const onnx = OnnxPerception.load(out.onnx, out.manifest);
    try {
      const worst = compare(net, onnx, 100, 25, 7);
      assert.ok(worst.joints <= 1e-4 && worst.features <= 1e-4, `joints ${worst.joints}, features ${worst.features}`);
    } finally {
      onnx.dispose();
    }
    assert.throws(() => writeVisionExport(sub, net, { camera, training: { run: "x" } }), /camera\.encoding: the camera delivers rgb8 but the network was built for mono8/);
  } finally {
    net.dispose();
  }
});

test("OnnxPerception: bad files and bad input are refused with errors naming the file and the problem", () => {
  const garbage = join(dir, "garbage.onnx");
  writeFileSync(garbage, "not a model at all, just text");
  assert.throws(() => OnnxPerception.load(garbage), /garbage\.onnx: not (a readable ONNX file|an ONNX model)/);
  assert.throws(() => OnnxPerception.load(join(dir, "missing.onnx")), /missing\.onnx: cannot read the ONNX file \(ENOENT\)/);
  const policy = join(dir, "policy.onnx");
  writeFileSync(policy, exportPolicyOnnx(randomPolicyParts({ obsSize: 4, actSize: 1, actor: { hidden: [8] } }, 1)));
  assert.throws(() => OnnxPerception.load(policy), /policy\.onnx: the model has no input "image" \(inputs: "obs"\); is it a perception network/);

  const net = PerceptionNet.create(CONFIG, { seed: 8, capacityMiB: 64 });
  const sub = join(dir, "bad");
  mkdirSync(sub, { recursive: true });
  try {
    const out = writeVisionExport(sub, net, { camera, training: { run: "t", config: {} } });
    // The manifest of another export (different SHA-256) is refused.
    const other = join(dir, "vision.json");
    assert.throws(() => OnnxPerception.load(out.onnx, other), /SHA-256 of the file is [0-9a-f]+ but the manifest's onnx\.sha256/);
    const broken = join(sub, "broken.json");
    writeFileSync(broken, JSON.stringify({ ...JSON.parse(readFileSync(out.manifest, "utf8")), input: { name: "image" } }));
    assert.throws(() => OnnxPerception.load(out.onnx, broken), /broken\.json: input\.dtype/);
    const onnx = OnnxPerception.load(out.onnx, out.manifest);
    try {
      assert.throws(() => onnx.run(new Uint8Array(10), 1), /10 bytes given, 1 image\(s\) of 40x32x6 take 7680/);
    } finally {
      onnx.dispose();
    }
    assert.throws(() => onnx.run(new Uint8Array(7680)), /after dispose/);
  } finally {
    net.dispose();
  }
});
