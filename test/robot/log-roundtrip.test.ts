import test from "node:test";
import assert from "node:assert/strict";
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readSync, fstatSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { SessionLog, TOPICS } from "../../robot/log/session-log.js";
import { readSessionLog, type LoggedMessage } from "../../robot/log/read-session-log.js";
import { createCodec } from "../../robot/log/cdr-codec.js";
import { parseRos2Msg } from "../../robot/log/ros2msg.js";
import { JOINT_STATE_SCHEMA, fromRosTime, type LogSchema } from "../../robot/log/schemas.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-log-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const SYSID_SCHEMA: LogSchema = {
  name: "s2r_msgs/msg/SysIdSample",
  definition: `int64 tick
uint8[] raw
float32[3] gains
bool ok
string<=16 phase
Segment[] segments
================================================================================
MSG: s2r_msgs/Segment
string label
float64 t0
int16 code
`,
};

const T0 = 1_700_000_000_000_000_000n;
const ns = (i: number) => T0 + BigInt(i) * 2_000_000n;

/** Writes 50 cycles on every standard channel, a custom channel, and events; returns what was written. */
async function writeSession(file: string) {
  const log = SessionLog.create(file, { session: "deploy", metadata: { policy: "furuta.onnx", rig: "furuta-1" }, closeOnExit: false });
  const sysid = log.channel<Record<string, unknown>>("/sysid/samples", SYSID_SCHEMA, { note: "test" });
  for (let i = 0; i < 50; i++) {
    log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [i * 0.01, Math.PI - i * 0.001], velocity: [0.5, -0.25], effort: [] }, ns(i));
    log.command([1.5 - i * 0.01], ns(i));
    log.policy({ observation: [i, 2, 3, 4, 5, 6], action: [0.25], value: i === 0 ? NaN : 1.5, osiNames: ["Lr", "mp"], osiEstimate: [0.085, 0.024] }, ns(i));
    log.timing({ cycle: i, periodMs: 2 + (i % 5) * 0.01, targetPeriodMs: 2, readMs: 0.4, inferMs: 0.2, writeMs: 0.1, deadlineMissed: i === 30, ...(i === 30 ? { wakeLateMs: 0.05, staleMs: 2.4, lateCause: "read" } : {}) }, ns(i));
    if (i % 10 === 0) sysid.write({ tick: 1n << 40n, raw: new Uint8Array([1, 2, 255]), gains: [0.5, 1.5, -2], ok: i % 20 === 0, phase: "chirp°", segments: [{ label: "a", t0: i, code: -3 }] }, ns(i));
  }
  log.event("info", "start", { time: ns(0) });
  log.event("error", "torque off: deadline missed", { name: "safety", time: ns(30) });
  await log.close();
}

