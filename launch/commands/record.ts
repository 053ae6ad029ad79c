import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { Progress } from "../../common/progress.js";

/** `s2r record --ros2`: what a rig publishes over ROS 2, into an MCAP file. */
export const command: Command = {
  spec: {
    name: "record",
    summary: "",
    options: {
      ros2: { kind: "boolean", description: "record from ROS 2 (the only source so far; required)" },
      topics: { kind: "list", value: "TOPIC[:TYPE],...", description: "topics to record, comma-separated or repeated; the type is taken from the name for joint_states, image_raw, image_raw/compressed and camera_info" },
      duration: { kind: "number", value: "S", description: "seconds to record (Ctrl-C stops early and keeps the file)", default: 30 },
      out: { kind: "string", value: "FILE", description: "MCAP file to write (required)" },
      domain: { kind: "integer", value: "N", description: "ROS 2 domain id (default ROS_DOMAIN_ID, else 0)" },
      overwrite: { kind: "boolean", description: "replace an existing file" },
      json: { kind: "boolean", description: "print the result as JSON" },
    },
    details: `Example: s2r record --ros2 --topics /camera/image_raw,/joint_states --duration 30 --out rec.mcap

Messages are written as they arrive, with ROS 2 message schemas (CDR), so Foxglove and
s2r vision eval read the file; it is sealed and synced at least twice a second, so a
killed recorder leaves a readable file. Types the recorder knows: sensor_msgs/msg/Image,
sensor_msgs/msg/CompressedImage, sensor_msgs/msg/CameraInfo, sensor_msgs/msg/JointState,
std_msgs/msg/Float64MultiArray;
give a type as TOPIC:TYPE when the name does not tell it. Subscriptions are best effort, which matches reliable and best-effort
publishers alike.`,
  },
  async run(args, io) {
    if (!args.options.ros2) throw new UsageError("s2r record: record from where? add --ros2 (recording from ROS 2 topics is the only source so far)");
    const out = args.options.out as string | undefined;
    if (!out) throw new UsageError("s2r record: --out FILE is required (e.g. --out rec.mcap)");
    const duration = args.options.duration as number;
    if (!(duration > 0)) throw new UsageError(`s2r record: --duration must be > 0 s, got ${duration}`);
    if (args.positionals.length) throw new UsageError(`s2r record: unexpected ${args.positionals.join(" ")}`);
    const { parseRecordTopics, recordTopics } = await import("../../robot/ros2/record-topics.js");
    let topics;
    try {
      topics = parseRecordTopics(args.options.topics as string[]);
    } catch (e) {
      throw new UsageError(`s2r record: ${(e as Error).message}`);
    }
    const { openRos2Transport } = await import("../../robot/ros2/open.js");
    let transport;
    try {
      transport = await openRos2Transport({ domainId: args.options.domain as number | undefined });
    } catch (e) {
      io.err(`s2r record: ${(e as Error).message}\n`);
      return 1;
    }
    const progress = new Progress({ total: duration, label: "record", stream: { write: (t: string) => io.err(t), columns: process.stderr.columns }, interactive: io.interactive, unit: "s", intervalSeconds: 5 });
    try {
      const r = await recordTopics(transport, topics, {
        out,
        durationSeconds: duration,
        overwrite: Boolean(args.options.overwrite),
        signal: io.signal,
        metadata: { command: "s2r record" },
        onProgress: (t, counts) => progress.update(Math.min(t, duration), counts),
      });
      progress.done();
      const silent = Object.entries(r.counts).filter(([, n]) => n === 0).map(([t]) => t);
      if (args.options.json) io.out(JSON.stringify(r) + "\n");
      else io.out(`${r.file}: ${r.seconds.toFixed(1)} s${r.interrupted ? " (interrupted)" : ""}; ${Object.entries(r.counts).map(([t, n]) => `${t} ${n}`).join(", ")}\n`);
      if (silent.length) io.err(`s2r record: nothing arrived on ${silent.join(", ")} (publishers matched: ${silent.map((t) => r.publishers[t]).join(", ")}; same ROS_DOMAIN_ID? right topic name?)\n`);
      return 0;
    } catch (e) {
      progress.done();
      io.err(`s2r record: ${(e as Error).message}\n`);
      return 1;
    } finally {
      transport.dispose();
    }
  },
};
