import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cameraConfigSchema, type CameraConfig } from "../../sim/sensors/camera-config.js";
import { cameraDifferences } from "../../sim/sensors/camera-compare.js";
import { applyUserCamera, parseCameraYaml, readCameraFile } from "../../sim/sensors/camera-file.js";

// As cameracalibrator writes it, plus the s2r mount block.
const YAML = `image_width: 640
image_height: 480
camera_name: rig_cam
camera_matrix:
  rows: 3
  cols: 3
  data: [612.5, 0, 318.2, 0, 611.9, 241.7, 0, 0, 1]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [0.11, -0.23, 0.001, -0.002, 0.05]
rectification_matrix:
  rows: 3
  cols: 3
  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]
projection_matrix:
  rows: 3
  cols: 4
  data: [620.1, 0, 317.9, 0, 0, 619.8, 242.0, 0, 0, 0, 1, 0]
mount:
  parent: world
  xyz: [0.45, 0.0, 0.32]
  rpy: [-1.5708, 0, -1.5708]
`;

const base: CameraConfig = cameraConfigSchema.parse(
  {
    name: "furuta_cam",
    mount: { parent: "base_link", xyz: [0.3, 0, 0.2], rpy: [0, 0, 0] },
    intrinsics: { width: 320, height: 240, fx: 300, fy: 300, cx: 159.5, cy: 119.5 },
    frameRate: 60,
  },
  "camera",
);

test("a camera_calibration YAML with a mount block becomes intrinsics and a mount", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-cam-"));
  const file = join(dir, "cam.yaml");
  writeFileSync(file, YAML);
  const cam = readCameraFile(file);
  assert.equal(cam.name, "rig_cam");
  assert.deepEqual(cam.intrinsics, { width: 640, height: 480, fx: 612.5, fy: 611.9, cx: 318.2, cy: 241.7, distortionModel: "plumb_bob", distortion: [0.11, -0.23, 0.001, -0.002, 0.05] });
  assert.deepEqual(cam.mount, { parent: "world", xyz: [0.45, 0, 0.32], rpy: [-1.5708, 0, -1.5708] });
  const merged = applyUserCamera(base, cam);
  assert.equal(merged.name, "rig_cam");
  assert.equal(merged.intrinsics.width, 640);
  assert.equal(merged.mount.parent, "world");
  assert.equal(merged.frameRate, 60, "timing the file leaves out keeps the rig's");
  // Without a mount block the rig config's mount stays; all-zero plumb_bob is no distortion.
  const plain = parseCameraYaml(YAML.replace(/mount:[\s\S]*$/, "").replace("0.11, -0.23, 0.001, -0.002, 0.05", "0, 0, 0, 0, 0"));
  assert.equal(plain.mount, undefined);
  assert.equal(plain.intrinsics.distortionModel, "none");
  assert.deepEqual(applyUserCamera(base, plain).mount, base.mount);
});

test("a wrong camera file is refused naming the file and the field", () => {
  assert.throws(() => parseCameraYaml(YAML.replace("data: [612.5, 0, 318.2, 0, 611.9, 241.7, 0, 0, 1]", "data: [612.5, 0, 318.2, 0, 611.9, 241.7]"), "cam.yaml"), /cam\.yaml: camera_matrix\.data: expected 9 numbers/);
  assert.throws(() => parseCameraYaml(YAML.replace("image_width: 640", "image_width: -640"), "cam.yaml"), /cam\.yaml: image_width: expected an integer >= 1, got -640/);
  assert.throws(() => parseCameraYaml(YAML.replace("distortion_model: plumb_bob", "distortion_model: equidistant"), "cam.yaml"), /cam\.yaml: distortion_model: "equidistant" is not supported/);
  assert.throws(() => parseCameraYaml(YAML.replace("0.11, -0.23, 0.001, -0.002, 0.05", "0.11, -0.23, 0.001, -0.002"), "cam.yaml"), /distortion_coefficients\.data: expected rows \* cols = 5 numbers, got 4/);
  assert.throws(() => parseCameraYaml(YAML.replace("  xyz: [0.45, 0.0, 0.32]", "  xyz: [0.45, 0.0]"), "cam.yaml"), /cam\.yaml: mount\.xyz: expected at least 3 entries/);
  assert.throws(() => parseCameraYaml(YAML.replace("camera_name:", "camera_nmae:"), "cam.yaml"), /cam\.yaml: camera_nmae: unknown field/);
  assert.throws(() => parseCameraYaml(YAML.replace("[612.5, 0, 318.2", "[612.5, 2, 318.2"), "cam.yaml"), /camera_matrix\.data\[1\]: skew 2 is not supported/);
  assert.throws(() => parseCameraYaml("image_width: [1\n", "cam.yaml"), /cam\.yaml: \(root\): not valid YAML/);
  assert.throws(() => readCameraFile("/nonexistent/cam.yaml"), /\/nonexistent\/cam\.yaml: \(root\): cannot read file: ENOENT/);
});

test("camera comparison says what differs", () => {
  const k = base.intrinsics;
  assert.deepEqual(cameraDifferences(k, { ...k, fx: 300.2 }, { expected: "rgb8", actual: "bgr8" }), []);
  const diffs = cameraDifferences(k, { ...k, width: 640, height: 480, cx: 319.5, distortionModel: "plumb_bob", distortion: [0.1, 0, 0, 0, 0] }, { expected: "rgb8", actual: "mono8" });
  assert.deepEqual(diffs, [
    "image size: expected 320x240, got 640x480",
    "cx: expected 159.5 px, got 319.5 px (tolerance 0.5 px)",
    "distortion: expected none, got plumb_bob [0.1, 0, 0, 0, 0]",
    "encoding: the model takes colour (rgb8) but the camera sends mono8",
  ]);
  assert.deepEqual(cameraDifferences(k, { ...k, distortionModel: "plumb_bob", distortion: [0, 0, 0, 0, 0] }), [], "zero plumb_bob equals none");
});
