import { hashKeys, Rng } from "../../common/rng.js";
import { composeTransforms, invertTransform, quatFromRpy, quatToMatrix, transformPoint, type Transform, type Vec3 } from "../physics/math.js";
import type { ParamTable } from "../params.js";
import type { CameraConfig, CameraIntrinsics } from "../sensors/camera-config.js";
import type { RobotModel } from "../urdf/model.js";
import { Kinematics } from "./kinematics.js";
import { projectPoint, Rasterizer, textureFactor, type Lighting, type MeshArrays, type Projection, type Surface } from "./rasterizer.js";
import { buildSceneGeometry, soupToArrays, type SceneGeometry } from "./scene-geometry.js";
import { emptySoup, tessellateVisual } from "./tessellate.js";
import { CHANNEL_ORDERS, hsvToRgb, SURFACE_PARAMS } from "./visual-params.js";

export interface RendererOptions {
  camera: CameraConfig;
  /** The image to render: the camera's native intrinsics (default) or a crop/resize of them (cropResizeIntrinsics), e.g. 96 x 96 for a network. */
  intrinsics?: CameraIntrinsics;
  /** Default: the camera's encoding. */
  encoding?: "rgb8" | "mono8";
  /** Motion blur: at most this many sub-poses per frame (default 8)... */
  maxSubframes?: number;
  /** ...one per this many pixels the fastest visible point moves during the exposure (default 1.5). */
  blurStepPx?: number;
  /** Near clipping plane, m (default 0.01). */
  near?: number;
}

/** Random streams of one frame: `scene` places the distractors (keep it fixed over an episode), `frame` drives the sensor noise. */
export interface FrameSeeds {
  scene: number;
  frame: number;
}

/** At most this many distractor shapes, whatever `visual.distractors.count` says. */
export const MAX_DISTRACTORS = 12;

/**
 * Renders a robot model, posed by forward kinematics from joint positions,
 * as its camera sees it: rgb8 or mono8 HWC bytes. The appearance is the
 * visual parameter vector (visual-params.ts): the nominal values of the table
 * or a randomized draw. Output depends only on (q, qd, values, seeds): same
 * inputs, same bytes, on any thread.
 *
 * The background (backdrop, distractors, links no joint moves) is drawn once
 * into a cached layer and redrawn only when a value it depends on changes;
 * each frame then draws the moving links over it, once per motion-blur
 * sub-pose, and averages the sub-poses. The camera must be fixed to the world
 * or to a link no joint moves (a camera on the robot is a later issue).
 */
export class Renderer {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly encoding: "rgb8" | "mono8";
  private readonly geo: SceneGeometry;
  private readonly kin: Kinematics;
  private readonly raster: Rasterizer;
  private readonly bgColor: Float32Array;
  private readonly bgDepth: Float32Array;
  private readonly accum: Float32Array;
  private readonly lut = new Float32Array(LUT_SIZE);
  private readonly lutKey = new Float64Array(2).fill(NaN);
  private readonly perm = new Int32Array(3);
  /** Tone-mapped background (cached while background, tone curve and channel order stay), and the robot's rectangle of this frame. */
  private readonly bgTone: Float32Array;
  private readonly tone: Float32Array;
  private readonly bgToneKey = new Float64Array(6).fill(NaN);
  private bgVersion = 0;
  private readonly noiseTable = normalTable();
  private readonly bgKey: Float64Array;
  private readonly bgKeyIdx: number[];
  private readonly shapes: MeshArrays[];
  private readonly idx: Indices;
  /** Per visible link, per visual: the surface drawn this frame. */
  private readonly partSurfaces: Surface[][];
  private readonly linkIsStatic: boolean[];
  private readonly mountParent: number;
  private readonly maxSubframes: number;
  private readonly blurStepPx: number;
  private readonly near: number;
  private readonly intr: CameraIntrinsics;
  private readonly m = new Float64Array(12);
  private readonly proj: Projection;
  private readonly light: Lighting = { lx: 0, ly: 0, lz: 1, ambient: 0, intensity: 0, specular: 0 };
  private readonly qSub: Float64Array;
  /** Bounding-box corners of the moving links, and their image positions at both ends of the exposure. */
  private readonly blurCorners: number;
  private readonly blurEnds: Float64Array;
  /** Union of the sub-poses' dirty rectangles: minX, minY, maxX, maxY. */
  private readonly touched = new Int32Array(4);
  private camFromWorld: Transform = { pos: [0, 0, 0], rot: [0, 0, 0, 1] };
  /** Camera pose values camFromWorld was computed for. */
  private readonly cameraKey = new Float64Array(6).fill(NaN);
  private disposed = false;

