/**
 * A recording as a real camera session would leave it (MCAP: sensor_msgs/
 * Image + CameraInfo from CameraLog, /joint_states at 100 Hz), rendered by
 * the simulator with a chosen look: how a user measures zero-shot error on a
 * look outside the training randomization (`s2r vision eval <model> rec.mcap`)
 * without a rig. The robot sweeps its joints continuously (arm over its
 * travel, pendulum through full turns), so stacked frames see real motion;
 * each `framesPerLook` frames a new look is drawn.
 */
import { CameraLog } from "../../robot/log/camera-log.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { CameraStream } from "../../sim/render/camera-stream.js";
import { sweepPose } from "../../sim/render/sweep.js";
import { movingJoints } from "../../sim/urdf/model.js";
import { wrapAngle } from "../../sim/physics/math.js";
import { getTask } from "../../sim/tasks/registry.js";

/**
 * A look the default (heavy) randomization never draws: light brighter and
 * ambient higher than its ranges, a near-black background, a harsher tone
 * curve, twice the sensor noise, longer exposure, the camera shifted beyond
 * its pose jitter. No dropped or delayed frames (their stamps would lie).
 */
export function novelLook(camera: string) {
  const u = (target: string, low: number, high: number, when: "episode" | "step" = "episode") => ({ target, distribution: "uniform" as const, mode: "absolute" as const, low, high, when });
  const c = `camera.${camera}`;
  return [
    u("visual.light.intensity", 1.25, 1.5),
    u("visual.light.ambient", 0.65, 0.8),
    u("visual.background.value", 0.02, 0.08),
    u(`${c}.gamma`, 1.7, 2.0),
    u(`${c}.contrast`, 1.35, 1.5),
    u(`${c}.noise`, 0.05, 0.07, "step"),
    u(`${c}.exposure`, 0.018, 0.022),
    u(`${c}.x`, 0.025, 0.03),
    u(`${c}.y`, -0.03, -0.025),
  ];
}

export interface SimRecordingOptions {
  task: string;
  /** The task's config (partial) as given to training. */
  taskConfig: unknown;
  /** "training": the task's own visual randomization; "novel": its visual entries replaced by novelLook(). */
  look: "training" | "novel";
  frames: number;
  seed: number;
  framesPerLook?: number;
  camera?: string;
}

/** Writes the recording; returns the camera's name and the frames written. */
export async function recordSimCamera(file: string, o: SimRecordingOptions): Promise<{ camera: string; frames: number }> {
  if (!(Number.isInteger(o.frames) && o.frames >= 1)) throw new RangeError(`frames must be an integer >= 1, got ${o.frames}`);
  const task = getTask(o.task);
  const base = task.configSchema.parse(o.taskConfig, "config");
  const camName = o.camera ?? base.robot.cameras[0]?.name;
  if (camName === undefined) throw new Error(`${o.task}: the robot config has no camera (robot.cameras)`);
  const config = o.look === "training" ? base : task.configSchema.parse({
    ...(o.taskConfig as object),
    randomization: [...base.randomization.filter((e) => !e.target.startsWith("visual.") && !e.target.startsWith("camera.")), ...novelLook(camName)],
  }, "config");
  const setup = setupTask(task, config);
  const stream = new CameraStream(setup, { camera: camName, randomized: true, seed: o.seed, envIndex: 0 });
  const log = SessionLog.create(file, { session: "record", closeOnExit: false });
  const cam = new CameraLog(log);
  try {
    const joints = movingJoints(setup.model);
    const names = joints.map((j) => j.name);
    const q = new Float64Array(joints.length), qd = new Float64Array(joints.length);
    const rate = stream.camera.frameRate;
    const t0 = 1_700_000_000_000_000_000n;
    const stamp = (t: number) => t0 + BigInt(Math.round(t * 1e9));
    // One sweep period covers the recording: a full pendulum turn, the arm over its travel.
    const period = Math.max(o.frames, 2 * rate);
    cam.info(stream.intrinsics, stamp(0));
    const duration = o.frames / rate;
    for (let k = 0; k <= Math.ceil(duration * 100); k++) {
      sweepPose(joints, (k / 100) * rate, period, rate, q, qd);
      log.jointState({ name: names, position: Array.from(q, wrapAngle), velocity: Array.from(qd), effort: [] }, stamp(k / 100));
    }
    const image = new Uint8Array(stream.frameBytes);
    const { width, height } = stream.intrinsics;
    const channels = stream.renderer.channels;
    for (let f = 0; f < o.frames; f++) {
      if (f > 0 && f % (o.framesPerLook ?? 30) === 0) stream.beginEpisode();
      sweepPose(joints, f, period, rate, q, qd);
      stream.frame(q, qd, image);
      cam.frame({ width, height, encoding: channels === 3 ? "rgb8" : "mono8", step: width * channels, data: image }, stamp(f / rate));
    }
    return { camera: camName, frames: o.frames };
  } finally {
    stream.dispose();
    await cam.close();
    await log.close();
  }
}
