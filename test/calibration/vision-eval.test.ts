import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { evalVisionRecording, errorStats } from "../../calibration/vision/vision-eval.js";
import type { PerceptionEstimator } from "../../policies/runtime/perception-estimator.js";
import { CameraLog } from "../../robot/log/camera-log.js";
import { wrapAngle } from "../../robot/log/joint-track.js";
import { SessionLog } from "../../robot/log/session-log.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import type { PackedImage } from "../../sim/sensors/image.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-vision-eval-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_750_000_000_000_000_000n;
const sec = (t: number) => T0 + BigInt(Math.round(t * 1e9));
const CAMERA: CameraIntrinsics = { width: 64, height: 48, fx: 60, fy: 60, cx: 31.5, cy: 23.5, distortionModel: "none", distortion: [] };
/** Linear in time so that interpolating between joint states is exact; the pendulum crosses +-pi (wrapped in the messages). */
const pendulum = (t: number) => 2.5 + 3 * t;
const arm = (t: number) => 0.5 - 0.4 * t;
const frameTimes = Array.from({ length: 58 }, (_, i) => 0.005 + i / 30);

/** A dark frame with a bright rod from the optical centre at the pendulum angle (image axes), rgb8 with 4 bytes of row padding. */
function drawFrame(angle: number) {
  const step = CAMERA.width * 3 + 4;
  const data = new Uint8Array(step * CAMERA.height).fill(20);
  for (let r = 0; r <= 20; r += 0.25) {
    const x = Math.round(CAMERA.cx + r * Math.cos(angle));
    const y = Math.round(CAMERA.cy + r * Math.sin(angle));
    data.fill(250, y * step + x * 3, y * step + x * 3 + 3);
  }
  return { width: CAMERA.width, height: CAMERA.height, encoding: "rgb8", step, data };
}

async function writeRecording(file: string, compressed: "none" | "png") {
  const log = SessionLog.create(file, { session: "record", closeOnExit: false });
  const cam = new CameraLog(log, { compressed });
  cam.info(CAMERA, sec(0));
  // A frame before the first joint state: not paired.
  cam.frame(drawFrame(0), sec(-0.02));
  let f = 0;
  for (let k = 0; k <= 200; k++) {
    const t = k * 0.01;
    while (f < frameTimes.length && frameTimes[f]! <= t) {
      cam.frame(drawFrame(pendulum(frameTimes[f]!)), sec(frameTimes[f]!));
      f++;
    }
    log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [arm(t), wrapAngle(pendulum(t))], velocity: [-0.4, 3], effort: [] }, sec(t));
  }
  await cam.close();
  await log.close();
}

/** Pendulum error +1 deg on even frames, -1 on odd, 5 deg on frame 7; arm -2 deg; some estimates a turn away. */
const ERR_P = frameTimes.map((_, i) => (i === 7 ? 5 : i % 2 === 0 ? 1 : -1));
const DEG = Math.PI / 180;

function estimator(intrinsics: CameraIntrinsics): PerceptionEstimator & { calls: number } {
  const e = {
    intrinsics,
    inputWidth: 32,
    inputHeight: 32,
    encoding: "mono8" as const,
    jointNames: ["pendulum_joint", "arm_joint"],
    calls: 0,
    estimate(image: PackedImage): Float64Array {
      assert.equal(image.width, 32);
      assert.equal(image.encoding, "mono8");
      const i = e.calls++;
      const t = frameTimes[i]!;
      // The frame that reached the network shows the rod at the true angle (centred crop, resized).
      let sx = 0;
      let sy = 0;
      let n = 0;
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const v = image.data[y * 32 + x]! - 20;
          if (v > 40) {
            sx += v * (x - 15.5);
            sy += v * (y - 15.5);
            n += v;
          }
        }
      assert.ok(n > 0, `frame ${i} shows the rod`);
      assert.ok(Math.abs(wrapAngle(Math.atan2(sy, sx) - pendulum(t))) < 8 * DEG, `frame ${i}: rod drawn at the true angle`);
      return Float64Array.of(pendulum(t) + ERR_P[i]! * DEG + (i % 5 === 0 ? 2 * Math.PI : 0), arm(t) - 2 * DEG - (i % 3 === 0 ? 2 * Math.PI : 0));
    },
  };
  return e;
}