  constructor(
    model: RobotModel,
    readonly table: ParamTable,
    readonly options: RendererOptions,
  ) {
    const cam = options.camera;
    this.intr = options.intrinsics ?? cam.intrinsics;
    this.width = this.intr.width;
    this.height = this.intr.height;
    this.encoding = options.encoding ?? cam.encoding;
    this.channels = this.encoding === "mono8" ? 1 : 3;
    this.maxSubframes = options.maxSubframes ?? 8;
    this.blurStepPx = options.blurStepPx ?? 1.5;
    this.near = options.near ?? 0.01;
    this.geo = buildSceneGeometry(model);
    this.kin = new Kinematics(model);
    this.qSub = new Float64Array(this.kin.jointNames.length);
    if (cam.mount.parent === "world") this.mountParent = -1;
    else {
      this.mountParent = this.kin.linkNames.indexOf(cam.mount.parent);
      if (this.mountParent < 0) throw new Error(`camera ${cam.name}: mount.parent: no link ${JSON.stringify(cam.mount.parent)} in robot ${model.name} (links: ${this.kin.linkNames.join(", ")}, or "world")`);
      if (!this.kin.isStatic[this.mountParent]) throw new Error(`camera ${cam.name}: mount.parent: link ${cam.mount.parent} is moved by a joint; a camera on a moving link is not supported (mount it on the world or a fixed link)`);
    }
    this.raster = new Rasterizer(this.width, this.height);
    const n = this.width * this.height;
    this.bgColor = new Float32Array(n * 3);
    this.bgDepth = new Float32Array(n);
    this.accum = new Float32Array(n * 3);
    this.bgTone = new Float32Array(n * this.channels);
    this.tone = new Float32Array(n * this.channels);
    this.idx = resolveIndices(table, this.geo, cam.name);
    this.partSurfaces = this.geo.links.map((l) => l.parts.map(() => ({ r: 0, g: 0, b: 0, family: 0, scale: 1, contrast: 0 })));
    this.linkIsStatic = this.geo.links.map((l) => this.kin.isStatic[l.linkIndex]!);
    this.blurCorners = 8 * this.linkIsStatic.filter((s) => !s).length;
    this.blurEnds = new Float64Array(this.blurCorners * 4);
    this.shapes = distractorShapes();
    this.proj = { fx: 0, fy: 0, cx: this.intr.cx, cy: this.intr.cy, distortion: this.intr.distortionModel === "plumb_bob" ? this.intr.distortion : undefined, near: this.near };
    // Everything the background layer depends on: its surfaces, distractors, light, camera pose and focal scale.
    this.bgKeyIdx = [
      ...this.idx.background,
      this.idx.distractorCount,
      this.idx.distractorSize,
      ...this.idx.light,
      ...this.idx.cameraPose,
      this.idx.fov,
      ...this.geo.links.flatMap((l, k) => (this.linkIsStatic[k] ? this.idx.links[k]! : [])),
    ];
    this.bgKey = new Float64Array(this.bgKeyIdx.length + 1).fill(NaN);
  }

  /** Robot triangles in the scene (before culling). */
  get triangleCount(): number {
    return this.geo.normals.length / 3;
  }