test("a session with every channel reads back with our reader: values, metadata, clean close", async () => {
  const file = join(dir, "all.mcap");
  await writeSession(file);
  const byTopic = new Map<string, LoggedMessage[]>();
  const info = await readSessionLog(file, { onMessage: (m) => void (byTopic.get(m.topic) ?? byTopic.set(m.topic, []).get(m.topic)!).push(m) });
  assert.equal(info.closedCleanly, true);
  assert.equal(info.truncated, false);
  assert.equal(info.session, "deploy");
  assert.deepEqual(info.metadata, { policy: "furuta.onnx", rig: "furuta-1" });
  assert.ok(info.endedAt! >= info.startedAt!);
  assert.equal(info.profile, "ros2");
  assert.deepEqual(
    info.channels.map((c) => [c.topic, c.schemaName, c.schemaEncoding, c.messageEncoding, c.messageCount]),
    [
      ["/sysid/samples", "s2r_msgs/msg/SysIdSample", "ros2msg", "cdr", 5],
      ["/joint_states", "sensor_msgs/msg/JointState", "ros2msg", "cdr", 50],
      ["/commands", "std_msgs/msg/Float64MultiArray", "ros2msg", "cdr", 50],
      ["/policy", "s2r_msgs/msg/PolicyStep", "ros2msg", "cdr", 50],
      ["/timing", "s2r_msgs/msg/LoopTiming", "ros2msg", "cdr", 50],
      ["/events", "rcl_interfaces/msg/Log", "ros2msg", "cdr", 2],
    ],
  );
  assert.deepEqual(info.channels[0]!.metadata, { note: "test" });

  const js = byTopic.get(TOPICS.jointStates)!.map((m) => m.decode());
  assert.deepEqual(js[7], {
    header: { stamp: { sec: 1_700_000_000, nanosec: 14_000_000 }, frame_id: "" },
    name: ["arm_joint", "pendulum_joint"],
    position: [0.07, Math.PI - 0.007],
    velocity: [0.5, -0.25],
    effort: [],
  });
  assert.equal(byTopic.get(TOPICS.jointStates)![7]!.logTime, ns(7));
  assert.deepEqual(byTopic.get(TOPICS.commands)![3]!.decode(), { layout: { dim: [], data_offset: 0 }, data: [1.47] });
  const p0 = byTopic.get(TOPICS.policy)![0]!.decode();
  assert.ok(Number.isNaN(p0.value as number), "NaN survives the round trip");
  assert.deepEqual(byTopic.get(TOPICS.policy)![2]!.decode(), {
    stamp: { sec: 1_700_000_000, nanosec: 4_000_000 },
    observation: [2, 2, 3, 4, 5, 6],
    action: [0.25],
    value: 1.5,
    osi_names: ["Lr", "mp"],
    osi_estimate: [0.085, 0.024],
  });
  const timing = byTopic.get(TOPICS.timing)!.map((m) => m.decode());
  assert.deepEqual(timing[30], {
    stamp: { sec: 1_700_000_000, nanosec: 60_000_000 },
    cycle: 30,
    period_ms: 2,
    target_period_ms: 2,
    read_ms: 0.4,
    infer_ms: 0.2,
    write_ms: 0.1,
    deadline_missed: true,
    wake_late_ms: 0.05,
    stale_ms: 2.4,
    late_cause: "read",
    vision_ms: NaN,
  });
  const events = byTopic.get(TOPICS.events)!.map((m) => m.decode());
  assert.deepEqual(
    events.map((e) => [e.level, e.name, e.msg, fromRosTime(e.stamp as { sec: number; nanosec: number })]),
    [
      [20, "deploy", "start", ns(0)],
      [40, "safety", "torque off: deadline missed", ns(30)],
    ],
  );
  assert.deepEqual(byTopic.get("/sysid/samples")![2]!.decode(), {
    tick: 1n << 40n,
    raw: new Uint8Array([1, 2, 255]),
    gains: [0.5, 1.5, -2],
    ok: true,
    phase: "chirp°",
    segments: [{ label: "a", t0: 20, code: -3 }],
  });
  // Sequence numbers count per channel.
  assert.deepEqual(byTopic.get(TOPICS.commands)!.slice(0, 3).map((m) => m.sequence), [0, 1, 2]);
});

function fileReadable(file: string) {
  const fd = openSync(file, "r");
  return {
    fd,
    readable: {
      size: async () => BigInt(fstatSync(fd).size),
      read: async (offset: bigint, size: bigint) => {
        const b = new Uint8Array(Number(size));
        readSync(fd, b, 0, b.length, Number(offset));
        return b;
      },
    },
  };
}

