/**
 * The emulator's camera on ROS 2: frames of the simulation it runs, rendered
 * with a hidden look (sim/render/hidden-visual-spec.ts) on a worker thread,
 * published as sensor_msgs/Image with sensor_msgs/CameraInfo beside them.
 *
 * Timing follows the camera config of the task's robot: a frame is triggered
 * every 1/frameRate; the scene is sampled at the middle of the exposure (the
 * header stamp, as a driver stamps acquisition) and the frame is published
 * `latency` later, or as soon as its rendering ends if that takes longer
 * (counted: `stats.late`). A trigger that finds the renderer still busy
 * drops that frame, as a camera whose host cannot keep up does.
 */
import { Worker } from "node:worker_threads";
import type { CameraConfig } from "../../sim/sensors/camera-config.js";
import { cameraInfoToMessage } from "../log/image-messages.js";
import { SampleSeries } from "../control/sample-series.js";
import type { RigCamera } from "../rigs/rig-config.js";
import { fullyQualifiedTopic } from "../ros2/names.js";
import { SENSOR_DATA_QOS } from "../ros2/qos.js";
import type { Ros2Transport } from "../ros2/transport.js";
import type { CameraJob, CameraReply, CameraWorkerInit } from "./camera-render-worker.js";
import type { Ros2EmulatedRobot } from "./ros2-emulated-robot.js";

/** What the emulator can render: the renderer's encodings, and bgr8 by swapping channels. */
export const EMULATED_CAMERA_ENCODINGS = ["rgb8", "bgr8", "mono8"] as const;

export interface EmulatedCameraOptions {
  camera: RigCamera;
  /** Draws the hidden look. */
  seed: number;
  /** Milliseconds clock (monotonic). Default performance.now. */
  clock?: () => number;
  /** Wall clock for the stamps, ms since the Unix epoch. */
  wallClock?: () => number;
  /** Told about a failure of the renderer; the camera stops. */
  onError?: (e: Error) => void;
}

export interface EmulatedCameraStats {
  triggered: number;
  published: number;
  /** Triggers that found the renderer busy. */
  dropped: number;
  /** Frames published after their latency because rendering took longer. */
  late: number;
  /** Exposure middle to publication, ms, per published frame. */
  latencyMs: SampleSeries;
  /** Render time per frame (posting to reply, on the worker), ms. */
  renderMs: SampleSeries;
}

export interface EmulatedCameraServer {
  readonly imageTopic: string;
  readonly infoTopic: string;
  readonly config: CameraConfig;
  readonly stats: EmulatedCameraStats;
  /** Resolves once the renderer has built its scene and the first trigger is armed; rejects if it could not start. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function serveEmulatedCamera(robot: Ros2EmulatedRobot, transport: Ros2Transport, o: EmulatedCameraOptions): EmulatedCameraServer {
  const { setup } = robot.options;
  const cams = setup.config.robot.cameras;
  const config = o.camera.name === undefined ? cams[0] : cams.find((c) => c.name === o.camera.name);
  if (!config) throw new Error(`emulator camera: task ${setup.task.name}'s robot has no camera ${o.camera.name === undefined ? "(robot.cameras is empty)" : JSON.stringify(o.camera.name)}; it has ${cams.map((c) => c.name).join(", ") || "none"} (rig file: camera.name)`);
  const encoding = o.camera.encoding;
  if (!(EMULATED_CAMERA_ENCODINGS as readonly string[]).includes(encoding)) {
    throw new Error(`emulator camera: it renders ${EMULATED_CAMERA_ENCODINGS.join(", ")}; the rig file's camera.encoding is ${encoding}`);
  }
  const clock = o.clock ?? (() => performance.now());
  const wallClock = o.wallClock ?? (() => performance.timeOrigin + performance.now());
  const imageTopic = fullyQualifiedTopic(o.camera.imageTopic);
  const infoTopic = fullyQualifiedTopic(o.camera.infoTopic);
  const periodMs = 1000 / config.frameRate;
  const latencyMs = config.latency * 1000;
  const { width, height } = config.intrinsics;
  const channels = encoding === "mono8" ? 1 : 3;
  const images = transport.createPublisher(imageTopic, "sensor_msgs/msg/Image", SENSOR_DATA_QOS);
  const infos = transport.createPublisher(infoTopic, "sensor_msgs/msg/CameraInfo", SENSOR_DATA_QOS);
  const stats: EmulatedCameraStats = { triggered: 0, published: 0, dropped: 0, late: 0, latencyMs: new SampleSeries(), renderMs: new SampleSeries() };
  const init: CameraWorkerInit = { task: setup.task.name, camera: config.name, encoding: encoding === "mono8" ? "mono8" : "rgb8", seed: o.seed, jointNames: robot.plant.dofNames };
  // A process started as `node --input-type=module -e ...` (tests do) passes --input-type on, which a worker file refuses.
  const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
  const worker = new Worker(new URL("./camera-render-worker.js", import.meta.url), { workerData: init, execArgv });
  /** The frame being rendered: trigger time (monotonic), stamp (wall ns), when it was posted. */
  let inFlight: { k: number; atMs: number; stampNs: bigint; postedMs: number } | undefined;
  let stopped = false;
  let trigger: NodeJS.Timeout | undefined;
  const pendingPublishes = new Set<NodeJS.Timeout>();
  const fail = (e: Error) => {
    if (stopped) return;
    if (!started) rejectReady(e);
    else o.onError?.(e);
    void close();
  };

