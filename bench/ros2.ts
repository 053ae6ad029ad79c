/**
 * State -> command round trips over ROS 2 at the rig's top control rate:
 * s2r publishes sensor_msgs/JointState on /joint_states at 500 Hz through the
 * Cyclone DDS transport, the C test peer (echo mode) answers each one with a
 * std_msgs/Float64MultiArray on /arm_voltage_controller/commands, and the
 * time from publish() to the answer reaching JS is recorded. Loopback only,
 * on a domain of its own. Targets: median <= 500 us, nothing lost.
 */
import { openCycloneTransport } from "../robot/ros2/cyclone/transport.js";
import { loadCycloneAddon } from "../robot/ros2/cyclone/native.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../robot/ros2/cyclone/loopback.js";
import { TestPeer } from "../robot/ros2/cyclone/peer.js";
import { waitForMatch } from "../robot/ros2/match.js";

// A type alias (not an interface) so it fits the bench registry's Record<string, unknown>.
export type Ros2BenchResult = {
  roundTripP50Micros: number;
  roundTripP99Micros: number;
  roundTripMaxMicros: number;
  /** Sent and never answered (within 1 s after the last send). */
  lost: number;
  messages: number;
  /** Achieved publish rate. */
  rateHz: number;
  cycloneVersion: string;
};

export interface Ros2BenchOptions {
  /** Default 10 000 (1 000 with quick). */
  messages?: number;
  rateHz?: number;
  quick?: boolean;
  log?: (line: string) => void;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchRos2(opts: Ros2BenchOptions = {}): Promise<Ros2BenchResult> {
  const messages = opts.messages ?? (opts.quick ? 1000 : 10000);
  const rateHz = opts.rateHz ?? 500;
  const log = opts.log ?? (() => {});
  const load = loadCycloneAddon();
  if (!load.ok) throw new Error(`the Cyclone DDS transport is unavailable: ${load.reason}; ${load.install}`);

  useLoopbackCyclone();
  const domainId = randomLoopbackDomainId();
  const peer = await TestPeer.start({ mode: "echo", domainId, quiet: true, depth: 100 });
  const transport = openCycloneTransport({ domainId });
  try {
    const warmup = 200;
    const sentAt = new Float64Array(warmup + messages).fill(Number.NaN);
    const rtt = new Float64Array(warmup + messages).fill(Number.NaN);
    // The echo carries the state's stamp back as data[0..1]; the stamp's sec field is the sequence number.
    const sub = transport.createSubscription("/arm_voltage_controller/commands", "std_msgs/msg/Float64MultiArray", { depth: 100 }, (m, info) => {
      const seq = m.data[0]!;
      if (seq >= 0 && seq < sentAt.length) rtt[seq] = info.receivedAt - sentAt[seq]!;
    });
    const pub = transport.createPublisher("/joint_states", "sensor_msgs/msg/JointState", { depth: 100 });
    await waitForMatch(pub, { timeoutMs: 10000 });
    await waitForMatch(sub, { timeoutMs: 10000 });
    log(`domain ${domainId}, Cyclone DDS ${load.version}: ${warmup} warm-up + ${messages} round trips at ${rateHz} Hz`);

    // One message object, mutated in place each tick, as a control loop would.
    const position = new Float64Array(2);
    const velocity = new Float64Array(2);
    const msg = { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" }, name: ["arm_joint", "pendulum_joint"], position, velocity };
    const period = 1000 / rateHz;
    let next = performance.now();
    let tStart = 0;
    for (let seq = 0; seq < sentAt.length; seq++) {
      if (seq === warmup) tStart = performance.now();
      msg.header.stamp.sec = seq;
      position[0] = Math.sin(seq * 0.01);
      velocity[0] = Math.cos(seq * 0.01);
      sentAt[seq] = performance.now();
      pub.publish(msg);
      next += period;
      // Timers have 1 ms granularity; the absolute schedule (next) keeps the average rate, and
      // always yielding lets the answers be handled as they arrive rather than after a burst.
      await sleep(Math.max(0, next - performance.now()));
    }
    const elapsed = (performance.now() - tStart) / 1000;
    const deadline = performance.now() + 1000;
    while (performance.now() < deadline && rtt.subarray(warmup).some(Number.isNaN)) await sleep(10);

    const measured = Array.from(rtt.subarray(warmup)).filter((x) => !Number.isNaN(x));
    measured.sort((a, b) => a - b);
    const result: Ros2BenchResult = {
      roundTripP50Micros: Math.round(percentile(measured, 0.5) * 1000),
      roundTripP99Micros: Math.round(percentile(measured, 0.99) * 1000),
      roundTripMaxMicros: Math.round((measured[measured.length - 1] ?? Number.NaN) * 1000),
      lost: messages - measured.length,
      messages,
      rateHz: Math.round((messages / elapsed) * 10) / 10,
      cycloneVersion: load.version,
    };
    log(`median ${result.roundTripP50Micros} us, p99 ${result.roundTripP99Micros} us, max ${result.roundTripMaxMicros} us, lost ${result.lost}`);
    return result;
  } finally {
    transport.dispose();
    await peer.stop();
  }
}
