import test from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { setupTask } from "../../../sim/env/sim-env.js";
import { getTask } from "../../../sim/tasks/registry.js";
import { CameraStream, networkIntrinsics } from "../../../sim/render/camera-stream.js";
import { Renderer } from "../../../sim/render/renderer.js";
import { FURUTA_CAMERA } from "../../../sim/tasks/furuta/config.js";
import { movingJoints } from "../../../sim/urdf/model.js";
import { cameraConfigSchema } from "../../../sim/sensors/camera-config.js";

const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "config"));

/** Frames 0..n-1 of env `envIndex`, a new look every 3 frames, as one byte string per frame. */
function frames(seed: number, envIndex: number, n: number): string[] {
  const s = new CameraStream(setup, { seed, envIndex, width: 48, height: 48, randomized: true });
  const out = new Uint8Array(s.frameBytes);
  const res: string[] = [];
  for (let k = 0; k < n; k++) {
    if (k > 0 && k % 3 === 0) s.beginEpisode();
    s.frame([Math.sin(k), 3 * k], [5, 20], out);
    res.push(Buffer.from(out).toString("base64"));
  }
  s.dispose();
  return res;
}

test("randomized frames are a pure function of (seed, env, episode, frame): same bytes across runs; seeds and envs differ", () => {
  const a = frames(5, 2, 7);
  assert.deepEqual(frames(5, 2, 7), a);
  assert.notDeepEqual(frames(6, 2, 7), a);
  assert.notDeepEqual(frames(5, 3, 7), a);
  // Frames differ (new looks, a moving robot) except where a drawn delay or drop repeats one.
  assert.ok(new Set(a).size >= a.length - 3, `${new Set(a).size} distinct frames of ${a.length}`);
});

test("the same frames on a worker thread (independent of worker count)", async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const modules = {
    env: pathToFileURL(join(here, "../../../sim/env/sim-env.js")).href,
    registry: pathToFileURL(join(here, "../../../sim/tasks/registry.js")).href,
    stream: pathToFileURL(join(here, "../../../sim/render/camera-stream.js")).href,
  };
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      const { setupTask } = await import(workerData.env);
      const { getTask } = await import(workerData.registry);
      const { CameraStream } = await import(workerData.stream);
      const task = getTask("furuta");
      const setup = setupTask(task, task.configSchema.parse({}, "config"));
      const s = new CameraStream(setup, { seed: 5, envIndex: 2, width: 48, height: 48, randomized: true });
      const out = new Uint8Array(s.frameBytes);
      const res = [];
      for (let k = 0; k < 7; k++) {
        if (k > 0 && k % 3 === 0) s.beginEpisode();
        s.frame([Math.sin(k), 3 * k], [5, 20], out);
        res.push(Buffer.from(out).toString("base64"));
      }
      parentPort.postMessage(res);
    })();`;
  const fromWorker = await new Promise<string[]>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: modules });
    w.once("message", (m) => { resolve(m as string[]); void w.terminate(); });
    w.once("error", reject);
  });
  // Render another env first here so the main thread's stream state differs from the worker's.
  frames(5, 0, 2);
  assert.deepEqual(fromWorker, frames(5, 2, 7));
});

test("the Furuta camera sees the pendulum's whole travel, natively and in the 96 x 96 centre crop", () => {
  const cam = cameraConfigSchema.parse(FURUTA_CAMERA, "camera");
  const joints = movingJoints(setup.model);
  assert.deepEqual(joints.map((j) => j.name), ["arm_joint", "pendulum_joint"]);
  for (const intr of [cam.intrinsics, networkIntrinsics(cam.intrinsics, 96, 96)]) {
    const r = new Renderer(setup.model, setup.visualTable, { camera: cam, intrinsics: intr });
    const values = setup.visualTable.nominal();
    const Lr = 0.085, Lp = 0.129;
    for (const theta of [-2, -1, 0, 1, 2]) {
      for (let alpha = 0; alpha < 2 * Math.PI; alpha += Math.PI / 8) {
        // Arm tip and pendulum tip in the world (arm along x turned by theta; pendulum about the arm axis, hanging at alpha = 0).
        const c = Math.cos(theta), s = Math.sin(theta);
        const tip: [number, number, number] = [Lr * c, Lr * s, 0];
        const py = Lp * Math.sin(alpha), pz = -Lp * Math.cos(alpha);
        const end: [number, number, number] = [tip[0] - s * py, tip[1] + c * py, pz];
        for (const p of [tip, end]) {
          const uv = r.project(p, values);
          assert.ok(uv && uv[0] >= 1 && uv[0] <= intr.width - 2 && uv[1] >= 1 && uv[1] <= intr.height - 2, `${intr.width}x${intr.height}: theta ${theta}, alpha ${alpha.toFixed(2)}: point ${p.map((x) => x.toFixed(3))} projects to ${uv}`);
        }
      }
    }
    // And the base plate's corners.
    for (const x of [-0.06, 0.06]) for (const y of [-0.06, 0.06]) {
      const uv = r.project([x, y, -0.132], values)!;
      assert.ok(uv[0] >= 0 && uv[0] <= intr.width - 1 && uv[1] >= 0 && uv[1] <= intr.height - 1, `base corner ${x},${y} at ${uv}`);
    }
    r.dispose();
  }
});

test("networkIntrinsics: centre crop to the output aspect, then resize", () => {
  const k = networkIntrinsics(FURUTA_CAMERA.intrinsics as never, 96, 96);
  // 320 x 240 -> the centre 240 x 240 -> 96 x 96: scale 0.4, crop x0 = 40.
  assert.equal(k.width, 96);
  assert.ok(Math.abs(k.fx - 230 * 0.4) < 1e-9);
  assert.ok(Math.abs(k.cx - ((159.5 - 40 + 0.5) * 0.4 - 0.5)) < 1e-9);
});

test("drops repeat the last delivered frame and delays show older frames", () => {
  const partial = {
    randomization: [
      { target: "camera.front.dropRate", distribution: "uniform", mode: "absolute", low: 0.5, high: 0.5 },
      { target: "camera.front.delay", distribution: "uniform", mode: "absolute", low: 2, high: 2 },
    ],
  };
  const s = new CameraStream(setupTask(task, task.configSchema.parse(partial, "config")), { seed: 1, envIndex: 0, width: 32, height: 32 });
  const nominal = new CameraStream(setup, { seed: 1, envIndex: 0, width: 32, height: 32, randomized: false });
  const out = new Uint8Array(s.frameBytes), ref = new Uint8Array(s.frameBytes);
  const truth: string[] = [];
  let drops = 0;
  let last = "";
  for (let k = 0; k < 40; k++) {
    const q = [0.05 * k, 0.3 * k];
    nominal.frame(q, undefined, ref);
    truth.push(Buffer.from(ref).toString("base64"));
    const info = s.frame(q, undefined, out);
    const got = Buffer.from(out).toString("base64");
    // Without per-episode looks drawn, the stream renders the nominal look: compare with the frame `age` ago.
    assert.equal(got, truth[k - info.age], `frame ${k}: shows frame ${k - info.age}`);
    if (info.dropped) {
      drops++;
      assert.equal(got, last, `frame ${k}: a drop repeats the previous delivery`);
    } else assert.equal(info.age, Math.min(2, k));
    last = got;
  }
  assert.ok(drops > 10 && drops < 30, `${drops} drops at a rate of 0.5`);
  s.dispose();
  nominal.dispose();
});