  /** Bytes of one frame: width x height x channels. */
  get frameBytes(): number {
    return this.width * this.height * this.channels;
  }

  /**
   * Renders joint positions `q` (rad or m, movingJoints order) moving at `qd`
   * over the exposure into `out` (HWC bytes). Returns the number of motion-blur
   * sub-poses drawn.
   */
  render(q: ArrayLike<number>, qd: ArrayLike<number> | undefined, values: Float64Array, seeds: FrameSeeds, out: Uint8Array): number {
    if (this.disposed) throw new Error("Renderer: used after dispose()");
    if (out.length < this.frameBytes) throw new RangeError(`Renderer.render: out holds ${out.length} bytes, a ${this.width}x${this.height} ${this.encoding} frame needs ${this.frameBytes}`);
    if (q.length !== this.qSub.length) throw new RangeError(`Renderer.render: q has ${q.length} entries, the robot has ${this.qSub.length} moving joints (${this.kin.jointNames.join(", ")})`);
    this.setCamera(values);
    this.setLight(values);
    for (let k = 0; k < this.geo.links.length; k++) readLinkSurfaces(values, this.idx.links[k]!, this.geo.links[k]!.parts, this.partSurfaces[k]!);
    if (this.backgroundChanged(values, seeds.scene)) this.drawBackground(values, seeds.scene);

    const exposure = Math.max(0, values[this.idx.exposure]!);
    const subframes = qd ? this.subframesFor(q, qd, exposure) : 1;
    const r = this.raster;
    // The working buffers equal the background outside the last dirty rectangle; `accum` holds the
    // sum over sub-poses of (frame - background), zero outside `touched`.
    const touched = this.touched;
    touched.fill(-1);
    touched[0] = this.width; touched[1] = this.height;
    for (let s = 0; s < subframes; s++) {
      // Sub-pose times spread evenly over the exposure, centred on the frame time.
      const t = subframes === 1 ? 0 : exposure * ((s + 0.5) / subframes - 0.5);
      for (let j = 0; j < this.qSub.length; j++) this.qSub[j] = q[j]! + (qd ? qd[j]! * t : 0);
      const poses = this.kin.linkPoses(this.qSub);
      r.resetDirty();
      for (let k = 0; k < this.geo.links.length; k++) {
        if (this.linkIsStatic[k]) continue;
        const l = this.geo.links[k]!;
        this.setMatrix(poses[l.linkIndex]!, 1);
        this.drawLink(k);
      }
      if (r.dirtyMaxX < 0) continue;
      touched[0] = Math.min(touched[0]!, r.dirtyMinX); touched[1] = Math.min(touched[1]!, r.dirtyMinY);
      touched[2] = Math.max(touched[2]!, r.dirtyMaxX); touched[3] = Math.max(touched[3]!, r.dirtyMaxY);
      accumulateAndRestore(r.color, r.depth, this.bgColor, this.bgDepth, this.accum, this.width, r.dirtyMinX, r.dirtyMinY, r.dirtyMaxX, r.dirtyMaxY);
    }
    this.finish(1 / subframes, values, seeds.frame, out);
    clearRect(this.accum, this.width, touched[0]!, touched[1]!, touched[2]!, touched[3]!);
    return subframes;
  }

  /** Where a world point lands in the image at the given appearance values (camera pose and focal scale), or undefined behind the camera. */
  project(world: Readonly<Vec3>, values: Float64Array): [number, number] | undefined {
    this.setCamera(values);
    const p = transformPoint(this.camFromWorld, world);
    if (p[2] <= 0) return undefined;
    const uv = new Float64Array(2);
    projectPoint(this.proj, p[0], p[1], p[2], uv, 0);
    return [uv[0]!, uv[1]!];
  }

  dispose(): void {
    // Plain typed arrays: dropping them is enough; the flag makes later use a clear error.
    this.disposed = true;
  }


