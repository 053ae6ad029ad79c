/**
 * `s2r emulate --ros2 --camera`: the emulator's camera seen from outside over
 * Cyclone DDS on loopback, as deploy sees it: frames at the camera's rate,
 * stamped at the exposure and arriving about its latency later, camera_info
 * that Ros2Camera accepts for the rig's camera (and refuses for another),
 * the hidden look differing between seeds, and the joint states still served
 * at their rate while frames render.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../launch/cli.js";
import { loadRigConfig } from "../../robot/rigs/rig-config.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { openCycloneTransport } from "../../robot/ros2/cyclone/transport.js";
import { waitForMatch } from "../../robot/ros2/match.js";
import { timeToMs, type CameraInfo, type Image } from "../../robot/ros2/messages.js";
import { CameraMismatchError, Ros2Camera } from "../../robot/ros2/ros2-camera.js";
import { SENSOR_DATA_QOS } from "../../robot/ros2/qos.js";
import { cameraInfoFromMessage } from "../../robot/log/image-messages.js";
import { getTask } from "../../sim/tasks/registry.js";
import { cycloneAvailable } from "./cyclone-available.js";
import { spawnEmulator } from "./emulator-process.js";

const rig = loadRigConfig("furuta");
const camera = getTask("furuta").configSchema.parse({}, "task").robot.cameras[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the rig file declares its camera: topics, encoding, latency budget", () => {
  assert.deepEqual(rig.camera, { name: "front", imageTopic: "/camera/image_raw", infoTopic: "/camera/camera_info", encoding: "rgb8", latencyBudgetMs: 100, frameId: "camera" });
});

test("s2r emulate: --camera is for --ros2", async () => {
  let err = "";
  const code = await main(["emulate", "furuta", "--link", "/tmp/x", "--camera"], { out: () => {}, err: (t) => (err += t), interactive: false, signal: new AbortController().signal });
  assert.equal(code, 2);
  assert.match(err, /--camera is for --ros2/);
});

/** Runs the emulator with --camera for `ms` of frames; returns what a subscriber saw and the emulator's own report. */
async function watchCamera(seed: number, ms: number, during?: (domainId: number) => Promise<void>) {
  useLoopbackCyclone();
  const domainId = randomLoopbackDomainId();
  const emu = spawnEmulator(["furuta", "--ros2", "--camera", "--seed", String(seed), "--domain", String(domainId), "--json"]);
  const transport = openCycloneTransport({ domainId });
  const images: { msg: Image; at: number; wall: number }[] = [];
  const infos: CameraInfo[] = [];
  let states = 0;
  try {
    const ready = await emu.ready();
    const img = transport.createSubscription("/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA_QOS, (msg, info) => images.push({ msg, at: info.receivedAt, wall: Date.now() }));
    const inf = transport.createSubscription("/camera/camera_info", "sensor_msgs/msg/CameraInfo", SENSOR_DATA_QOS, (msg) => infos.push(msg));
    const js = transport.createSubscription("/joint_states", "sensor_msgs/msg/JointState", undefined, () => states++);
    await waitForMatch(img, { timeoutMs: 5000 });
    await waitForMatch(inf, { timeoutMs: 5000 });
    await waitForMatch(js, { timeoutMs: 5000 });
    for (let i = 0; i < 100 && images.length === 0; i++) await sleep(50);
    const first = images.length;
    const statesAt = states;
    const t0 = performance.now();
    await sleep(ms);
    const seconds = (performance.now() - t0) / 1000;
    const rate = (images.length - first) / seconds;
    const stateRate = (states - statesAt) / seconds;
    if (during) await during(domainId);
    img.dispose();
    inf.dispose();
    js.dispose();
    emu.child.kill("SIGTERM");
    assert.equal(await emu.exited, 0, emu.err());
    const stopped = JSON.parse(emu.out().trim().split("\n").at(-1)!);
    return { ready: ready as { camera: unknown }, images, infos, rate, stateRate, stopped, err: emu.err() };
  } finally {
    transport.dispose();
    if (emu.child.exitCode === null) emu.child.kill("SIGTERM");
  }
}

test("s2r emulate --ros2 --camera publishes frames and camera_info at the camera's rate and latency, with a look drawn by the seed", async (t) => {
  if (!cycloneAvailable(t)) return;
  let accepted: Ros2Camera | undefined;
  let refused: unknown;
  const a = await watchCamera(3, 2000, async (domainId) => {
    const transport = openCycloneTransport({ domainId });
    try {
      accepted = await Ros2Camera.open(transport, { expected: { intrinsics: camera.intrinsics, encoding: "rgb8" }, latencyBudgetMs: rig.camera!.latencyBudgetMs });
      // camera_info came first; the first frame follows within a frame period or so.
      let frame;
      for (let i = 0; i < 100 && !frame; i++) {
        try {
          frame = accepted.frame();
        } catch {
          await sleep(10);
        }
      }
      assert.ok(frame, "a frame through Ros2Camera");
      assert.equal(frame.image.width, 320);
      accepted.dispose();
      refused = await Ros2Camera.open(transport, { expected: { intrinsics: { ...camera.intrinsics, fx: 250 }, encoding: "rgb8" }, latencyBudgetMs: 100 }).catch((e) => e);
    } finally {
      transport.dispose();
    }
  });
  assert.deepEqual(a.ready.camera, { imageTopic: "/camera/image_raw", infoTopic: "/camera/camera_info", encoding: "rgb8", width: 320, height: 240, frameRate: 30, latencyMs: 20, lookSeed: 3 });
  // (Loaded test machines deliver late; the emulator's own count is checked below.)
  assert.ok(a.rate > 20 && a.rate < 34, `${a.rate.toFixed(1)} frames/s received (camera: 30)`);
  assert.ok(a.stateRate > 100, `joint states kept their rate while frames render: ${a.stateRate.toFixed(0)}/s`);
  assert.ok(accepted, "Ros2Camera accepts the emulator's camera for the rig's intrinsics");
  assert.ok(refused instanceof CameraMismatchError, `another camera is refused: ${refused}`);
  assert.match((refused as Error).message, /fx/);
  for (const { msg } of a.images) {
    assert.deepEqual([msg.width, msg.height, msg.encoding, msg.step, msg.data.length, msg.header.frame_id], [320, 240, "rgb8", 960, 320 * 240 * 3, "camera"]);
  }
  for (let i = 1; i < a.images.length; i++) {
    const dt = timeToMs(a.images[i]!.msg.header.stamp) - timeToMs(a.images[i - 1]!.msg.header.stamp);
    assert.ok(dt > 20, `stamps a frame period apart or more (${dt.toFixed(1)} ms)`);
  }
  // Stamped at the exposure: received the camera's latency later or more (Date.now() has whole ms, and the emulator stamps from performance.timeOrigin: allow 3 ms).
  const ages = a.images.map((f) => f.wall - timeToMs(f.msg.header.stamp)).sort((x, y) => x - y);
  assert.ok(ages[0]! >= 17, `the earliest frame arrived ${ages[0]!.toFixed(1)} ms after its exposure (latency 20 ms)`);
  assert.ok(ages[Math.floor(ages.length / 2)]! < 80, `median age ${ages[Math.floor(ages.length / 2)]!.toFixed(1)} ms`);
  assert.ok(a.infos.length > 10);
  assert.deepEqual(cameraInfoFromMessage(a.infos[0] as unknown as Record<string, unknown>), camera.intrinsics);
  // The hidden look: a near-black backdrop (training draws values 0.12..1); the corner pixel is backdrop.
  const corner = a.images[0]!.msg.data.subarray(0, 3);
  assert.ok(Math.max(...corner) < 110, `dark backdrop in the corner: ${[...corner]}`);
  const c = a.stopped.camera;
  assert.equal(a.stopped.event, "stopped");
  assert.ok(c.published > 40 && c.rateHz > 20, `emulator published ${c.published} frames at ${c.rateHz.toFixed(1)} Hz`);
  assert.ok(c.latencyMs.p50 >= 19.5 && c.latencyMs.p50 < 40, `exposure to publication p50 ${c.latencyMs.p50} ms (camera latency 20 ms)`);
  assert.match(a.err, /camera: \d+ frames published/);
  t.diagnostic(JSON.stringify({ receivedHz: a.rate, ...c }));
});