function expected() {
  const n = ERR_P.length;
  const rmse = Math.sqrt(ERR_P.reduce((a, e) => a + e * e, 0) / n);
  return { n, rmse, mean: ERR_P.reduce((a, b) => a + b, 0) / n };
}

for (const compressed of ["none", "png"] as const) {
  test(`a synthetic recording with known angles gives the known error (${compressed === "png" ? "CompressedImage PNG" : "Image"})`, async () => {
    const file = join(dir, `rec-${compressed}.mcap`);
    await writeRecording(file, compressed);
    const est = estimator(CAMERA);
    const progress: number[] = [];
    const r = await evalVisionRecording(file, est, { onProgress: (d) => progress.push(d) });
    const { n, rmse, mean } = expected();
    assert.equal(r.frames, n);
    assert.equal(est.calls, n);
    assert.equal(r.unpaired, 1);
    assert.equal(progress.at(-1), n + 1);
    assert.equal(r.imageTopic, compressed === "png" ? "/camera/image_raw/compressed" : "/camera/image_raw");
    assert.equal(r.jointTopic, "/joint_states");
    const p = r.joints.pendulum_joint!;
    const a = r.joints.arm_joint!;
    assert.ok(Math.abs(p.rmseDeg - rmse) < 1e-6, `pendulum rmse ${p.rmseDeg} vs ${rmse}`);
    assert.ok(Math.abs(p.p95Deg - 1) < 1e-6, `p95 ${p.p95Deg}`);
    assert.ok(Math.abs(p.maxDeg - 5) < 1e-6);
    assert.ok(Math.abs(p.meanDeg - mean) < 1e-6);
    for (const v of [a.rmseDeg, a.p95Deg, a.maxDeg]) assert.ok(Math.abs(v - 2) < 1e-6, `arm ${v}`);
    assert.ok(Math.abs(a.meanDeg + 2) < 1e-6);
    assert.deepEqual(r.camera, { source: "camera_info", topic: "/camera/camera_info", differences: [] });
  });
}

test("the recording's camera_info is checked against the model's camera, and a --camera file overrides it", async () => {
  const file = join(dir, "rec-none.mcap");
  const r = await evalVisionRecording(file, estimator({ ...CAMERA, fx: 70, fy: 70 }));
  assert.deepEqual(r.camera.differences, ["fx: expected 70 px, got 60 px (tolerance 0.5 px)", "fy: expected 70 px, got 60 px (tolerance 0.5 px)"]);
  const colour = { ...estimator(CAMERA), encoding: "rgb8" as const };
  const over = await evalVisionRecording(file, { ...colour, estimate: () => Float64Array.of(0, 0) }, { camera: { ...CAMERA, cx: 33 } });
  assert.equal(over.camera.source, "camera file");
  assert.deepEqual(over.camera.differences, ["cx: expected 31.5 px, got 33 px (tolerance 0.5 px)"]);
  await assert.rejects(evalVisionRecording(file, estimator(CAMERA), { imageTopic: "/joint_states" }), /\/joint_states carries sensor_msgs\/msg\/JointState, not image/);
  await assert.rejects(evalVisionRecording(file, { ...estimator(CAMERA), jointNames: ["elbow"] }), /has no position for joint "elbow"/);
});

test("error statistics: rmse, nearest-rank p95, max of |error| in degrees", () => {
  const s = errorStats([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1 * DEG, -3 * DEG]);
  assert.ok(Math.abs(s.rmseDeg - Math.sqrt((0.01 + 9) / 20)) < 1e-9);
  assert.ok(Math.abs(s.p95Deg - 0.1) < 1e-9);
  assert.ok(Math.abs(s.maxDeg - 3) < 1e-9);
  assert.ok(Math.abs(wrapAngle(3 * Math.PI / 2) + Math.PI / 2) < 1e-12);
});