  private setCamera(values: Float64Array): void {
    // The camera is fixed (world or a static link): its pose changes only with its pose values.
    const key = this.cameraKey;
    let same = true;
    for (let i = 0; i < 6; i++) {
      const v = values[this.idx.cameraPose[i]!]!;
      if (key[i] !== v) { key[i] = v; same = false; }
    }
    const fov = values[this.idx.fov]!;
    if (!(fov > 0)) throw new RangeError(`camera ${this.options.camera.name}: fov scale must be > 0, got ${fov}`);
    this.proj.fx = this.intr.fx * fov;
    this.proj.fy = this.intr.fy * fov;
    if (same) return;
    const mount = this.options.camera.mount;
    const [ix, iy, iz, iroll, ipitch, iyaw] = this.idx.cameraPose as [number, number, number, number, number, number];
    const parent: Transform = this.mountParent < 0 ? { pos: [0, 0, 0], rot: [0, 0, 0, 1] } : this.kin.linkPoses(this.qSub)[this.mountParent]!;
    const mountT: Transform = { pos: [mount.xyz[0]! + values[ix]!, mount.xyz[1]! + values[iy]!, mount.xyz[2]! + values[iz]!], rot: quatFromRpy(mount.rpy as Vec3) };
    // The jitter turns the camera about its own optical axes.
    const jitter: Transform = { pos: [0, 0, 0], rot: quatFromRpy([values[iroll]!, values[ipitch]!, values[iyaw]!]) };
    this.camFromWorld = invertTransform(composeTransforms(composeTransforms(parent, mountT), jitter));
  }

  private setLight(values: Float64Array): void {
    const [ia, ie, ii, iamb, isp] = this.idx.light as [number, number, number, number, number];
    const az = values[ia]!, el = values[ie]!;
    const towardLight: Vec3 = [Math.cos(el) * Math.cos(az), Math.cos(el) * Math.sin(az), Math.sin(el)];
    const r = quatToMatrix(this.camFromWorld.rot);
    this.light.lx = r[0]! * towardLight[0] + r[1]! * towardLight[1] + r[2]! * towardLight[2];
    this.light.ly = r[3]! * towardLight[0] + r[4]! * towardLight[1] + r[5]! * towardLight[2];
    this.light.lz = r[6]! * towardLight[0] + r[7]! * towardLight[1] + r[8]! * towardLight[2];
    this.light.intensity = Math.max(0, values[ii]!);
    this.light.ambient = Math.max(0, values[iamb]!);
    this.light.specular = Math.max(0, values[isp]!);
  }

  /** Draws visible link k posed by this.m, each visual with its own surface. */
  private drawLink(k: number): void {
    const parts = this.geo.links[k]!.parts;
    for (let p = 0; p < parts.length; p++) this.raster.drawMesh(this.geo, parts[p]!.start, parts[p]!.count, this.m, this.partSurfaces[k]![p]!, this.light, this.proj);
  }

  /** this.m = optical frame <- object frame (object posed at `world`, uniformly scaled by `s`). */
  private setMatrix(world: Transform, s: number): void {
    const t = composeTransforms(this.camFromWorld, world);
    const r = quatToMatrix(t.rot);
    const m = this.m;
    for (let i = 0; i < 3; i++) {
      m[i * 4] = r[i * 3]! * s;
      m[i * 4 + 1] = r[i * 3 + 1]! * s;
      m[i * 4 + 2] = r[i * 3 + 2]! * s;
      m[i * 4 + 3] = t.pos[i]!;
    }
  }