test("the file is a valid indexed MCAP for @mcap/core: statistics, indexes, metadata, CRCs", async () => {
  const file = join(dir, "indexed.mcap");
  await writeSession(file);
  const { fd, readable } = fileReadable(file);
  try {
    const reader = await McapIndexedReader.Initialize({ readable });
    assert.equal(reader.header.profile, "ros2");
    const stats = reader.statistics!;
    assert.equal(stats.messageCount, 207n); // 4 x 50 cycles + 5 sysid + 2 events
    assert.equal(stats.channelCount, 6);
    assert.equal(stats.schemaCount, 6);
    assert.equal(stats.messageStartTime, ns(0));
    assert.equal(stats.messageEndTime, ns(49));
    assert.ok(reader.chunkIndexes.length >= 1);
    const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
    assert.deepEqual(topics, ["/commands", "/events", "/joint_states", "/policy", "/sysid/samples", "/timing"]);

    // Indexed reads by topic and time range, decoded with the schema stored in the file.
    const ch = [...reader.channelsById.values()].find((c) => c.topic === "/joint_states")!;
    const schema = reader.schemasById.get(ch.schemaId)!;
    assert.equal(schema.encoding, "ros2msg");
    const codec = createCodec(parseRos2Msg(schema.name, new TextDecoder().decode(schema.data)));
    const positions: number[] = [];
    for await (const m of reader.readMessages({ topics: ["/joint_states"], startTime: ns(10), endTime: ns(19) })) {
      positions.push((codec.decode(m.data).position as number[])[0]!);
    }
    assert.deepEqual(positions, Array.from({ length: 10 }, (_, k) => (10 + k) * 0.01));

    const metadata: Record<string, Record<string, string>> = {};
    for await (const m of reader.readMetadata()) metadata[m.name] = Object.fromEntries(m.metadata);
    assert.equal(metadata["s2r.session"]!.kind, "deploy");
    assert.deepEqual(metadata["s2r.metadata"], { policy: "furuta.onnx", rig: "furuta-1" });
    assert.equal(metadata["s2r.session_end"]!.messages, "207");
  } finally {
    closeSync(fd);
  }

  // The stream reader (CRC checks on) reaches the end of a complete file.
  const stream = new McapStreamReader({ validateCrcs: true });
  stream.append(readFileSync(file));
  let messages = 0;
  for (let r; (r = stream.nextRecord()); ) if (r.type === "Message") messages++;
  assert.equal(messages, 207);
  assert.equal(stream.done(), true);
});

test("CDR bytes follow XCDR1 little-endian alignment (checked by hand)", () => {
  const codec = createCodec(parseRos2Msg(JOINT_STATE_SCHEMA.name, JOINT_STATE_SCHEMA.definition));
  const bytes = codec.encode({ header: { stamp: { sec: 7, nanosec: 9 }, frame_id: "" }, name: ["a"], position: [1.5], velocity: [], effort: [] });
  // Offsets after the 4-byte encapsulation header; alignment is relative to its end.
  const expected: number[] = [0, 1, 0, 0];
  const u32 = (v: number) => expected.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  const pad = (to: number) => {
    while ((expected.length - 4) % to) expected.push(0);
  };
  u32(7); // stamp.sec
  u32(9); // stamp.nanosec
  u32(1); // frame_id length incl. NUL
  expected.push(0);
  pad(4);
  u32(1); // name: one string
  u32(2);
  expected.push(97, 0); // "a\0"
  pad(4);
  u32(1); // position count
  pad(8);
  expected.push(...new Uint8Array(new Float64Array([1.5]).buffer));
  u32(0); // velocity
  u32(0); // effort
  assert.deepEqual([...bytes], expected);
});

test("a value that does not fit the schema is an error naming the topic and field", async () => {
  const log = SessionLog.create(join(dir, "bad.mcap"), { session: "deploy", closeOnExit: false });
  assert.throws(
    () => log.jointState({ name: ["a"], position: ["x" as unknown as number], velocity: [], effort: [] }),
    /\/joint_states \(sensor_msgs\/msg\/JointState\): field position\[0\]: expected a float64, got "x"/,
  );
  assert.throws(() => log.timing({ cycle: -1, periodMs: 1, targetPeriodMs: 1, readMs: 0, inferMs: 0, writeMs: 0, deadlineMissed: false }), /field cycle: expected an uint32/);
  const ch = log.channel("/x", SYSID_SCHEMA);
  assert.throws(() => ch.write({ tick: 1, raw: [], gains: [1, 2], ok: true, phase: "", segments: [] }), /field gains: expected exactly 3 elements, got 2/);
  assert.throws(() => ch.write({ tick: 1, raw: [], gains: [1, 2, 3], ok: true, phase: "", segments: [{ label: "a", t0: 0 }] }), /field segments\[0\]\.code: expected an int16/);
  assert.throws(() => log.channel("no-slash", SYSID_SCHEMA), /not a ROS 2 topic name/);
  assert.throws(() => log.channel("/x", JOINT_STATE_SCHEMA), /already logged with schema s2r_msgs\/msg\/SysIdSample/);
  assert.throws(() => SessionLog.create(join(dir, "bad2.mcap"), { session: "Deploy!" }), /session must be a lowercase name/);
  assert.throws(() => SessionLog.create(join(dir, "bad3.mcap"), { session: "deploy", flushIntervalMs: 5000 }), /flushIntervalMs must be in \(0, 1000\]/);
  assert.throws(() => SessionLog.create(join(dir, "all.mcap"), { session: "deploy" }), /all\.mcap: the file already exists/);
  const again = SessionLog.create(join(dir, "all.mcap"), { session: "deploy", overwrite: true, closeOnExit: false });
  again.closeSync();
  await log.close();
  assert.throws(() => log.command([1]), /already closed/);
});

