/**
 * The Cyclone DDS transport against the C test peer (native/peer), whose
 * samples are serialized by idlc-generated code: both directions, field by
 * field, over loopback only, on a domain of its own.
 *
 * Where Cyclone DDS is not installed these tests skip, saying why; in CI
 * (CI=true) a missing Cyclone fails them instead.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { openCycloneTransport } from "../../robot/ros2/cyclone/transport.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { TestPeer } from "../../robot/ros2/cyclone/peer.js";
import { openRos2Transport } from "../../robot/ros2/open.js";
import { waitForMatch } from "../../robot/ros2/match.js";
import { LatestMessage } from "../../robot/ros2/latest.js";
import type { Float64MultiArray, Image, JointState } from "../../robot/ros2/messages.js";
import { cycloneAvailable } from "./cyclone-available.js";

const STATE = "/joint_states";
const COMMAND = "/arm_voltage_controller/commands";
const JOINT_STATE = "sensor_msgs/msg/JointState";
const F64_ARRAY = "std_msgs/msg/Float64MultiArray";


const domainId = randomLoopbackDomainId();
useLoopbackCyclone();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

test("peer -> s2r: JointState arrives field by field", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = openCycloneTransport({ domainId });
  const received: JointState[] = [];
  const sourceLag: number[] = [];
  transport.createSubscription(STATE, JOINT_STATE, { reliability: "reliable" }, (msg, info) => {
    received.push(msg);
    sourceLag.push(Date.now() - info.sourceTime);
    assert.ok(info.receivedAt > 0 && info.receivedAt <= performance.now());
  });
  const peer = await TestPeer.start({ mode: "publish", domainId, rate: 200 });
  try {
    await withTimeout(
      (async () => {
        while (received.length < 20) await new Promise((r) => setTimeout(r, 5));
      })(),
      10000,
      "20 JointState messages from the peer",
    );
  } finally {
    await peer.stop();
    transport.dispose();
  }
  const published = peer.messages("published", JOINT_STATE) as unknown as JointState[];
  const key = (m: JointState) => `${m.header.stamp.sec}.${m.header.stamp.nanosec}`;
  const byStamp = new Map(published.map((m) => [key(m), m]));
  let previous = -1;
  for (const msg of received) {
    const sent = byStamp.get(key(msg));
    assert.ok(sent, `received a JointState the peer did not report publishing: ${JSON.stringify(msg)}`);
    assert.deepEqual(msg, sent);
    // Reliable, in order, no duplicates.
    const k = published.indexOf(sent);
    assert.ok(k > previous, "messages arrived out of order or twice");
    previous = k;
  }
  // Once matched, reliable QoS delivers every one: the received messages are a contiguous run.
  const first = published.indexOf(byStamp.get(key(received[0]!))!);
  assert.deepEqual(received, published.slice(first, first + received.length));
  assert.ok(received.some((m) => m.effort.length === 0) && received.some((m) => m.effort.length === 1), "both empty and non-empty effort sequences were exercised");
  assert.ok(sourceLag.every((ms) => ms > -1000 && ms < 5000), `source timestamps are epoch ms (lags ${sourceLag.slice(0, 3)})`);
});

test("s2r -> peer: JointState arrives field by field, and the peer's Float64MultiArray echo comes back", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = openCycloneTransport({ domainId });
  const echoes: Float64MultiArray[] = [];
  const peer = await TestPeer.start({ mode: "echo", domainId });
  try {
    const pub = transport.createPublisher(STATE, JOINT_STATE);
    const sub = transport.createSubscription(COMMAND, F64_ARRAY, undefined, (m) => echoes.push(m));
    await waitForMatch(pub, { timeoutMs: 5000 });
    await waitForMatch(sub, { timeoutMs: 5000 });
    const sent: JointState[] = [
      {
        header: { stamp: { sec: 1700000000, nanosec: 999999999 }, frame_id: "base_link" },
        name: ["arm_joint", "pendulum_joint"],
        position: [0.1, -Math.PI],
        velocity: [-0, 5e-324],
        effort: [1.7976931348623157e308, -2.5],
      },
      { header: { stamp: { sec: -2147483648, nanosec: 0 }, frame_id: "" }, name: [], position: [], velocity: [], effort: [] },
      { header: { stamp: { sec: 2147483647, nanosec: 1 }, frame_id: "ünïcode ☃" }, name: ["a", "b", "c"], position: [1, 2, 3], velocity: [], effort: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] },
    ];
    for (const m of sent) pub.publish(m);
    // A publisher may reuse one Float64Array per field; fields left out are zero / empty.
    const reused = new Float64Array([0.25, 0.5]);
    pub.publish({ header: { stamp: { sec: 3, nanosec: 4 } }, name: ["x", "y"], position: reused });
    reused[0] = 0.75;
    pub.publish({ header: { stamp: { sec: 3, nanosec: 5 } }, name: ["x", "y"], position: reused });
    sent.push(
      { header: { stamp: { sec: 3, nanosec: 4 }, frame_id: "" }, name: ["x", "y"], position: [0.25, 0.5], velocity: [], effort: [] },
      { header: { stamp: { sec: 3, nanosec: 5 }, frame_id: "" }, name: ["x", "y"], position: [0.75, 0.5], velocity: [], effort: [] },
    );
    await peer.waitFor((ev) => ev.filter((e) => e.event === "received").length >= sent.length, 5000, "the peer to receive every JointState");
    await withTimeout(
      (async () => {
        while (echoes.length < sent.length) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      "every echo",
    );
    assert.deepEqual(peer.messages("received", JOINT_STATE), sent);
    assert.deepEqual(
      echoes,
      sent.map((m) => ({
        layout: { dim: m.name.map((label) => ({ label, size: 1, stride: 1 })), data_offset: 2 },
        data: [m.header.stamp.sec, m.header.stamp.nanosec, ...m.position, ...m.velocity, ...m.effort],
      })),
    );
    assert.ok(Object.is(echoes[0]!.data[4], -0), "the sign of -0 survives both directions");
  } finally {
    transport.dispose();
    await peer.stop();
  }
});

test("s2r -> peer: Float64MultiArray commands arrive field by field", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = openCycloneTransport({ domainId });
  const peer = await TestPeer.start({ mode: "publish", domainId, rate: 1, count: 1 });
  try {
    const pub = transport.createPublisher(COMMAND, F64_ARRAY, { reliability: "reliable", durability: "volatile", depth: 10 });
    await waitForMatch(pub, { timeoutMs: 5000 });
    const sent: Float64MultiArray[] = [
      { layout: { dim: [], data_offset: 0 }, data: [1.5] },
      { layout: { dim: [{ label: "volts", size: 1, stride: 1 }, { label: "", size: 4294967295, stride: 0 }], data_offset: 4294967295 }, data: [-6, 6, 0.1 + 0.2] },
      { layout: { dim: [], data_offset: 0 }, data: [] },
    ];
    for (const m of sent) pub.publish(m);
    await peer.waitFor((ev) => ev.filter((e) => e.event === "received").length >= sent.length, 5000, "the peer to receive every command");
    assert.deepEqual(peer.messages("received", F64_ARRAY), sent);
  } finally {
    transport.dispose();
    await peer.stop();
  }
});

test("Image round trip through the peer keeps every byte and field", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = openCycloneTransport({ domainId });
  const peer = await TestPeer.start({ mode: "echo", domainId, imageIn: "/s2r_test/image_in", imageOut: "/s2r_test/image_out" });
  try {
    const pub = transport.createPublisher("/s2r_test/image_in", "sensor_msgs/msg/Image");
    const latest = LatestMessage.subscribe(transport, "/s2r_test/image_out", "sensor_msgs/msg/Image");
    await waitForMatch(pub, { timeoutMs: 5000 });
    await waitForMatch(latest, { timeoutMs: 5000 });
    const width = 64;
    const height = 48;
    const data = new Uint8Array(width * height * 3);
    let x = 12345;
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const image: Image = { header: { stamp: { sec: 10, nanosec: 20 }, frame_id: "camera" }, height, width, encoding: "rgb8", is_bigendian: 0, step: width * 3, data };
    const next = latest.next(5000);
    pub.publish(image);
    const back = (await next).message;
    assert.deepEqual({ ...back, data: undefined }, { ...image, data: undefined });
    assert.ok(back.data instanceof Uint8Array);
    assert.equal(Buffer.compare(Buffer.from(back.data), Buffer.from(data)), 0);
    await peer.waitFor((ev) => ev.some((e) => e.type === "sensor_msgs/msg/Image"), 5000, "the peer's report of the image");
    const summary = peer.messages("received", "sensor_msgs/msg/Image")[0]!;
    assert.equal(summary.data_length, data.length);
    assert.equal(summary.data_sum, data.reduce((a, b) => a + b, 0));
    assert.equal(latest.latest!.seq, 1);
    assert.ok(latest.ageMs() >= 0 && latest.ageMs() < 5000);
  } finally {
    transport.dispose();
    await peer.stop();
  }
});

test("QoS is really mapped: transient_local replays to late subscribers; best_effort offers do not match reliable requests", async (t) => {
  if (!cycloneAvailable(t)) return;
  const a = openCycloneTransport({ domainId });
  const b = openCycloneTransport({ domainId });
  try {
    const latched = a.createPublisher("/s2r_test/latched", F64_ARRAY, { durability: "transient_local", depth: 1 });
    latched.publish({ data: [1] });
    latched.publish({ data: [2] });
    const late = LatestMessage.subscribe(b, "/s2r_test/latched", F64_ARRAY, { durability: "transient_local", depth: 1 });
    assert.deepEqual((await late.next(5000)).message.data, [2], "keep-last 1 replays only the newest");

    const bestEffort = a.createPublisher("/s2r_test/qos", F64_ARRAY, { reliability: "best_effort" });
    const reliableSub = b.createSubscription("/s2r_test/qos", F64_ARRAY, { reliability: "reliable" }, () => {});
    const bestEffortSub = b.createSubscription("/s2r_test/qos", F64_ARRAY, { reliability: "best_effort" }, () => {});
    await waitForMatch(bestEffortSub, { timeoutMs: 5000 });
    assert.equal(bestEffort.matchedCount(), 1, "only the best-effort subscription matches a best-effort publisher");
    assert.equal(reliableSub.matchedCount(), 0);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test("bad messages, names and use after dispose fail with errors naming the problem", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = openCycloneTransport({ domainId });
  const pub = transport.createPublisher(STATE, JOINT_STATE);
  const cases: [unknown, RegExp][] = [
    [{ position: [1, "x"] }, /^sensor_msgs\/msg\/JointState: position\[1\] must be a number, got a string$/],
    [{ header: { stamp: { sec: 1, nanosec: -1 } } }, /header\.stamp\.nanosec must be an integer in \[0, 4294967295\], got -1$/],
    [{ header: { stamp: { sec: 2 ** 31 } } }, /header\.stamp\.sec must be an integer in \[-2147483648, 2147483647\], got 2147483648$/],
    [{ name: "arm_joint" }, /name must be an array, got a string$/],
    [{ name: ["ok", 3] }, /name\[1\] must be a string, got 3$/],
    [{ header: [] }, /header must be an object, got an array$/],
    [42, /^sensor_msgs\/msg\/JointState: message must be an object, got 42$/],
  ];
  for (const [msg, why] of cases) assert.throws(() => pub.publish(msg as never), (e: unknown) => e instanceof TypeError && why.test(e.message), JSON.stringify(msg));
  const img = transport.createPublisher("/s2r_test/bad_image", "sensor_msgs/msg/Image");
  assert.throws(() => img.publish({ data: [1, 256] }), /sensor_msgs\/msg\/Image: data\[1\] must be an integer in \[0, 255\], got 256/);
  assert.throws(() => img.publish({ is_bigendian: 0.5 }), /is_bigendian must be an integer in \[0, 255\], got 0\.5/);
  const cmd = transport.createPublisher(COMMAND, F64_ARRAY);
  assert.throws(() => cmd.publish({ layout: { dim: [{ label: "v", size: -1 }] } }), /std_msgs\/msg\/Float64MultiArray: layout\.dim\[0\]\.size must be an integer in \[0, 4294967295\], got -1/);

  assert.throws(() => transport.createPublisher("/bad-name", JOINT_STATE), /invalid topic name "\/bad-name"/);
  assert.throws(() => transport.createPublisher(STATE, "sensor_msgs/msg/Imu" as never), /unsupported message type "sensor_msgs\/msg\/Imu"/);
  assert.throws(() => transport.createPublisher(STATE, JOINT_STATE, { depth: -1 }), /qos\[\/joint_states\]\.depth: expected an integer >= 1/);

  pub.dispose();
  pub.dispose();
  assert.throws(() => pub.publish({}), /the publisher on \/joint_states was used after dispose\(\)/);
  transport.dispose();
  assert.throws(() => cmd.publish({ data: [1] }), /used after dispose\(\)/, "disposing the transport disposes its endpoints");
  assert.throws(() => transport.createSubscription(STATE, JOINT_STATE, undefined, () => {}), /Cyclone DDS transport was used after dispose\(\)/);
});

test("a subscription disposed from inside its callback receives nothing more", async (t) => {
  if (!cycloneAvailable(t)) return;
  const transport = await openRos2Transport({ prefer: "cyclone", domainId });
  try {
    assert.equal(transport.name, "cyclone");
    assert.equal(transport.domainId, domainId);
    const pub = transport.createPublisher("/s2r_test/burst", F64_ARRAY, { depth: 100 });
    let calls = 0;
    const sub = transport.createSubscription("/s2r_test/burst", F64_ARRAY, { depth: 100 }, () => {
      calls++;
      sub.dispose();
    });
    await waitForMatch(pub, { timeoutMs: 5000 });
    for (let i = 0; i < 50; i++) pub.publish({ data: [i] });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls, 1);
  } finally {
    transport.dispose();
  }
});

test("an exception thrown by a subscription callback reaches process 'uncaughtException', and delivery goes on", async (t) => {
  if (!cycloneAvailable(t)) return;
  // In a child process: the test runner treats uncaught exceptions as failures of its own.
  const transportModule = new URL("../../robot/ros2/cyclone/transport.js", import.meta.url).href;
  const script = `
    const { openCycloneTransport } = await import(${JSON.stringify(transportModule)});
    const t = openCycloneTransport({ domainId: ${domainId} });
    const errors = [];
    let calls = 0;
    process.on("uncaughtException", (e) => errors.push(e.message));
    const pub = t.createPublisher("/s2r_test/throws", "std_msgs/msg/Float64MultiArray", { depth: 10 });
    t.createSubscription("/s2r_test/throws", "std_msgs/msg/Float64MultiArray", { depth: 10 }, (m) => {
      calls++;
      if (m.data[0] === 0) throw new Error("callback failed on purpose");
    });
    for (let i = 0; i < 3; i++) pub.publish({ data: [i] });
    setTimeout(() => { t.dispose(); console.log(JSON.stringify({ errors, calls })); }, 300);
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10000 });
  assert.deepEqual(JSON.parse(out), { errors: ["callback failed on purpose"], calls: 3 });
});