  /** Sub-poses for the exposure: one per `blurStepPx` of the largest image motion of any moving link's bounding-box corner. */
  private subframesFor(q: ArrayLike<number>, qd: ArrayLike<number>, exposure: number): number {
    if (exposure === 0 || this.maxSubframes <= 1) return 1;
    let moving = false;
    for (let j = 0; j < qd.length; j++) if (qd[j] !== 0) moving = true;
    if (!moving) return 1;
    const ends = this.blurEnds; // [end][corner][u, v]; NaN behind the camera
    const links = this.geo.links;
    for (let e = 0; e < 2; e++) {
      const sgn = e === 0 ? -0.5 : 0.5;
      for (let j = 0; j < this.qSub.length; j++) this.qSub[j] = q[j]! + qd[j]! * exposure * sgn;
      const poses = this.kin.linkPoses(this.qSub);
      let n = 0;
      for (let k = 0; k < links.length; k++) {
        if (this.linkIsStatic[k]) continue;
        const l = links[k]!;
        const toCam = composeTransforms(this.camFromWorld, poses[l.linkIndex]!);
        for (let c = 0; c < 8; c++, n++) {
          const p = transformPoint(toCam, [l.corners[c * 3]!, l.corners[c * 3 + 1]!, l.corners[c * 3 + 2]!]);
          const o = (e * this.blurCorners + n) * 2;
          if (p[2] > this.near) projectPoint(this.proj, p[0], p[1], p[2], ends, o);
          else ends[o] = ends[o + 1] = NaN;
        }
      }
    }
    let maxPx = 0;
    for (let i = 0; i < this.blurCorners; i++) {
      const a = i * 2, b = (this.blurCorners + i) * 2;
      const d = Math.hypot(ends[b]! - ends[a]!, ends[b + 1]! - ends[a + 1]!);
      if (d > maxPx) maxPx = d; // NaN (behind the camera) never wins
    }
    return Math.max(1, Math.min(this.maxSubframes, Math.ceil(maxPx / this.blurStepPx)));
  }

  private backgroundChanged(values: Float64Array, sceneSeed: number): boolean {
    let changed = false;
    const key = this.bgKey;
    for (let i = 0; i < this.bgKeyIdx.length; i++) {
      const v = values[this.bgKeyIdx[i]!]!;
      if (!Object.is(key[i], v)) { key[i] = v; changed = true; }
    }
    const last = key.length - 1;
    if (!Object.is(key[last], sceneSeed)) { key[last] = sceneSeed; changed = true; }
    return changed;
  }

