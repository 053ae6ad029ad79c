import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { evalVisionRecording } from "../../calibration/vision/vision-eval.js";
import { novelLook, recordSimCamera } from "../../calibration/vision/sim-camera-recording.js";
import { PerceptionNet } from "../../policies/perception/perception-net.js";
import { writeVisionExport } from "../../policies/perception/vision-export.js";
import { loadPerceptionEstimator } from "../../launch/vision/load-perception.js";
import { heavyVisualRandomization } from "../../sim/render/heavy-visual-spec.js";
import { centredCrop } from "../../sim/sensors/image-resize.js";
import { cameraConfigSchema } from "../../sim/sensors/camera-config.js";
import { FURUTA_CAMERA as FURUTA_CAMERA_DOC } from "../../sim/tasks/furuta/config.js";

const FURUTA_CAMERA = cameraConfigSchema.parse(FURUTA_CAMERA_DOC, "camera");

const dir = mkdtempSync(join(tmpdir(), "s2r-simrec-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the novel look lies outside the training randomization on every entry it sets", () => {
  const training = heavyVisualRandomization(["base", "arm", "pendulum"], "front");
  for (const e of novelLook("front")) {
    const t = training.find((x) => x.target === e.target) as { low: number; high: number } | undefined;
    assert.ok(t, `${e.target} is a training target`);
    assert.ok(e.low > t.high || e.high < t.low, `${e.target}: [${e.low}, ${e.high}] overlaps training's [${t.low}, ${t.high}]`);
  }
});

test("vision eval reads a simulated novel-look recording: every frame paired with joint states, camera matching", async () => {
  const file = join(dir, "novel.mcap");
  const r = await recordSimCamera(file, { task: "furuta", taskConfig: {}, look: "novel", frames: 12, seed: 3 });
  assert.equal(r.camera, "front");
  const net = PerceptionNet.create({ inputWidth: 32, inputHeight: 32, framesStacked: 2, groups: 4, conv: [{ channels: 8, kernel: 3, stride: 2 }], head: [8] }, { seed: 1, capacityMiB: 32 });
  try {
    writeVisionExport(dir, net, { camera: FURUTA_CAMERA, crop: centredCrop(FURUTA_CAMERA.intrinsics.width, FURUTA_CAMERA.intrinsics.height, 32, 32), training: { run: dir, config: {} } });
  } finally {
    net.dispose();
  }
  const estimator = await loadPerceptionEstimator(dir);
  try {
    const result = await evalVisionRecording(file, estimator);
    assert.equal(result.frames, 12);
    assert.equal(result.unpaired, 0);
    assert.deepEqual(Object.keys(result.joints).sort(), ["arm_joint", "pendulum_joint"]);
    assert.deepEqual(result.camera.differences, []);
    for (const s of Object.values(result.joints)) assert.ok(Number.isFinite(s.rmseDeg));
  } finally {
    estimator.dispose?.();
  }
});
