import { getTask } from "../sim/tasks/registry.js";
import { setupTask } from "../sim/env/sim-env.js";
import { CameraStream } from "../sim/render/camera-stream.js";
import { sweepPose } from "../sim/render/sweep.js";
import { movingJoints } from "../sim/urdf/model.js";

/**
 * Frames per second of the Furuta's camera on one thread, as a vision
 * training loop sees them (CameraStream.frame: per-frame draws, render with
 * motion blur, drops and delays), the robot sweeping its joints at the
 * camera's frame rate so blur sub-poses are drawn as in training:
 *
 *   framesPerSec64, framesPerSec96   nominal look, 64x64 and 96x96
 *   withRandomizationPerSec96        the task's full visual randomization, a new look every 100 frames
 *   newLookEveryFramePerSec96        same, a new look every frame (background redrawn every frame)
 *   framesPerSecNative               nominal look at the native 320x240
 *   meanSubframes96Randomized        motion-blur sub-poses per frame in the randomized run
 *   triangles                        robot triangles in the scene
 *   cpuShare96Randomized             CPU seconds / wall seconds of the randomized run: below 1 when
 *                                    other processes share the core (the figures above are wall-clock)
 *   perCpuSecond96Randomized         randomized 96x96 frames per CPU second (less sensitive to load)
 *   referencePassesPerSec96          a same-run reference: plain passes of a 96x96 rgb float image
 *                                    through a tone table into bytes (the least work per frame any
 *                                    renderer with a tone curve does), to read the figures against
 */
export async function benchRender(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const seconds = opts.quick ? 0.6 : 2.5;
  const task = getTask("furuta");
  const setup = setupTask(task, task.configSchema.parse({}, "config"));
  const joints = movingJoints(setup.model);
  const q = new Float64Array(joints.length), qd = new Float64Array(joints.length);

  const measure = (name: string, size: number | undefined, randomized: boolean, episodeFrames: number): { fps: number; subframes: number; cpuShare: number } => {
    const stream = new CameraStream(setup, { ...(size ? { width: size, height: size } : {}), randomized, seed: 7, envIndex: 0 });
    const out = new Uint8Array(stream.frameBytes);
    const period = 60; // frames per sweep: 2 s at 30 fps, peak arm speed about 6 rad/s
    let frames = 0, subframes = 0;
    const step = () => {
      if (frames % episodeFrames === 0 && frames > 0) stream.beginEpisode();
      sweepPose(joints, frames % period, period, stream.camera.frameRate, q, qd);
      subframes += stream.frame(q, qd, out).subframes;
      frames++;
    };
    for (let i = 0; i < 200; i++) step(); // warm-up: compile the hot path
    frames = 0; subframes = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) for (let i = 0; i < 50; i++) step();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const fps = frames / wall;
    stream.dispose();
    const cpuShare = (cpu.user + cpu.system) / 1e6 / wall;
    opts.log?.(`render ${name}: ${fps.toFixed(0)} frames/s, ${(subframes / frames).toFixed(2)} sub-poses/frame, CPU share ${cpuShare.toFixed(2)}`);
    return { fps, subframes: subframes / frames, cpuShare };
  };

  const r64 = measure("64x64 nominal", 64, false, Infinity);
  const r96 = measure("96x96 nominal", 96, false, Infinity);
  const rr = measure("96x96 randomized", 96, true, 100);
  const rf = measure("96x96 new look every frame", 96, true, 1);
  const rn = measure("320x240 nominal", undefined, false, Infinity);
  const ref = referencePasses(96, seconds);
  opts.log?.(`reference: ${ref.toFixed(0)} tone passes/s of a 96x96 rgb image`);
  return {
    framesPerSec64: Math.round(r64.fps),
    framesPerSec96: Math.round(r96.fps),
    withRandomizationPerSec96: Math.round(rr.fps),
    newLookEveryFramePerSec96: Math.round(rf.fps),
    framesPerSecNative: Math.round(rn.fps),
    meanSubframes96Randomized: Number(rr.subframes.toFixed(2)),
    cpuShare96Randomized: Number(rr.cpuShare.toFixed(2)),
    perCpuSecond96Randomized: Math.round(rr.fps / Math.max(rr.cpuShare, 1e-3)),
    referencePassesPerSec96: Math.round(ref),
    triangles: countTriangles(setup),
  };
}

function countTriangles(setup: ReturnType<typeof setupTask>): number {
  const stream = new CameraStream(setup, { randomized: false, seed: 0, envIndex: 0, width: 8, height: 8 });
  const n = stream.renderer.triangleCount;
  stream.dispose();
  return n;
}

/** Passes per second of float rgb -> tone table -> bytes over a size x size image. */
function referencePasses(size: number, seconds: number): number {
  const n = size * size * 3;
  const src = Float32Array.from({ length: n }, (_, i) => (i % 97) / 97);
  const lut = Float32Array.from({ length: 2048 }, (_, i) => i / 8);
  const out = new Uint8Array(n);
  const pass = () => {
    for (let i = 0; i < n; i++) {
      let li = (src[i]! * 1024) | 0;
      li = li < 0 ? 0 : li >= 2048 ? 2047 : li;
      const y = lut[li]! + 0.5;
      out[i] = y < 0 ? 0 : y > 255 ? 255 : y;
    }
  };
  for (let i = 0; i < 200; i++) pass();
  let passes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) for (let i = 0; i < 50; i++, passes++) pass();
  return passes / ((performance.now() - t0) / 1000);
}
