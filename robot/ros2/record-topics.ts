/**
 * `s2r record --ros2`: what a rig publishes over ROS 2, written to MCAP the
 * way a session log is (ros2msg schemas, CDR, sealed and synced at least
 * twice a second, readable if the recorder is killed). The file is what
 * `s2r vision eval` and visual fine-tuning read.
 *
 * Subscriptions are best effort: a best-effort reader matches both
 * best-effort publishers (camera drivers use the sensor-data profile) and
 * reliable ones, as rosbag2 does by adapting to the publishers' QoS.
 */
import { CAMERA_INFO_SCHEMA, COMPRESSED_IMAGE_SCHEMA, FLOAT64_MULTI_ARRAY_SCHEMA, IMAGE_SCHEMA, JOINT_STATE_SCHEMA, type LogSchema } from "../log/schemas.js";
import { SessionLog } from "../log/session-log.js";
import { MESSAGE_TYPE_NAMES, checkMessageType, type MessageTypeName } from "./messages.js";
import type { Ros2Transport, Subscription } from "./transport.js";

export interface RecordTopic {
  topic: string;
  type: MessageTypeName;
}

const SCHEMAS: Record<MessageTypeName, LogSchema> = {
  "sensor_msgs/msg/JointState": JOINT_STATE_SCHEMA,
  "std_msgs/msg/Float64MultiArray": FLOAT64_MULTI_ARRAY_SCHEMA,
  "sensor_msgs/msg/Image": IMAGE_SCHEMA,
  "sensor_msgs/msg/CameraInfo": CAMERA_INFO_SCHEMA,
  "sensor_msgs/msg/CompressedImage": COMPRESSED_IMAGE_SCHEMA,
};

/** Types assumed from a topic's last name when none is given. */
function typeFromName(topic: string): MessageTypeName | undefined {
  const last = topic.split("/").pop() ?? "";
  if (last === "joint_states") return "sensor_msgs/msg/JointState";
  if (last === "camera_info") return "sensor_msgs/msg/CameraInfo";
  if (last === "compressed" && /\/image[^/]*\/compressed$/.test(topic)) return "sensor_msgs/msg/CompressedImage";
  if (/^image(_raw|_rect|_rect_color|_color|_mono)?$/.test(last)) return "sensor_msgs/msg/Image";
  return undefined;
}

/** Parses `TOPIC[:TYPE]` entries (comma-separated lists allowed); errors name the entry. */
export function parseRecordTopics(entries: readonly string[]): RecordTopic[] {
  const out: RecordTopic[] = [];
  for (const entry of entries.flatMap((e) => e.split(",")).map((e) => e.trim()).filter(Boolean)) {
    const i = entry.indexOf(":");
    const topic = i < 0 ? entry : entry.slice(0, i);
    if (!/^\/[A-Za-z0-9_/]*[A-Za-z0-9_]$/.test(topic) || topic.includes("//")) throw new Error(`--topics: ${JSON.stringify(topic)} is not a ROS 2 topic name (expected e.g. /camera/image_raw)`);
    let type: MessageTypeName | undefined;
    if (i >= 0) {
      try {
        type = checkMessageType(entry.slice(i + 1));
      } catch {
        throw new Error(`--topics: ${entry}: unsupported type ${JSON.stringify(entry.slice(i + 1))}; the recorder knows ${MESSAGE_TYPE_NAMES.join(", ")}`);
      }
    } else {
      type = typeFromName(topic);
      if (!type) throw new Error(`--topics: the type of ${topic} cannot be told from its name; give it as ${topic}:TYPE (one of ${MESSAGE_TYPE_NAMES.join(", ")})`);
    }
    if (out.some((t) => t.topic === topic)) throw new Error(`--topics: ${topic} is listed twice`);
    out.push({ topic, type });
  }
  if (out.length === 0) throw new Error("--topics: no topics given (e.g. --topics /camera/image_raw,/joint_states)");
  return out;
}

export interface RecordOptions {
  out: string;
  durationSeconds: number;
  overwrite?: boolean;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called about ten times a second with the elapsed seconds and the message count per topic. */
  onProgress?: (elapsedSeconds: number, counts: Record<string, number>) => void;
}

export interface RecordResult {
  file: string;
  seconds: number;
  /** Messages recorded per topic. */
  counts: Record<string, number>;
  /** Publishers matched per topic when recording stopped. */
  publishers: Record<string, number>;
  interrupted: boolean;
}

export async function recordTopics(transport: Ros2Transport, topics: readonly RecordTopic[], o: RecordOptions): Promise<RecordResult> {
  if (!(Number.isFinite(o.durationSeconds) && o.durationSeconds > 0)) throw new Error(`record: duration must be > 0 s, got ${o.durationSeconds}`);
  const log = SessionLog.create(o.out, {
    session: "record",
    overwrite: o.overwrite,
    metadata: { ...o.metadata, transport: transport.name, domain_id: String(transport.domainId), topics: topics.map((t) => `${t.topic}:${t.type}`).join(",") },
  });
  const counts: Record<string, number> = Object.fromEntries(topics.map((t) => [t.topic, 0]));
  const subs: Subscription[] = [];
  let failure: Error | undefined;
  const t0 = performance.now();
  try {
    for (const t of topics) {
      const channel = log.channel(t.topic, SCHEMAS[t.type], { ros2_type: t.type });
      subs.push(
        transport.createSubscription(t.topic, t.type, { reliability: "best_effort", durability: "volatile", depth: 100 }, (msg) => {
          if (failure) return;
          try {
            channel.write(msg as unknown as Record<string, unknown>);
            counts[t.topic]!++;
          } catch (e) {
            failure = e as Error;
          }
        }),
      );
    }
    log.event("info", `recording ${topics.map((t) => t.topic).join(", ")} for ${o.durationSeconds} s`);
    const endAt = t0 + o.durationSeconds * 1000;
    while (performance.now() < endAt && !o.signal?.aborted && !failure && !log.error) {
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, endAt - performance.now()))));
      o.onProgress?.((performance.now() - t0) / 1000, { ...counts });
    }
  } catch (e) {
    failure ??= e as Error;
  }
  const publishers = Object.fromEntries(topics.map((t, i) => [t.topic, subs[i]?.matchedCount() ?? 0]));
  for (const s of subs) s.dispose();
  const interrupted = Boolean(o.signal?.aborted);
  const problem = failure ?? log.error;
  // The file is finished whatever happened: what was recorded stays readable.
  if (problem) log.event("error", `recording stopped: ${problem.message}`);
  else log.event("info", `recorded ${Object.entries(counts).map(([k, v]) => `${v} on ${k}`).join(", ")}${interrupted ? " (interrupted)" : ""}`);
  await log.close();
  if (problem) throw new Error(`record: ${problem.message} (the file ${log.file} holds what came before)`);
  return { file: log.file, seconds: (performance.now() - t0) / 1000, counts, publishers, interrupted };
}
