import test from "node:test";
import assert from "node:assert/strict";
import { flatRenderer, litBox, robotWith, testCamera, TEST_INTRINSICS as K } from "./scene-helpers.js";

const RED = `<material><color rgba="1 0 0 1"/></material>`;
const GREEN = `<material><color rgba="0 1 0 1"/></material>`;

/** The edges of the lit pixels (left - 0.5 .. right + 0.5) are within half a pixel of where the intrinsics put the silhouette. */
function assertEdges(img: Uint8Array, expect: { uMin: number; uMax: number; vMin: number; vMax: number }): void {
  const b = litBox(img, K.width, K.height);
  const near = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 0.5, `${what}: pixel edge ${got}, projection ${want.toFixed(3)}`);
  near(b.left - 0.5, expect.uMin, "left");
  near(b.right + 0.5, expect.uMax, "right");
  near(b.top - 0.5, expect.vMin, "top");
  near(b.bottom + 0.5, expect.vMax, "bottom");
}

test("a box projects onto the pixels the intrinsics say (within half a pixel)", () => {
  const { render } = flatRenderer(robotWith(`<visual><geometry><box size="0.2 0.3 0.1"/></geometry>${RED}</visual>`));
  // Front face at x = -0.1: depth 0.9; image x = -world y, image y = -world z.
  const d = 0.9;
  assertEdges(render(), { uMin: K.cx - (K.fx * 0.15) / d, uMax: K.cx + (K.fx * 0.15) / d, vMin: K.cy - (K.fy * 0.05) / d, vMax: K.cy + (K.fy * 0.05) / d });
});

test("a cylinder projects onto the pixels the intrinsics say (within half a pixel)", () => {
  const { render } = flatRenderer(robotWith(`<visual><geometry><cylinder radius="0.1" length="0.2"/></geometry>${RED}</visual>`));
  // Widest at the axis's depth (1.0; the tessellation has vertices at +-90 degrees);
  // tallest at the near rim (depth 0.9).
  assertEdges(render(), { uMin: K.cx - K.fx * 0.1, uMax: K.cx + K.fx * 0.1, vMin: K.cy - (K.fy * 0.1) / 0.9, vMax: K.cy + (K.fy * 0.1) / 0.9 });
});

test("depth order: the nearer surface wins whatever the drawing order", () => {
  const far = `<visual><geometry><box size="0.1 0.3 0.3"/></geometry>${RED}</visual>`;
  const near = `<visual><origin xyz="-0.3 0 0" rpy="0 0 0"/><geometry><box size="0.05 0.1 0.1"/></geometry>${GREEN}</visual>`;
  for (const order of [far + near, near + far]) {
    const img = flatRenderer(robotWith(order)).render();
    const at = (x: number, y: number) => Array.from(img.subarray((y * K.width + x) * 3, (y * K.width + x) * 3 + 3));
    assert.deepEqual(at(30, 21), [0, 255, 0], "centre: the near green box");
    assert.deepEqual(at(30 + 6, 21), [255, 0, 0], "beside it: the far red box");
  }
});

test("near-plane clipping: a floor running from behind the camera to the horizon fills the lower image only", () => {
  const { render } = flatRenderer(robotWith(`<visual><origin xyz="0 0 -0.2" rpy="0 0 0"/><geometry><box size="4 1 0.02"/></geometry>${RED}</visual>`));
  const img = render();
  const px = (x: number, y: number) => img[(y * K.width + x) * 3]!;
  // The floor's top face reaches 3 m ahead: its far edge is at v = cy + 50 x 0.19 / 3 = cy + 3.2.
  for (let y = Math.ceil(K.cy + 4); y < K.height; y++) assert.equal(px(30, y), 255, `row ${y} shows the floor`);
  for (let y = 0; y < Math.floor(K.cy); y++) for (let x = 0; x < K.width; x++) assert.equal(px(x, y), 0, `row ${y} above the horizon is backdrop`);
  // The rows nearest the camera come from triangles clipped at the near plane: the bottom row is fully covered.
  for (let x = 0; x < K.width; x++) assert.equal(px(x, K.height - 1), 255, `bottom row, column ${x}`);
});

