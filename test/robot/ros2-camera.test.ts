/**
 * A camera on the robot over Cyclone DDS (loopback): camera_info checked
 * against the model's camera before starting, frames decoded from the
 * stream's encoding, a stale frame refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cameraInfoToMessage } from "../../robot/log/image-messages.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { openCycloneTransport } from "../../robot/ros2/cyclone/transport.js";
import { timeFromMs } from "../../robot/ros2/messages.js";
import { CameraMismatchError, Ros2Camera, StaleFrameError } from "../../robot/ros2/ros2-camera.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { decodeImage } from "../../sim/sensors/image.js";
import { cycloneAvailable } from "./cyclone-available.js";

const domainId = randomLoopbackDomainId();
useLoopbackCyclone();
const K: CameraIntrinsics = { width: 8, height: 4, fx: 10, fy: 10, cx: 3.5, cy: 1.5, distortionModel: "none", distortion: [] };

/** A yuv422_yuy2 frame, 2 bytes of row padding: Y = 16 + 20 x, U = V = 128 (greys). */
function yuyv(): Uint8Array {
  const step = 8 * 2 + 2;
  const d = new Uint8Array(step * 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x += 2) d.set([16 + 20 * x, 128, 16 + 20 * (x + 1), 128], y * step + 2 * x);
  return d;
}

test("deploy's camera: camera_info mismatch refused saying what differs; frames decoded; a stale frame stops", async (t) => {
  if (!cycloneAvailable(t)) return;
  const pub = openCycloneTransport({ domainId });
  const sub = openCycloneTransport({ domainId });
  const info = pub.createPublisher("/camera/camera_info", "sensor_msgs/msg/CameraInfo", { reliability: "best_effort", depth: 5 });
  const images = pub.createPublisher("/camera/image_raw", "sensor_msgs/msg/Image", { reliability: "best_effort", depth: 5 });
  let publishing = true;
  let actual = { ...K, fx: 12 };
  const timer = setInterval(() => {
    if (!publishing) return;
    info.publish(cameraInfoToMessage(actual, BigInt(Date.now()) * 1_000_000n, "cam") as never);
    images.publish({ header: { stamp: timeFromMs(Date.now()), frame_id: "cam" }, height: 4, width: 8, encoding: "yuv422_yuy2", is_bigendian: 0, step: 18, data: yuyv() });
  }, 20);
  try {
    await assert.rejects(
      Ros2Camera.open(sub, { expected: { intrinsics: K, encoding: "mono8" }, latencyBudgetMs: 200 }),
      (e: unknown) => e instanceof CameraMismatchError && /not the one the model was trained for, so the robot was not started:\n  fx: expected 10 px, got 12 px/.test(e.message),
    );
    await assert.rejects(Ros2Camera.open(sub, { infoTopic: "/nothing/camera_info", expected: { intrinsics: K, encoding: "mono8" }, latencyBudgetMs: 200, infoTimeoutMs: 300 }), /no message on \/nothing\/camera_info within 300 ms: the camera's calibration is needed before starting/);
    actual = K;
    const cam = await Ros2Camera.open(sub, { expected: { intrinsics: K, encoding: "mono8" }, latencyBudgetMs: 200 });
    try {
      const t0 = performance.now();
      let f;
      while (!f) {
        try {
          f = cam.frame();
        } catch (e) {
          if (!(e instanceof StaleFrameError) || performance.now() - t0 > 5000) throw e;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      assert.equal(f.image.encoding, "yuv422_yuy2");
      assert.equal(f.image.step, 18);
      assert.deepEqual(Array.from(decodeImage(f.image, "mono8").data.subarray(0, 8)), [16, 36, 56, 76, 96, 116, 136, 156]);
      assert.ok(f.ageMs <= 200);
      publishing = false;
      await new Promise((r) => setTimeout(r, 400));
      assert.throws(() => cam.frame(), (e: unknown) => e instanceof StaleFrameError && /\/camera\/image_raw is stale: the newest frame is \d+ ms old \(the latency budget is 200 ms\)/.test(e.message));
    } finally {
      cam.dispose();
    }
  } finally {
    clearInterval(timer);
    pub.dispose();
    sub.dispose();
  }
});