  const publish = (data: Uint8Array, atMs: number, stampNs: bigint) => {
    if (stopped) return;
    if (encoding === "bgr8") swapRedBlue(data);
    const stamp = { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) };
    infos.publish({ ...cameraInfoToMessage(config.intrinsics, stampNs, o.camera.frameId), header: { stamp, frame_id: o.camera.frameId } } as never);
    images.publish({ header: { stamp, frame_id: o.camera.frameId }, height, width, encoding, is_bigendian: 0, step: width * channels, data });
    stats.published++;
    stats.latencyMs.push(clock() - atMs);
  };

  worker.on("message", (m: CameraReply | { ready: true }) => {
    if ("ready" in m) return startTriggers();
    const job = inFlight;
    inFlight = undefined;
    if (!job || job.k !== m.k) return;
    if ("error" in m) return fail(new Error(`emulator camera: rendering failed: ${m.error}`));
    const now = clock();
    stats.renderMs.push(now - job.postedMs);
    const wait = job.atMs + latencyMs - now;
    if (wait <= 0) {
      stats.late++;
      publish(m.data, job.atMs, job.stampNs);
      return;
    }
    const t = setTimeout(() => {
      pendingPublishes.delete(t);
      publish(m.data, job.atMs, job.stampNs);
    }, wait);
    pendingPublishes.add(t);
  });
  worker.on("error", (e) => fail(new Error(`emulator camera: the render thread failed: ${e.message}`)));

  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  let started = false;
  const ready = new Promise<void>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  let next = 0;
  let k = 0;
  const fire = () => {
    if (stopped) return;
    const now = clock();
    // Behind by more than a period (a stall): take the frame now and keep the rate from here.
    next = now - next > periodMs ? now + periodMs : next + periodMs;
    trigger = setTimeout(fire, Math.max(0, next - clock()));
    stats.triggered++;
    if (inFlight) {
      stats.dropped++;
      return;
    }
    robot.advanceTo(now);
    const job: CameraJob = { k: k++, q: Float64Array.from(robot.plant.q), qd: Float64Array.from(robot.plant.qd) };
    inFlight = { k: job.k, atMs: now, stampNs: BigInt(Math.round(wallClock() * 1e6)), postedMs: clock() };
    worker.postMessage(job, [job.q.buffer as ArrayBuffer, job.qd.buffer as ArrayBuffer]);
  };
  const startTriggers = () => {
    if (stopped) return;
    started = true;
    next = clock();
    fire();
    resolveReady();
  };

  const close = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (trigger) clearTimeout(trigger);
    for (const t of pendingPublishes) clearTimeout(t);
    pendingPublishes.clear();
    resolveReady();
    await worker.terminate();
    images.dispose();
    infos.dispose();
  };
  return { imageTopic, infoTopic, config, stats, ready, close };
}

/** rgb8 to bgr8 in place. */
function swapRedBlue(data: Uint8Array): void {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const r = data[i]!;
    data[i] = data[i + 2]!;
    data[i + 2] = r;
  }
}

