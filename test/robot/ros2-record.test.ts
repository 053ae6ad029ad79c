/**
 * s2r record --ros2 over real Cyclone DDS on loopback: a publisher in this
 * process sends camera frames and joint states, the command records them,
 * and the file reads back frame for frame, paired with the joint states.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { main } from "../../launch/cli.js";
import { cameraInfoToMessage, encodePng } from "../../robot/log/image-messages.js";
import { readCameraRecording } from "../../robot/log/read-camera-recording.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { summarizeSessionLog } from "../../robot/log/summarize.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { openCycloneTransport } from "../../robot/ros2/cyclone/transport.js";
import { timeFromMs } from "../../robot/ros2/messages.js";
import { parseRecordTopics } from "../../robot/ros2/record-topics.js";
import { cycloneAvailable } from "./cyclone-available.js";

const domainId = randomLoopbackDomainId();
useLoopbackCyclone();
const dir = mkdtempSync(join(tmpdir(), "s2r-record-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Frame k: bgr8 320x240 with 8 bytes of row padding; its first bytes carry k so frames are told apart. */
function frame(k: number): Uint8Array {
  const step = 320 * 3 + 8;
  const d = new Uint8Array(step * 240);
  for (let y = 0; y < 240; y++) d.fill((y + k) & 0xff, y * step, y * step + 960);
  d[0] = k & 0xff;
  d[1] = k >> 8;
  return d;
}

test("topics and their types are parsed, with errors naming the entry", () => {
  assert.deepEqual(parseRecordTopics(["/camera/image_raw,/joint_states", "/cmd:std_msgs/msg/Float64MultiArray", "/camera/camera_info", "/camera/image_raw/compressed"]), [
    { topic: "/camera/image_raw", type: "sensor_msgs/msg/Image" },
    { topic: "/joint_states", type: "sensor_msgs/msg/JointState" },
    { topic: "/cmd", type: "std_msgs/msg/Float64MultiArray" },
    { topic: "/camera/camera_info", type: "sensor_msgs/msg/CameraInfo" },
    { topic: "/camera/image_raw/compressed", type: "sensor_msgs/msg/CompressedImage" },
  ]);
  assert.throws(() => parseRecordTopics(["/x:sensor_msgs/msg/Imu"]), /--topics: \/x:sensor_msgs\/msg\/Imu: unsupported type "sensor_msgs\/msg\/Imu"/);
  assert.throws(() => parseRecordTopics(["camera"]), /"camera" is not a ROS 2 topic name/);
  assert.throws(() => parseRecordTopics(["/joint_states,/joint_states"]), /listed twice/);
  assert.throws(() => parseRecordTopics([]), /no topics given/);
});