  /** Backdrop texture (in image coordinates), distractor shapes and the links no joint moves, with their depth. */
  private drawBackground(values: Float64Array, sceneSeed: number): void {
    const r = this.raster;
    const W = this.width, H = this.height;
    const bg: Surface = { r: 0, g: 0, b: 0, family: 0, scale: 1, contrast: 0 };
    readSurface(values, this.idx.background, bg);
    const c = r.color;
    const perPixel = bg.scale / W;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const f = textureFactor(bg.family, x * perPixel, y * perPixel, bg.contrast);
        const o = (y * W + x) * 3;
        c[o] = bg.r * f;
        c[o + 1] = bg.g * f;
        c[o + 2] = bg.b * f;
      }
    }
    r.depth.fill(0);
    this.drawDistractors(values, sceneSeed);
    const poses = this.kin.linkPoses(this.qSub);
    this.geo.links.forEach((l, k) => {
      if (!this.linkIsStatic[k]) return;
      this.setMatrix(poses[l.linkIndex]!, 1);
      this.drawLink(k);
    });
    // The working buffers stay equal to the background between frames (render restores what it draws).
    this.bgColor.set(r.color);
    this.bgDepth.set(r.depth);
    this.bgVersion++;
  }

  /** Shapes scattered around the robot, outside the reach of its moving links, placed by the scene seed. */
  private drawDistractors(values: Float64Array, sceneSeed: number): void {
    const count = Math.min(MAX_DISTRACTORS, Math.max(0, Math.round(values[this.idx.distractorCount]!)));
    if (count === 0) return;
    const size = Math.max(0, values[this.idx.distractorSize]!);
    const rng = new Rng(hashKeys(sceneSeed, 0xd157));
    const surf: Surface = { r: 0, g: 0, b: 0, family: 0, scale: 1, contrast: 0 };
    const rgb = [0, 0, 0];
    for (let i = 0; i < count; i++) {
      const shape = this.shapes[rng.int(this.shapes.length)]!;
      const radius = rng.uniform(DISTRACTOR_RING[0], DISTRACTOR_RING[1]);
      const az = rng.uniform(0, 2 * Math.PI);
      const pose: Transform = {
        pos: [radius * Math.cos(az), radius * Math.sin(az), rng.uniform(DISTRACTOR_Z[0], DISTRACTOR_Z[1])],
        rot: quatFromRpy([rng.uniform(-Math.PI, Math.PI), rng.uniform(-Math.PI, Math.PI), rng.uniform(-Math.PI, Math.PI)]),
      };
      hsvToRgb(rng.uniform(0, 360), rng.next(), rng.uniform(0.15, 1), rgb);
      surf.r = rgb[0]!; surf.g = rgb[1]!; surf.b = rgb[2]!;
      surf.family = rng.int(5);
      surf.scale = rng.uniform(2, 8); // cycles per shape size: the shapes are unit-sized before scaling
      surf.contrast = rng.uniform(0, 0.8);
      this.setMatrix(pose, size * rng.uniform(0.5, 1.5));
      this.raster.drawMesh(shape, 0, shape.normals.length / 3, this.m, surf, this.light, this.proj);
    }
  }

  /**
   * Background plus the averaged sub-pose differences, through the tone curve
   * (cached for the background, recomputed in the rectangle the robot
   * touched), brightness, sensor noise and quantization, into `out`.
   */
  private finish(weight: number, values: Float64Array, frameSeed: number, out: Uint8Array): void {
    const gamma = values[this.idx.gamma]!, contrast = values[this.idx.contrast]!;
    this.updateLut(gamma, contrast);
    const order = CHANNEL_ORDERS[Math.min(CHANNEL_ORDERS.length - 1, Math.max(0, Math.round(values[this.idx.channelOrder]!)))]!;
    const perm = this.perm;
    perm[0] = "rgb".indexOf(order[0]!); perm[1] = "rgb".indexOf(order[1]!); perm[2] = "rgb".indexOf(order[2]!);
    const key = this.bgToneKey;
    if (key[0] !== this.bgVersion || key[1] !== gamma || key[2] !== contrast || key[3] !== perm[0] || key[4] !== perm[1] || key[5] !== perm[2]) {
      key[0] = this.bgVersion; key[1] = gamma; key[2] = contrast; key[3] = perm[0]!; key[4] = perm[1]!; key[5] = perm[2]!;
      toneRect(this.bgColor, undefined, 0, this.lut, perm, this.channels, this.width, 0, 0, this.width - 1, this.height - 1, this.bgTone);
    }
    const offset = values[this.idx.brightness]! * 255;
    const noise = Math.max(0, values[this.idx.noise]!) * 255;
    // Sensor noise: a fixed table of normal samples read from a per-frame random start, indexed by
    // output byte, so the rectangle requantized below gets the same noise as the pass over everything.
    const start = hashKeys(frameSeed, 0x5e45) & NOISE_MASK;
    const bytes = new Uint8ClampedArray(out.buffer, out.byteOffset, this.frameBytes);
    quantize(this.bgTone, 0, this.bgTone.length, offset, noise, this.noiseTable, start, bytes);
    const t = this.touched;
    if (t[2]! < 0) return;
    const ch = this.channels, W = this.width;
    toneRect(this.bgColor, this.accum, weight, this.lut, perm, ch, W, t[0]!, t[1]!, t[2]!, t[3]!, this.tone);
    for (let y = t[1]!; y <= t[3]!; y++) quantize(this.tone, (y * W + t[0]!) * ch, (y * W + t[2]! + 1) * ch, offset, noise, this.noiseTable, start, bytes);
  }

  /** Gamma and contrast per episode into a table; brightness is an offset added per pixel (it may change every frame). */
  private updateLut(gamma: number, contrast: number): void {
    const k = this.lutKey;
    if (k[0] === gamma && k[1] === contrast) return;
    if (!(gamma > 0)) throw new RangeError(`camera ${this.options.camera.name}: gamma must be > 0, got ${gamma}`);
    k[0] = gamma; k[1] = contrast;
    for (let i = 0; i < LUT_SIZE; i++) {
      const v = (i + 0.5) / LUT_PER_UNIT;
      this.lut[i] = 255 * ((Math.pow(v, 1 / gamma) - 0.5) * contrast + 0.5);
    }
  }
}

