/**
 * Renders the emulator's camera frames off the thread that runs its
 * real-time physics: a 320 x 240 frame costs 3 to 12 ms, which on the main
 * thread would delay joint states and commands by as much. The worker builds
 * the task's scene itself (a RobotModel cannot cross threads) and draws the
 * hidden look from the seed, outside the training randomization.
 */
import { parentPort, workerData } from "node:worker_threads";
import { setupTask } from "../../sim/env/sim-env.js";
import { Randomizer } from "../../sim/randomization/randomizer.js";
import { CameraStream } from "../../sim/render/camera-stream.js";
import { hiddenVisualLooks } from "../../sim/render/hidden-visual-spec.js";
import { visibleLinks } from "../../sim/render/visual-params.js";
import { getTask } from "../../sim/tasks/registry.js";
import { movingJoints } from "../../sim/urdf/model.js";

export interface CameraWorkerInit {
  task: string;
  camera: string;
  encoding: "rgb8" | "mono8";
  seed: number;
  /** Joint names of the positions each job carries (the plant's order). */
  jointNames: readonly string[];
}

export interface CameraJob {
  k: number;
  q: Float64Array;
  qd: Float64Array;
}

export type CameraReply = { k: number; data: Uint8Array; subframes: number } | { k: number; error: string };

const init = workerData as CameraWorkerInit;
const task = getTask(init.task);
const setup = setupTask(task, task.configSchema.parse({}, "task"));
const hidden = new Randomizer(setup.visualTable, hiddenVisualLooks(visibleLinks(setup.model), init.camera), "hiddenLooks");
const stream = new CameraStream({ ...setup, visualRandomizer: hidden }, { camera: init.camera, encoding: init.encoding, seed: init.seed, envIndex: 0, randomized: true });
// Job positions come in the plant's order; the renderer takes the model's moving joints.
const order = movingJoints(setup.model).map((j) => {
  const i = init.jointNames.indexOf(j.name);
  if (i < 0) throw new Error(`emulator camera: the plant has no joint ${j.name}`);
  return i;
});
const q = new Float64Array(order.length);
const qd = new Float64Array(order.length);

parentPort!.on("message", (job: CameraJob) => {
  try {
    order.forEach((i, j) => {
      q[j] = job.q[i]!;
      qd[j] = job.qd[i]!;
    });
    const data = new Uint8Array(stream.frameBytes);
    const info = stream.frame(q, qd, data);
    parentPort!.postMessage({ k: job.k, data, subframes: info.subframes } satisfies CameraReply, [data.buffer]);
  } catch (e) {
    parentPort!.postMessage({ k: job.k, error: (e as Error).message } satisfies CameraReply);
  }
});
// The first frames run cold (JIT, caches): render some before the camera is declared ready, on a
// stream of their own so the served frames' random streams are untouched.
const warm = new CameraStream({ ...setup, visualRandomizer: hidden }, { camera: init.camera, encoding: init.encoding, seed: init.seed, envIndex: 1, randomized: true });
const scratch = new Uint8Array(warm.frameBytes);
for (let i = 0; i < 10; i++) warm.frame([0.3 * i, 0.5 * i], [2, 5], scratch);
warm.dispose();
parentPort!.postMessage({ ready: true });