test("flush() makes everything so far readable before close; a cut or zero-filled tail is reported as truncation", async () => {
  const file = join(dir, "flushed.mcap");
  const log = SessionLog.create(file, { session: "sysid", closeOnExit: false });
  for (let i = 0; i < 100; i++) log.command([i], ns(i));
  await log.flush();
  const mid = await readSessionLog(file);
  assert.equal(mid.truncated, true);
  assert.equal(mid.closedCleanly, false);
  assert.match(mid.truncation!, /without a footer/);
  assert.equal(mid.messageCount, 100);
  assert.equal(mid.session, "sysid");
  for (let i = 100; i < 200; i++) log.command([i], ns(i));
  await log.flush();
  for (let i = 200; i < 300; i++) log.command([i], ns(i));
  await log.close();

  // Cut the closed file at every few hundred bytes: the reader never throws, and what it returns is a prefix.
  const whole = readFileSync(file);
  const cutFile = join(dir, "cut.mcap");
  let lastCount = -1;
  for (let cut = 200; cut < whole.length; cut += 397) {
    writeFileSync(cutFile, whole.subarray(0, cut));
    const values: number[] = [];
    const r = await readSessionLog(cutFile, { onMessage: (m) => void values.push((m.decode().data as number[])[0]!) });
    assert.equal(r.truncated, true, `cut at ${cut}`);
    assert.deepEqual(values, Array.from({ length: values.length }, (_, k) => k), `cut at ${cut}: a prefix`);
    assert.ok(values.length >= lastCount);
    lastCount = values.length;
  }
  assert.ok(lastCount >= 200, "the two flushed chunks survive any cut after them");

  // Preallocated-but-unwritten space (zeros) after the last chunk, as after a power cut.
  copyFileSync(file, cutFile);
  const partial = Buffer.concat([whole.subarray(0, Math.floor(whole.length * 0.7)), Buffer.alloc(4096)]);
  writeFileSync(cutFile, partial);
  const z = await readSessionLog(cutFile);
  assert.equal(z.truncated, true);
  assert.ok(z.messageCount > 0);
});

test("closeSync finishes the file without the event loop", async () => {
  const file = join(dir, "sync.mcap");
  const log = SessionLog.create(file, { session: "calibrate", closeOnExit: false });
  for (let i = 0; i < 1000; i++) log.jointState({ name: ["arm_joint"], position: [i], velocity: [0], effort: [0] }, ns(i));
  log.closeSync();
  log.closeSync(); // idempotent
  await log.close(); // and close() after it is a no-op
  const r = await readSessionLog(file);
  assert.equal(r.closedCleanly, true);
  assert.equal(r.messageCount, 1000);
});

test("not an MCAP file, or a missing one, is a clear error", async () => {
  const f = join(dir, "junk.mcap");
  writeFileSync(f, "hello, this is not mcap at all");
  await assert.rejects(readSessionLog(f), /junk\.mcap: not an MCAP file/);
  await assert.rejects(readSessionLog(join(dir, "missing.mcap")), /missing\.mcap: cannot read: ENOENT/);
});
