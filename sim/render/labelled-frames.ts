import { Rng } from "../../common/rng.js";
import { wrapAngle } from "../physics/math.js";
import { movingJoints } from "../urdf/model.js";
import { CameraStream, type CameraScene } from "./camera-stream.js";

/**
 * Fresh labelled training images for a perception network: each sample is a
 * new episode's look (the task's visual randomization, camera jitter
 * included), a joint state drawn over the task's range (uniform within a
 * limited joint's limits, a full turn for a continuous one) and velocities
 * drawn up to `maxSpeed` (motion blur follows them). With frames stacked the
 * earlier frames show the robot earlier on the same constant-velocity motion,
 * one frame period apart, interleaved per pixel oldest first (the layout of
 * PerceptionNet's input). The label is the joint angle the newest delivered
 * frame shows: a delayed frame (camera.<name>.delay) is labelled with the
 * pose of its own time.
 */
export interface LabelledFramesOptions {
  width: number;
  height: number;
  encoding: "rgb8" | "mono8";
  framesStacked: number;
  /** Joints labelled, in output order (names of moving URDF joints). */
  joints: readonly string[];
  /** Largest joint speed drawn, rad/s (uniform in +-maxSpeed, capped at the joint's velocity limit). */
  maxSpeed: number;
  randomized: boolean;
  camera?: string;
  seed: number;
  /** Selects this generator's random streams (one per worker). */
  stream: number;
}

export class LabelledFrames {
  readonly stream: CameraStream;
  readonly frameBytes: number;
  /** Bytes of one sample: framesStacked frames interleaved. */
  readonly sampleBytes: number;
  private readonly rng: Rng;
  private readonly observed: number[];
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly speed: Float64Array;
  private readonly frames: Uint8Array[];
  private readonly poses: Float64Array[];
  private readonly qd: Float64Array;

  constructor(scene: CameraScene, private readonly opts: LabelledFramesOptions) {
    const joints = movingJoints(scene.model);
    this.observed = opts.joints.map((name) => {
      const i = joints.findIndex((j) => j.name === name);
      if (i < 0) throw new Error(`labelled frames: the robot has no moving joint "${name}" (joints: ${joints.map((j) => j.name).join(", ")})`);
      return i;
    });
    if (!(opts.maxSpeed >= 0 && Number.isFinite(opts.maxSpeed))) throw new RangeError(`labelled frames: maxSpeed must be a finite number >= 0, got ${opts.maxSpeed}`);
    this.lo = Float64Array.from(joints, (j) => (Number.isFinite(j.limit?.lower ?? NaN) && Number.isFinite(j.limit?.upper ?? NaN) ? j.limit!.lower! : -Math.PI));
    this.hi = Float64Array.from(joints, (j) => (Number.isFinite(j.limit?.lower ?? NaN) && Number.isFinite(j.limit?.upper ?? NaN) ? j.limit!.upper! : Math.PI));
    this.speed = Float64Array.from(joints, (j) => Math.min(opts.maxSpeed, j.limit?.velocity && j.limit.velocity > 0 ? j.limit.velocity : Infinity));
    this.stream = new CameraStream(scene, { camera: opts.camera, width: opts.width, height: opts.height, encoding: opts.encoding, randomized: opts.randomized, seed: opts.seed, envIndex: opts.stream });
    this.frameBytes = this.stream.frameBytes;
    this.sampleBytes = this.frameBytes * opts.framesStacked;
    this.rng = Rng.derive(opts.seed, opts.stream, 0x1abe1);
    this.frames = Array.from({ length: opts.framesStacked }, () => new Uint8Array(this.frameBytes));
    this.poses = Array.from({ length: opts.framesStacked }, () => new Float64Array(joints.length));
    this.qd = new Float64Array(joints.length);
  }

  /** Renders `rows` samples into images (rows x sampleBytes) and their labels into angles (rows x joints, rad). */
  fill(images: Uint8Array, angles: Float64Array, rows: number): void {
    const F = this.opts.framesStacked, J = this.observed.length, C = this.stream.renderer.channels;
    if (images.length < rows * this.sampleBytes || angles.length < rows * J) throw new RangeError(`labelled frames: buffers too small for ${rows} samples`);
    const dt = 1 / this.stream.camera.frameRate;
    const pixels = this.frameBytes / C;
    for (let r = 0; r < rows; r++) {
      this.stream.beginEpisode();
      const last = this.poses[F - 1]!;
      for (let i = 0; i < last.length; i++) {
        last[i] = this.rng.uniform(this.lo[i]!, this.hi[i]!);
        this.qd[i] = this.rng.uniform(-this.speed[i]!, this.speed[i]!);
      }
      for (let f = 0; f < F - 1; f++) for (let i = 0; i < last.length; i++) this.poses[f]![i] = last[i]! - (F - 1 - f) * dt * this.qd[i]!;
      let age = 0;
      for (let f = 0; f < F; f++) age = this.stream.frame(this.poses[f]!, this.qd, this.frames[f]!).age;
      const shown = this.poses[F - 1 - age]!;
      for (let j = 0; j < J; j++) angles[r * J + j] = wrapAngle(shown[this.observed[j]!]!);
      const out = images.subarray(r * this.sampleBytes, (r + 1) * this.sampleBytes);
      if (F === 1) out.set(this.frames[0]!);
      else for (let p = 0; p < pixels; p++) for (let f = 0; f < F; f++) out.set(this.frames[f]!.subarray(p * C, p * C + C), (p * F + f) * C);
    }
  }

  dispose(): void {
    this.stream.dispose();
  }
}
