/**
 * Joints seen through a camera, for the control loop (LoopPerception): each
 * cycle takes the camera's newest frame; a new one goes through the
 * perception network (decoded, cropped and resized to its input as it was
 * trained), and its estimate replaces those joints' encoder positions in
 * what the observation builder gets, held until the next frame. The
 * observation builder is the shared one: it differentiates positions for
 * velocities as in simulation, so the policy sees the same held-then-jumping
 * signal it trained with.
 *
 * A camera with no frame within its latency budget is stale: observe()
 * returns why and the loop stops the robot (zero command, torque off). The
 * encoders stay in the log's /joint_states and in the safety layer; frames
 * and estimates go to the camera log, beside them.
 */
import type { PerceptionEstimator } from "../../policies/runtime/perception-estimator.js";
import type { CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { toNetworkInput, type NetworkInputSpec } from "../../sim/sensors/image-resize.js";
import type { CameraLog } from "../log/camera-log.js";
import { StaleFrameError, type CameraFrame } from "../ros2/ros2-camera.js";
import type { LoopPerception } from "./control-loop.js";

/** What perception needs of a camera (Ros2Camera has it). */
export interface FrameSource {
  readonly imageTopic: string;
  /** The camera's calibration (checked against the model's before starting). */
  readonly intrinsics: CameraIntrinsics;
  /** The newest frame; throws StaleFrameError when it is too old or none came. */
  frame(now?: number): CameraFrame;
}

export interface CameraPerceptionOptions {
  camera: FrameSource;
  estimator: PerceptionEstimator & { reset?(): void };
  /** The loop's joint order (the hardware's). */
  jointOrder: readonly string[];
  /** Frames and estimates are logged here when given. */
  log?: CameraLog;
}

export class CameraPerception implements LoopPerception {
  /** Frames that went through the network. */
  framesSeen = 0;
  readonly jointNames: readonly string[];
  private readonly slots: number[];
  private readonly held: Float64Array;
  private readonly spec: NetworkInputSpec;
  private lastSeq = -1;
  private toLog: CameraFrame | undefined;

  constructor(private readonly o: CameraPerceptionOptions) {
    const e = o.estimator;
    this.jointNames = e.jointNames;
    this.slots = e.jointNames.map((j) => {
      const i = o.jointOrder.indexOf(j);
      if (i < 0) throw new RangeError(`camera perception: the perception network estimates joint ${JSON.stringify(j)}, which the robot does not have (joints: ${o.jointOrder.join(", ")})`);
      return i;
    });
    this.held = new Float64Array(e.jointNames.length);
    this.spec = { width: e.inputWidth, height: e.inputHeight, encoding: e.encoding, crop: e.crop };
  }

  observe(position: Float64Array): string | undefined {
    let f: CameraFrame;
    try {
      f = this.o.camera.frame();
    } catch (e) {
      if (e instanceof StaleFrameError) return e.message;
      throw e;
    }
    if (f.seq !== this.lastSeq) {
      this.lastSeq = f.seq;
      const input = toNetworkInput(f.image, this.o.camera.intrinsics, this.spec, `${this.o.camera.imageTopic}[${f.seq}]`);
      const est = this.o.estimator.estimate(input.image);
      if (est.length !== this.held.length) throw new Error(`camera perception: the network gave ${est.length} angles for ${this.held.length} joints (${this.jointNames.join(", ")})`);
      this.held.set(est);
      this.framesSeen++;
      this.toLog = f;
    }
    this.slots.forEach((i, j) => (position[i] = this.held[j]!));
    return undefined;
  }

  log(): void {
    const f = this.toLog;
    if (!f || !this.o.log) return;
    this.toLog = undefined;
    this.o.log.frame(f.image, f.stampNs);
    this.o.log.estimate(this.jointNames, this.held, f.stampNs);
  }

  /**
   * Runs the network on blank inputs and forgets them: its first runs (session
   * set-up, allocation, JIT) cost hundreds of ms, which in the loop would make
   * the camera look stale. Call before the loop starts.
   */
  warmUp(runs = 5): void {
    const k = this.o.camera.intrinsics;
    // A blank frame of the camera's size through the whole path: decode, crop, resize, network.
    const blank = { width: k.width, height: k.height, encoding: "rgb8", isBigEndian: false, step: k.width * 3, data: new Uint8Array(k.width * k.height * 3) };
    for (let i = 0; i < runs; i++) this.o.estimator.estimate(toNetworkInput(blank, k, this.spec, "warm-up frame").image);
    this.reset();
  }

  /** Waits for the camera log's frames in flight (PNG encoding); call before the session log closes. */
  async close(): Promise<void> {
    await this.o.log?.close();
  }

  reset(): void {
    this.lastSeq = -1;
    this.toLog = undefined;
    this.held.fill(0);
    this.o.estimator.reset?.();
  }
}
