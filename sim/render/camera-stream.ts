import { hashKeys, Rng } from "../../common/rng.js";
import type { ParamTable } from "../params.js";
import type { Randomizer } from "../randomization/randomizer.js";
import { cropResizeIntrinsics, type CameraConfig, type CameraIntrinsics } from "../sensors/camera-config.js";
import type { RobotModel } from "../urdf/model.js";
import { Renderer, type RendererOptions } from "./renderer.js";

/** What a stream needs of a task (a TaskSetup has it all). */
export interface CameraScene {
  model: RobotModel;
  visualTable: ParamTable;
  visualRandomizer: Randomizer;
  config: { robot: { cameras: readonly CameraConfig[] } };
}

export interface CameraStreamOptions {
  /** Camera name (default: the robot's first camera). */
  camera?: string;
  /** Output size: the native image centre-cropped to this aspect and resized (default: the native size). */
  width?: number;
  height?: number;
  encoding?: "rgb8" | "mono8";
  /** Draw the task's visual randomization (default) or render the nominal look. */
  randomized?: boolean;
  seed: number;
  /** Selects this stream's random numbers: env i sees the same frames on any worker, in any batch. */
  envIndex: number;
  renderer?: Pick<RendererOptions, "maxSubframes" | "blurStepPx" | "near">;
}

export interface FrameInfo {
  /** Motion-blur sub-poses drawn. */
  subframes: number;
  /** The frame was dropped: `out` holds the previous delivered frame again. */
  dropped: boolean;
  /** `out` shows the scene this many frames ago (delay randomization). */
  age: number;
}

/** Most frames a delayed stream lags behind (camera.<name>.delay is clamped to it). */
export const MAX_FRAME_DELAY = 4;

/**
 * Randomized frames of one environment's camera, the unit vision training
 * builds on: `beginEpisode()` draws the episode's look, `frame(q, qd, out)`
 * redraws the per-frame entries, renders, and applies drops and delays.
 * Everything random comes from streams derived from (seed, envIndex, episode,
 * frame), so a frame's bytes do not depend on the thread or batch it is
 * rendered in.
 */
export class CameraStream {
  readonly renderer: Renderer;
  readonly camera: CameraConfig;
  readonly intrinsics: CameraIntrinsics;
  /** Appearance values of the current frame (visual table order). */
  readonly values: Float64Array;
  private readonly episodeValues: Float64Array;
  private readonly ring: Uint8Array[];
  private readonly dropIdx: number;
  private readonly delayIdx: number;
  private episode = -1;
  private frameIndex = 0;
  private delivered = -1;
  private rng: Rng;

  constructor(
    private readonly scene: CameraScene,
    private readonly opts: CameraStreamOptions,
  ) {
    const cams = scene.config.robot.cameras;
    if (cams.length === 0) throw new Error("CameraStream: the robot config has no cameras (robot.cameras)");
    const cam = opts.camera === undefined ? cams[0]! : cams.find((c) => c.name === opts.camera);
    if (!cam) throw new Error(`CameraStream: no camera ${JSON.stringify(opts.camera)} (cameras: ${cams.map((c) => c.name).join(", ")})`);
    this.camera = cam;
    this.intrinsics = networkIntrinsics(cam.intrinsics, opts.width ?? cam.intrinsics.width, opts.height ?? cam.intrinsics.height);
    this.renderer = new Renderer(scene.model, scene.visualTable, { camera: cam, intrinsics: this.intrinsics, encoding: opts.encoding ?? cam.encoding, ...opts.renderer });
    this.values = scene.visualTable.nominal();
    this.episodeValues = scene.visualTable.nominal();
    this.ring = Array.from({ length: MAX_FRAME_DELAY + 1 }, () => new Uint8Array(this.renderer.frameBytes));
    this.dropIdx = scene.visualTable.indexOf(`camera.${cam.name}.dropRate`);
    this.delayIdx = scene.visualTable.indexOf(`camera.${cam.name}.delay`);
    this.rng = new Rng(0);
    this.beginEpisode();
  }

  get frameBytes(): number {
    return this.renderer.frameBytes;
  }

  /** Draws a new episode's look (nominal when not randomized). */
  beginEpisode(): void {
    this.episode++;
    this.frameIndex = 0;
    this.delivered = -1;
    this.rng = Rng.derive(this.opts.seed, this.opts.envIndex, this.episode, 0x7e1);
    if (this.opts.randomized ?? true) this.scene.visualRandomizer.drawEpisode(this.rng, this.episodeValues);
    else this.episodeValues.set(this.scene.visualTable.nominal());
  }

  /** Renders the robot at joint positions `q` moving at `qd` into `out` (HWC bytes). */
  frame(q: ArrayLike<number>, qd: ArrayLike<number> | undefined, out: Uint8Array): FrameInfo {
    if (this.opts.randomized ?? true) this.scene.visualRandomizer.applyStep(this.rng, this.episodeValues, this.values);
    else this.values.set(this.episodeValues);
    const k = this.frameIndex++;
    const slot = this.ring[k % this.ring.length]!;
    const subframes = this.renderer.render(q, qd, this.values, { scene: hashKeys(this.opts.seed, this.opts.envIndex, this.episode), frame: hashKeys(this.opts.seed, this.opts.envIndex, this.episode, k) }, slot);
    const delay = Math.min(MAX_FRAME_DELAY, k, Math.max(0, Math.round(this.values[this.delayIdx]!)));
    // A drop repeats the last delivered frame, for as long as the ring still holds it.
    const dropped = this.delivered >= 0 && k - this.delivered < MAX_FRAME_DELAY && this.rng.next() < this.values[this.dropIdx]!;
    if (!dropped) this.delivered = k - delay;
    out.set(this.ring[this.delivered % this.ring.length]!.subarray(0, this.frameBytes));
    return { subframes, dropped, age: k - this.delivered };
  }

  dispose(): void {
    this.renderer.dispose();
  }
}

/** The native intrinsics centre-cropped to the aspect of width x height and resized to it (identity at the native size). */
export function networkIntrinsics(native: CameraIntrinsics, width: number, height: number): CameraIntrinsics {
  if (width === native.width && height === native.height) return native;
  const aspect = width / height;
  const w = Math.min(native.width, native.height * aspect);
  const h = w / aspect;
  return cropResizeIntrinsics(native, { x0: (native.width - w) / 2, y0: (native.height - h) / 2, w, h }, width, height);
}