test("s2r vision eval: a clear error without the exported perception model or its runtime; --camera errors name the field", async () => {
  const { main } = await import("../../launch/cli.js");
  const { formatVisionEval } = await import("../../launch/commands/vision-eval.js");
  const { writeFileSync, mkdirSync } = await import("node:fs");
  const run = async (argv: string[]) => {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, signal: new AbortController().signal });
    return { code, out, err };
  };
  const rec = join(dir, "rec-none.mcap");
  const none = await run(["vision", "eval", dir, rec]);
  assert.equal(none.code, 1);
  assert.match(none.err, /needs the exported perception model \(vision\.onnx \+ manifest\): .*vision\.onnx and .*vision\.json not found/);
  const modelDir = join(dir, "model");
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, "vision.onnx"), "");
  writeFileSync(join(modelDir, "vision.json"), "{}");
  const broken = await run(["vision", "eval", modelDir, rec]);
  assert.equal(broken.code, 1);
  assert.match(broken.err, /vision\.(onnx|json)/);
  const badCam = join(dir, "cam.yaml");
  writeFileSync(badCam, "image_width: 64\nimage_height: 48\ncamera_matrix: {rows: 3, cols: 3, data: [60, 0, 31.5]}\n");
  const bad = await run(["vision", "eval", modelDir, rec, "--camera", badCam]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--camera .*cam\.yaml: camera_matrix\.data: expected 9 numbers/);
  // The text report a person reads.
  const text = formatVisionEval(await evalVisionRecording(rec, estimator({ ...CAMERA, cx: 40 })));
  assert.match(text, /58 frames on \/camera\/image_raw labelled by \/joint_states \(1 frames without joint states/);
  assert.match(text, /pendulum_joint\s+1\.\d\d\s+1\.00\s+5\.00/);
  assert.match(text, /differs from the model's:\n  cx: expected 40 px, got 31\.5 px/);
});

test("s2r vision eval runs an exported perception network (two frames stacked) and agrees with the in-process network", async () => {
  const { main } = await import("../../launch/cli.js");
  const { PerceptionNet } = await import("../../policies/perception/perception-net.js");
  const { writeVisionExport } = await import("../../policies/perception/vision-export.js");
  const { cameraConfigSchema } = await import("../../sim/sensors/camera-config.js");
  const { mkdirSync } = await import("node:fs");
  const rec = join(dir, "rec-model.mcap");
  await writeRecording(rec, "none");
  const net = PerceptionNet.create({
    inputWidth: 32, inputHeight: 24, encoding: "rgb8", framesStacked: 2, joints: ["arm_joint", "pendulum_joint"], groups: 2,
    conv: [{ channels: 4, kernel: 3, stride: 2 }, { channels: 8, kernel: 3, stride: 2 }], head: [8],
  }, { seed: 3 });
  const camera = cameraConfigSchema.parse({ name: "front", mount: { xyz: [0, 0, 0], rpy: [0, 0, 0] }, intrinsics: CAMERA, encoding: "rgb8" }, "camera");
  const modelDir = join(dir, "model-real");
  mkdirSync(modelDir, { recursive: true });
  writeVisionExport(modelDir, net, { camera, training: { run: "test", config: {} } });
  let out = "";
  let err = "";
  const code = await main(["vision", "eval", modelDir, rec, "--json"], { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, signal: new AbortController().signal });
  assert.equal(code, 0, err);
  const viaOnnx = JSON.parse(out);
  assert.equal(viaOnnx.frames, frameTimes.length);
  // The same evaluation with the in-process network, frames stacked here independently (oldest first, per pixel).
  const ctx = net.newContext({ maxRows: 1 });
  let previous: Uint8Array | undefined;
  const inProcess: PerceptionEstimator = {
    intrinsics: CAMERA, inputWidth: 32, inputHeight: 24, encoding: "rgb8", jointNames: ["arm_joint", "pendulum_joint"],
    estimate(image: PackedImage): Float64Array {
      const prev = previous ?? image.data;
      const both = new Uint8Array(32 * 24 * 6);
      for (let p = 0; p < 32 * 24; p++) {
        both.set(prev.subarray(p * 3, p * 3 + 3), p * 6);
        both.set(image.data.subarray(p * 3, p * 3 + 3), p * 6 + 3);
      }
      previous = image.data.slice();
      return net.anglesOf(net.forward(ctx, both, 1).joints, 1);
    },
  };
  const ref = await evalVisionRecording(rec, inProcess);
  for (const j of ["arm_joint", "pendulum_joint"]) {
    assert.ok(Math.abs(viaOnnx.joints[j].rmseDeg - ref.joints[j]!.rmseDeg) < 1e-2, `${j}: ${viaOnnx.joints[j].rmseDeg} vs ${ref.joints[j]!.rmseDeg}`);
  }
  net.dispose();
});