test("s2r record --ros2 records camera frames and joint states a rig publishes over Cyclone DDS", async (t) => {
  if (!cycloneAvailable(t)) return;
  const pub = openCycloneTransport({ domainId });
  const images = pub.createPublisher("/camera/image_raw", "sensor_msgs/msg/Image", { reliability: "best_effort", depth: 5 });
  const joints = pub.createPublisher("/joint_states", "sensor_msgs/msg/JointState");
  const png = pub.createPublisher("/camera/image_raw/compressed", "sensor_msgs/msg/CompressedImage", { reliability: "best_effort", depth: 5 });
  const pngBytes = encodePng({ width: 8, height: 4, encoding: "rgb8", data: Uint8Array.from({ length: 96 }, (_, i) => i * 2) });
  const info = pub.createPublisher("/camera/camera_info", "sensor_msgs/msg/CameraInfo", { reliability: "best_effort", depth: 5 });
  const K: CameraIntrinsics = { width: 320, height: 240, fx: 301.5, fy: 300.25, cx: 159.75, cy: 121.5, distortionModel: "plumb_bob", distortion: [0.12, -0.3, 0.001, -0.002, 0.05] };
  assert.throws(() => info.publish({ ...cameraInfoToMessage(K, 0n, "cam"), k: [1, 2, 3] } as never), /sensor_msgs\/msg\/CameraInfo: k must hold exactly 9 numbers/);
  const sent = new Map<number, number>(); // frame k -> stamp ms
  let k = 0;
  let j = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    joints.publish({ header: { stamp: timeFromMs(now), frame_id: "" }, name: ["arm_joint", "pendulum_joint"], position: [0.001 * j, 3 - 0.002 * j], velocity: [0.1, -0.2], effort: [] });
    j++;
    if (j % 3 === 0) {
      sent.set(k, now);
      images.publish({ header: { stamp: timeFromMs(now), frame_id: "cam" }, height: 240, width: 320, encoding: "bgr8", is_bigendian: 0, step: 968, data: frame(k) });
      info.publish(cameraInfoToMessage(K, BigInt(now) * 1_000_000n, "cam") as never);
      png.publish({ header: { stamp: timeFromMs(now), frame_id: "cam" }, format: "rgb8; png compressed rgb8", data: pngBytes });
      k++;
    }
  }, 10);
  const file = join(dir, "rec.mcap");
  let out = "";
  let err = "";
  try {
    const code = await main(["record", "--ros2", "--topics", "/camera/image_raw,/joint_states,/camera/camera_info,/camera/image_raw/compressed", "--duration", "2", "--out", file, "--domain", String(domainId), "--json"], {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      interactive: false,
      signal: new AbortController().signal,
    });
    assert.equal(code, 0, err);
  } finally {
    clearInterval(timer);
    pub.dispose();
  }
  const r = JSON.parse(out) as { counts: Record<string, number>; seconds: number };
  assert.ok(r.seconds >= 2 && r.seconds < 4, `recorded ${r.seconds} s`);
  // 2 s at 100 Hz and ~33 Hz, less discovery time and timer slack on a loaded machine.
  assert.ok(r.counts["/joint_states"]! > 60, JSON.stringify(r.counts));
  assert.ok(r.counts["/camera/image_raw"]! > 20, JSON.stringify(r.counts));
  assert.match(err, /record/);

  const seen: number[] = [];
  const rec = await readCameraRecording(file, {
    imageTopic: "/camera/image_raw",
    onFrame: ({ image, stampNs }) => {
      const kk = image.data[0]! | (image.data[1]! << 8);
      assert.equal(image.encoding, "bgr8");
      assert.equal(image.step, 968);
      assert.deepEqual(image.data.subarray(2), frame(kk).subarray(2), `frame ${kk} intact`);
      // Header stamps survive (ms -> ns conversion rounding aside).
      assert.ok(Math.abs(Number(stampNs) / 1e6 - sent.get(kk)!) < 0.01, `frame ${kk} stamp`);
      seen.push(kk);
    },
  });
  assert.equal(rec.imageTopic, "/camera/image_raw");
  assert.equal(rec.jointTopic, "/joint_states");
  // CameraInfo went through the addon's C conversion both ways and into the file.
  assert.equal(rec.cameraInfoTopic, "/camera/camera_info");
  assert.deepEqual(rec.cameraInfo, K);
  assert.ok(seen.length >= r.counts["/camera/image_raw"]! - 2, `${seen.length} frames paired of ${r.counts["/camera/image_raw"]}`);
  const s = await summarizeSessionLog(file);
  assert.equal(s.session, "record");
  assert.equal(s.closedCleanly, true);
  assert.deepEqual(s.images.map((i) => [i.topic, i.width, i.height, i.encoding]), [["/camera/image_raw", 320, 240, "bgr8"], ["/camera/image_raw/compressed", 8, 4, "rgba8"]]);
  assert.ok(Math.abs(s.images[0]!.rateHz! - 33) < 10, `image rate ${s.images[0]!.rateHz}`);
});

test("s2r record stopped by Ctrl-C closes its file cleanly; killed, it leaves a readable file", async (t) => {
  if (!cycloneAvailable(t)) return;
  const { spawn } = await import("node:child_process");
  const { projectPath } = await import("../../common/paths.js");
  const { readSessionLog } = await import("../../robot/log/read-session-log.js");
  const pub = openCycloneTransport({ domainId });
  const joints = pub.createPublisher("/joint_states", "sensor_msgs/msg/JointState", { reliability: "best_effort" });
  const images = pub.createPublisher("/camera/image_raw", "sensor_msgs/msg/Image", { reliability: "best_effort", depth: 5 });
  let j = 0;
  const timer = setInterval(() => {
    const stamp = timeFromMs(Date.now());
    joints.publish({ header: { stamp, frame_id: "" }, name: ["arm_joint"], position: [0.01 * j++], velocity: [0], effort: [] });
    images.publish({ header: { stamp, frame_id: "cam" }, height: 240, width: 320, encoding: "bgr8", is_bigendian: 0, step: 968, data: frame(j) });
  }, 10);
  const run = async (signal: NodeJS.Signals, file: string) => {
    const child = spawn(process.execPath, [projectPath("bin", "s2r.js"), "record", "--ros2", "--topics", "/camera/image_raw,/joint_states", "--duration", "30", "--out", file, "--domain", String(domainId)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    // Long enough for discovery and more than one flush interval of data.
    await new Promise((r) => setTimeout(r, 3000));
    child.kill(signal);
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    return { code, err };
  };
  try {
    const intFile = join(dir, "int.mcap");
    const int = await run("SIGINT", intFile);
    assert.equal(int.code, 0, int.err);
    const a = await readSessionLog(intFile);
    assert.equal(a.closedCleanly, true);
    assert.ok(a.channels.find((c) => c.topic === "/camera/image_raw")!.messageCount > 10, "frames recorded before Ctrl-C");

    const killFile = join(dir, "kill.mcap");
    await run("SIGKILL", killFile);
    const b = await readSessionLog(killFile);
    assert.equal(b.closedCleanly, false);
    assert.ok(b.truncated);
    // Sealed at least every 0.5 s: all but the last fraction of a second is there and decodes.
    const frames = b.channels.find((c) => c.topic === "/camera/image_raw")!.messageCount;
    assert.ok(frames > 10, `${frames} frames survived the kill`);
  } finally {
    clearInterval(timer);
    pub.dispose();
  }
});
