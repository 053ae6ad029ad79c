import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { McapWriter } from "@mcap/core";
import jpeg from "jpeg-js";
import protobuf from "protobufjs";
import "protobufjs/ext/descriptor.js";
import { CameraLog } from "../../robot/log/camera-log.js";
import { cameraInfoFromMessage, decodeImageMessage, messageToImage } from "../../robot/log/image-messages.js";
import { readSessionLog, type LoggedMessage } from "../../robot/log/read-session-log.js";
import { COMPRESSED_IMAGE_SCHEMA, rosTime } from "../../robot/log/schemas.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { formatSessionSummary, summarizeSessionLog } from "../../robot/log/summarize.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { decodeImage } from "../../sim/sensors/image.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-log-images-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = 1_760_000_000_000_000_000n;
const at = (ms: number) => T0 + BigInt(ms) * 1_000_000n;

function pattern(w: number, h: number, bpp: number, step: number, seed: number): Uint8Array {
  const d = new Uint8Array(step * h);
  for (let y = 0; y < h; y++) for (let i = 0; i < w * bpp; i++) d[y * step + i] = (y * 31 + i * 7 + seed) & 0xff;
  return d;
}

async function readAll(file: string) {
  const byTopic = new Map<string, LoggedMessage[]>();
  const info = await readSessionLog(file, { onMessage: (m) => void (byTopic.get(m.topic) ?? byTopic.set(m.topic, []).get(m.topic)!).push(m) });
  return { info, byTopic };
}

test("raw frames (bgr8 with row padding) and camera_info round-trip through a session log", async () => {
  const file = join(dir, "raw.mcap");
  const log = SessionLog.create(file, { session: "deploy", closeOnExit: false });
  const cam = new CameraLog(log, { frameId: "cam_optical" });
  const k: CameraIntrinsics = { width: 10, height: 6, fx: 9.5, fy: 9.25, cx: 4.5, cy: 2.75, distortionModel: "plumb_bob", distortion: [0.1, -0.05, 0.001, 0, 0.02] };
  cam.info(k, at(0));
  const frames = [0, 1, 2, 3].map((i) => ({ width: 10, height: 6, encoding: "bgr8", step: 33, data: pattern(10, 6, 3, 33, i) }));
  frames.forEach((f, i) => cam.frame(f, at(i * 33)));
  cam.estimate(["pendulum_joint"], [3.1], at(33));
  assert.throws(() => cam.estimate(["pendulum_joint"], [3.1, 0], at(33)), /1 joint names but 2 angles/);
  await log.close();
  const { byTopic } = await readAll(file);
  const images = byTopic.get("/camera/image_raw")!;
  assert.equal(images.length, 4);
  images.forEach((m, i) => {
    const { stampNs, image } = decodeImageMessage(m);
    assert.equal(stampNs, at(i * 33));
    assert.deepEqual(image, { ...frames[i]!, isBigEndian: false });
    assert.equal((m.decode().header as { frame_id: string }).frame_id, "cam_optical");
  });
  assert.deepEqual(cameraInfoFromMessage(byTopic.get("/camera/camera_info")![0]!.decode()), k);
  const est = byTopic.get("/camera/perception/joint_states")![0]!.decode() as { name: string[]; position: number[]; header: { frame_id: string } };
  assert.deepEqual([est.name, est.position, est.header.frame_id], [["pendulum_joint"], [3.1], "cam_optical"]);

  const s = await summarizeSessionLog(file);
  assert.deepEqual(
    s.images.map(({ rateHz, ...rest }) => ({ ...rest, rate: Math.round(rateHz!) })),
    [{ topic: "/camera/image_raw", type: "sensor_msgs/msg/Image", frames: 4, width: 10, height: 6, encoding: "bgr8", rate: 30 }],
  );
  assert.match(formatSessionSummary(s), /images:\n  \/camera\/image_raw  4 frames  30\.3 Hz  10x6 bgr8/);
});

test("PNG (CameraLog) and JPEG (jpeg-js) compressed frames decode back", async () => {
  const file = join(dir, "compressed.mcap");
  const log = SessionLog.create(file, { session: "deploy", closeOnExit: false });
  const png = new CameraLog(log, { compressed: "png" });
  const rgb = { width: 8, height: 4, encoding: "rgb8", step: 24, data: pattern(8, 4, 3, 24, 5) };
  png.frame(rgb, at(0));
  png.frame({ width: 8, height: 4, encoding: "mono8", step: 10, data: pattern(8, 4, 1, 10, 9) }, at(10));
  // JPEG of flat 8x8 blocks: lossy, but flat blocks come back within a few levels.
  const jpg = log.channel("/cam2/image_raw/compressed", COMPRESSED_IMAGE_SCHEMA);
  const rgba = new Uint8Array(16 * 8 * 4);
  for (let p = 0; p < 16 * 8; p++) rgba.set(p % 16 < 8 ? [200, 40, 40, 255] : [30, 60, 220, 255], p * 4);
  jpg.write({ header: { stamp: rosTime(at(5)), frame_id: "cam2" }, format: "jpeg", data: new Uint8Array(jpeg.encode({ width: 16, height: 8, data: rgba }, 95).data) }, at(5));
  assert.equal(png.pendingFrames, 2, "PNG frames are encoded off the caller's thread");
  await png.close();
  assert.equal(png.pendingFrames, 0);
  await log.close();
  const { byTopic } = await readAll(file);
  const [p0, p1] = byTopic.get("/camera/image_raw/compressed")!.map(decodeImageMessage);
  assert.deepEqual(decodeImage(p0!.image, "rgb8").data, rgb.data, "PNG is lossless");
  assert.deepEqual(decodeImage(p1!.image, "mono8").data, decodeImage({ width: 8, height: 4, encoding: "mono8", step: 10, data: pattern(8, 4, 1, 10, 9) }, "mono8").data);
  const j = decodeImageMessage(byTopic.get("/cam2/image_raw/compressed")![0]!);
  assert.equal(j.stampNs, at(5));
  const back = decodeImage(j.image, "rgb8");
  for (const [x, c] of [[3, [200, 40, 40]], [12, [30, 60, 220]]] as const) {
    const px = Array.from(back.data.subarray((4 * 16 + x) * 3, (4 * 16 + x) * 3 + 3));
    px.forEach((v, i) => assert.ok(Math.abs(v - c[i]!) <= 6, `jpeg pixel ${x}: ${px} vs ${c}`));
  }
  const s = await summarizeSessionLog(file);
  assert.deepEqual(s.images.map((i) => [i.topic, i.width, i.height]), [["/camera/image_raw/compressed", 8, 4], ["/cam2/image_raw/compressed", 16, 8]]);
});