/** Tone-curve values (0..255 scale, unclamped) of bg + acc * w over a pixel rectangle, channels permuted (or mono), into `dst`. */
function toneRect(bg: Float32Array, acc: Float32Array | undefined, w: number, lut: Float32Array, perm: Int32Array, channels: number, width: number, x0: number, y0: number, x1: number, y1: number, dst: Float32Array): void {
  const p0 = perm[0]!, p1 = perm[1]!, p2 = perm[2]!;
  const px = new Float64Array(3);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * width + x, o = i * 3;
      px[0] = bg[o]!; px[1] = bg[o + 1]!; px[2] = bg[o + 2]!;
      if (acc) {
        px[0] += acc[o]! * w; px[1] += acc[o + 1]! * w; px[2] += acc[o + 2]! * w;
      }
      if (channels === 1) dst[i] = lookup(lut, 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!);
      else {
        dst[o] = lookup(lut, px[p0]!);
        dst[o + 1] = lookup(lut, px[p1]!);
        dst[o + 2] = lookup(lut, px[p2]!);
      }
    }
  }
}

function lookup(lut: Float32Array, v: number): number {
  let i = (v * LUT_PER_UNIT) | 0;
  i = i < 0 ? 0 : i >= LUT_SIZE ? LUT_SIZE - 1 : i;
  return lut[i]!;
}

/**
 * out[i] = tone[i] + offset + noise x table[start + i], for i in [from, to): `out` is a clamped
 * view, so the store clamps to 0..255 and rounds (to even at exact halves) without branches here.
 */
function quantize(tone: Float32Array, from: number, to: number, offset: number, noise: number, table: Float32Array, start: number, out: Uint8ClampedArray): void {
  if (noise > 0) {
    for (let i = from; i < to; i++) out[i] = tone[i]! + offset + noise * table[(start + i) & NOISE_MASK]!;
  } else {
    for (let i = from; i < to; i++) out[i] = tone[i]! + offset;
  }
}

/** Standard normal samples, the same in every renderer (a fixed seed): the sensor noise is a random window of them. */
const NOISE_MASK = (1 << 16) - 1;
function normalTable(): Float32Array {
  const rng = new Rng(0x6e015e);
  return Float32Array.from({ length: NOISE_MASK + 1 }, () => rng.normal());
}

/** Adds (frame - background) into `acc` over a rectangle and puts the background back there. */
function accumulateAndRestore(color: Float32Array, depth: Float32Array, bgColor: Float32Array, bgDepth: Float32Array, acc: Float32Array, width: number, x0: number, y0: number, x1: number, y1: number): void {
  for (let y = y0; y <= y1; y++) {
    const a = (y * width + x0) * 3, b = (y * width + x1) * 3 + 3;
    for (let i = a; i < b; i++) {
      acc[i] = acc[i]! + (color[i]! - bgColor[i]!);
      color[i] = bgColor[i]!;
    }
    for (let i = y * width + x0; i <= y * width + x1; i++) depth[i] = bgDepth[i]!;
  }
}

function clearRect(acc: Float32Array, width: number, x0: number, y0: number, x1: number, y1: number): void {
  for (let y = y0; y <= y1; y++) acc.fill(0, (y * width + x0) * 3, (y * width + x1) * 3 + 3);
}