test("motion blur spreads along the motion: a box moving along image x widens, one moving along image y grows taller", () => {
  const slider = (axis: string) =>
    robotWith(
      "",
      `<joint name="slide" type="prismatic"><parent link="base"/><child link="block"/><axis xyz="${axis}"/><limit lower="-1" upper="1" effort="1" velocity="10"/></joint>
       <link name="block"><visual><geometry><box size="0.05 0.05 0.05"/></geometry>${RED}</visual></link>`,
    );
  const exposure = 0.02;
  const speed = 5; // 0.1 m during the exposure: about 5 px at depth 0.975
  const growth = (K.fx * speed * exposure) / 0.975;
  for (const [axis, grows] of [["0 1 0", "width"], ["0 0 1", "height"]] as const) {
    const { render } = flatRenderer(slider(axis), testCamera(exposure));
    const still = litBox(render([0], [0]), K.width, K.height);
    const moving = litBox(render([0], [speed]), K.width, K.height);
    const dw = moving.right - moving.left - (still.right - still.left);
    const dh = moving.bottom - moving.top - (still.bottom - still.top);
    const [along, across] = grows === "width" ? [dw, dh] : [dh, dw];
    assert.ok(Math.abs(along - growth) <= 1.5, `${axis}: grows ${along} px along the motion, expected ${growth.toFixed(1)}`);
    assert.ok(Math.abs(across) <= 0, `${axis}: grows ${across} px across the motion`);
  }
});

test("render rejects a wrong joint vector and a too-small output buffer, and use after dispose", () => {
  const { renderer, values } = flatRenderer(robotWith(`<visual><geometry><sphere radius="0.1"/></geometry></visual>`));
  assert.throws(() => renderer.render([0], undefined, values, { scene: 0, frame: 0 }, new Uint8Array(renderer.frameBytes)), /q has 1 entries, the robot has 0 moving joints/);
  assert.throws(() => renderer.render([], undefined, values, { scene: 0, frame: 0 }, new Uint8Array(10)), /out holds 10 bytes/);
  renderer.dispose();
  assert.throws(() => renderer.render([], undefined, values, { scene: 0, frame: 0 }, new Uint8Array(renderer.frameBytes)), /after dispose/);
});

test("plumb-bob distortion moves projections as the ROS model says", async () => {
  const { cameraConfigSchema } = await import("../../../sim/sensors/camera-config.js");
  const d = [0.1, -0.05, 0.002, -0.001, 0.01];
  const base = testCamera();
  const cam = cameraConfigSchema.parse({ ...base, intrinsics: { ...base.intrinsics, distortionModel: "plumb_bob", distortion: d } }, "camera");
  const { renderer, values } = flatRenderer(robotWith(`<visual><geometry><sphere radius="0.01"/></geometry></visual>`), cam);
  // World (0, -0.2, 0.1): optical x = 0.2, y = -0.1 at depth 1.
  const x = 0.2, y = -0.1, r2 = x * x + y * y;
  const radial = 1 + d[0]! * r2 + d[1]! * r2 * r2 + d[4]! * r2 * r2 * r2;
  const xd = x * radial + 2 * d[2]! * x * y + d[3]! * (r2 + 2 * x * x);
  const yd = y * radial + d[2]! * (r2 + 2 * y * y) + 2 * d[3]! * x * y;
  const uv = renderer.project([0, -0.2, 0.1], values)!;
  assert.ok(Math.abs(uv[0] - (K.fx * xd + K.cx)) < 1e-9 && Math.abs(uv[1] - (K.fy * yd + K.cy)) < 1e-9, `${uv}`);
});

test("a camera mounted on a link no URDF has, or on a moving link, is an error naming the field", async () => {
  const { getTask } = await import("../../../sim/tasks/registry.js");
  const { setupTask } = await import("../../../sim/env/sim-env.js");
  const { FURUTA_CAMERA } = await import("../../../sim/tasks/furuta/config.js");
  const task = getTask("furuta");
  const withMount = (parent: string) => task.configSchema.parse({ robot: { cameras: [{ ...FURUTA_CAMERA, mount: { ...FURUTA_CAMERA.mount, parent } }] } }, "config");
  assert.throws(() => setupTask(task, withMount("tripod")), /robot\.cameras\[0\]\.mount\.parent: no link "tripod"/);
  const setup = setupTask(task, withMount("arm"));
  const { Renderer } = await import("../../../sim/render/renderer.js");
  assert.throws(() => new Renderer(setup.model, setup.visualTable, { camera: setup.config.robot.cameras[0]! }), /link arm is moved by a joint; a camera on a moving link is not supported/);
});