test("foxglove.RawImage in JSON and protobuf encodings decodes, stamp from its timestamp", async () => {
  const file = join(dir, "foxglove.mcap");
  const chunks: Uint8Array[] = [];
  let pos = 0n;
  const w = new McapWriter({ writable: { write: async (b: Uint8Array) => void (chunks.push(b.slice()), (pos += BigInt(b.length))), position: () => pos } });
  await w.start({ profile: "", library: "test" });
  const img = { width: 6, height: 3, encoding: "rgb8", step: 20, data: pattern(6, 3, 3, 20, 3) };
  // JSON: Foxglove's jsonschema encoding, bytes as base64, Time as {sec, nsec}.
  const jsonSchema = await w.registerSchema({ name: "foxglove.RawImage", encoding: "jsonschema", data: new TextEncoder().encode('{"type":"object"}') });
  const jsonCh = await w.registerChannel({ topic: "/fox/json", schemaId: jsonSchema, messageEncoding: "json", metadata: new Map() });
  const json = { timestamp: { sec: 1_760_000_000, nsec: 5_000_000 }, frame_id: "cam", width: 6, height: 3, encoding: "rgb8", step: 20, data: Buffer.from(img.data).toString("base64") };
  await w.addMessage({ channelId: jsonCh, sequence: 0, logTime: at(7), publishTime: at(7), data: new TextEncoder().encode(JSON.stringify(json)) });
  // Protobuf: the schema is a FileDescriptorSet, as Foxglove's SDK writes it.
  const root = new protobuf.Root();
  protobuf.parse(`syntax = "proto3"; package google.protobuf; message Timestamp { int64 seconds = 1; int32 nanos = 2; }`, root);
  protobuf.parse(
    `syntax = "proto3"; package foxglove; import "google/protobuf/timestamp.proto";
     message RawImage { google.protobuf.Timestamp timestamp = 1; string frame_id = 7; fixed32 width = 2; fixed32 height = 3; string encoding = 4; fixed32 step = 5; bytes data = 6; }`,
    root,
  );
  const RawImage = root.lookupType("foxglove.RawImage");
  const fds = (root.toDescriptor("proto3") as unknown as { $type: protobuf.Type }).$type.encode(root.toDescriptor("proto3")).finish();
  const pbSchema = await w.registerSchema({ name: "foxglove.RawImage", encoding: "protobuf", data: fds });
  const pbCh = await w.registerChannel({ topic: "/fox/pb", schemaId: pbSchema, messageEncoding: "protobuf", metadata: new Map() });
  const pbMsg = RawImage.encode(RawImage.fromObject({ timestamp: { seconds: 1_760_000_000, nanos: 9_000_000 }, frameId: "cam", width: 6, height: 3, encoding: "rgb8", step: 20, data: img.data })).finish();
  await w.addMessage({ channelId: pbCh, sequence: 0, logTime: at(9), publishTime: at(9), data: pbMsg });
  await w.end();
  writeFileSync(file, Buffer.concat(chunks));

  const { byTopic } = await readAll(file);
  const j = decodeImageMessage(byTopic.get("/fox/json")![0]!);
  assert.equal(j.stampNs, at(5));
  assert.deepEqual(j.image, { ...img, isBigEndian: false });
  const p = decodeImageMessage(byTopic.get("/fox/pb")![0]!);
  assert.equal(p.stampNs, at(9));
  assert.deepEqual({ ...p.image, data: Array.from(p.image.data) }, { ...img, data: Array.from(img.data), isBigEndian: false });
  const s = await summarizeSessionLog(file);
  assert.deepEqual(s.images.map((i) => [i.topic, i.type, `${i.width}x${i.height}`, i.encoding]), [["/fox/json", "foxglove.RawImage", "6x3", "rgb8"], ["/fox/pb", "foxglove.RawImage", "6x3", "rgb8"]]);
});

test("a malformed image message is refused naming the topic and field", () => {
  assert.throws(() => messageToImage({ width: 2, height: 1, encoding: "rgb8", data: new Uint8Array(6) }, "/camera/image_raw[3]"), /\/camera\/image_raw\[3\]\.step: expected a number, got nothing/);
});
