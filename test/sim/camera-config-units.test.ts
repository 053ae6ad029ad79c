import test from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../common/schema.js";
import { cameraConfigSchema, validateCameraConfig } from "../../sim/sensors/camera-config.js";

const intrinsics = { width: 640, height: 480, fx: 600, fy: 600, cx: 319.5, cy: 239.5 };

test("camera mount and timing accept units and load to the same figures as plain numbers", () => {
  const plain = cameraConfigSchema.parse({ name: "top", mount: { xyz: [0, 0.15, 0.4], rpy: [Math.PI, 0, Math.PI / 2] }, intrinsics, frameRate: 60, exposure: 0.002, latency: 0.015 }, "camera");
  const units = cameraConfigSchema.parse({ name: "top", mount: { xyz: ["0 m", "15 cm", "400 mm"], rpy: ["180 deg", 0, "90 deg"] }, intrinsics, frameRate: "60 Hz", exposure: "2 ms", latency: "15 ms" }, "camera");
  validateCameraConfig(units);
  assert.deepEqual(units.mount.xyz, plain.mount.xyz);
  units.mount.rpy.forEach((a, i) => assert.ok(Math.abs(a - plain.mount.rpy[i]!) < 1e-14, `rpy[${i}]`));
  assert.deepEqual([units.frameRate, units.exposure, units.latency], [plain.frameRate, plain.exposure, plain.latency]);
});

test("a camera figure with the wrong unit names the field", () => {
  const parse = (over: object) => () => cameraConfigSchema.parse({ name: "top", mount: { xyz: [0, 0, 0.4], rpy: [0, 0, 0] }, intrinsics, ...over }, "camera");
  assert.throws(parse({ mount: { xyz: [0, "15 deg", 0.4], rpy: [0, 0, 0] } }), (e: unknown) => e instanceof ConfigError && e.path === "camera.mount.xyz[1]" && /expected a length \(m\), got "15 deg"/.test(e.message));
  assert.throws(parse({ exposure: "2 Hz" }), /camera\.exposure: expected a time \(s\), got "2 Hz"/);
  assert.throws(parse({ frameRate: "sixty Hz" }), /camera\.frameRate: cannot read "sixty Hz"/);
});