/** Tone lookup: linear values in [0, 2) (specular highlights exceed 1) in steps of 1/1024. */
const LUT_PER_UNIT = 1024;
const LUT_SIZE = 2 * LUT_PER_UNIT;
/** Distractors sit this far (m) from the base axis and at these heights: outside the Furuta's reach (0.16 m) yet in view. */
const DISTRACTOR_RING: [number, number] = [0.2, 0.34];
const DISTRACTOR_Z: [number, number] = [-0.14, 0.18];

interface Indices {
  links: number[][];
  background: number[];
  distractorCount: number;
  distractorSize: number;
  light: number[];
  cameraPose: number[];
  fov: number;
  exposure: number;
  noise: number;
  gamma: number;
  contrast: number;
  brightness: number;
  channelOrder: number;
}

function resolveIndices(table: ParamTable, geo: SceneGeometry, camera: string): Indices {
  const at = (name: string) => table.indexOf(name);
  const cam = (p: string) => at(`camera.${camera}.${p}`);
  return {
    links: geo.links.map((l) => SURFACE_PARAMS.map((p) => at(`visual.links.${l.name}.${p}`))),
    background: SURFACE_PARAMS.map((p) => at(`visual.background.${p}`)),
    distractorCount: at("visual.distractors.count"),
    distractorSize: at("visual.distractors.size"),
    light: ["azimuth", "elevation", "intensity", "ambient", "specular"].map((p) => at(`visual.light.${p}`)),
    cameraPose: ["x", "y", "z", "roll", "pitch", "yaw"].map(cam),
    fov: cam("fov"),
    exposure: cam("exposure"),
    noise: cam("noise"),
    gamma: cam("gamma"),
    contrast: cam("contrast"),
    brightness: cam("brightness"),
    channelOrder: cam("channelOrder"),
  };
}

/**
 * Surfaces of a link's visuals: the link's six values (SURFACE_PARAMS order) set the first visual's
 * colour and the texture of all; the other visuals keep their HSV offsets from the first.
 */
function readLinkSurfaces(values: Float64Array, idx: number[], parts: { hsv: [number, number, number] }[], out: Surface[]): void {
  readSurface(values, idx, out[0]!);
  const h = values[idx[0]!]! - parts[0]!.hsv[0], s = values[idx[1]!]! - parts[0]!.hsv[1], v = values[idx[2]!]! - parts[0]!.hsv[2];
  for (let p = 1; p < parts.length; p++) {
    const o = out[p]!, own = parts[p]!.hsv;
    hsvToRgb(own[0] + h, own[1] + s, own[2] + v, rgb);
    o.r = rgb[0]!; o.g = rgb[1]!; o.b = rgb[2]!;
    o.family = out[0]!.family; o.scale = out[0]!.scale; o.contrast = out[0]!.contrast;
  }
}

/** Surface of six values in SURFACE_PARAMS order (hue, saturation, value, texture, textureScale, textureContrast). */
const rgb = new Float64Array(3);
function readSurface(values: Float64Array, idx: number[], out: Surface): void {
  hsvToRgb(values[idx[0]!]!, values[idx[1]!]!, values[idx[2]!]!, rgb);
  out.r = rgb[0]!;
  out.g = rgb[1]!;
  out.b = rgb[2]!;
  out.family = Math.round(values[idx[3]!]!);
  out.scale = values[idx[4]!]!;
  out.contrast = Math.min(1, Math.max(0, values[idx[5]!]!));
}

/** Unit-sized box, sphere and cylinder for distractors. */
function distractorShapes(): MeshArrays[] {
  const origin = { xyz: [0, 0, 0] as Vec3, rpy: [0, 0, 0] as Vec3 };
  const geoms = [
    { kind: "box" as const, size: [1, 1, 1] as Vec3 },
    { kind: "sphere" as const, radius: 0.5 },
    { kind: "cylinder" as const, radius: 0.5, length: 1 },
  ];
  return geoms.map((geometry) => {
    const s = emptySoup();
    tessellateVisual({ origin, geometry }, s);
    return soupToArrays(s);
  });
}
