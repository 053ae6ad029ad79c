/**
 * Worker-thread side of LabelledFramePool: sets up the task's scene once and
 * renders batches of labelled frames on request.
 */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThisThread, parseBatchPriority } from "../../common/batch-priority.js";
import { setupTask } from "../env/sim-env.js";
import { getTask } from "../tasks/registry.js";
import { LabelledFrames, type LabelledFramesOptions } from "./labelled-frames.js";

type Request = { type: "init"; task: string; taskConfig: unknown; options: LabelledFramesOptions } | { type: "batch"; rows: number } | { type: "close" };

if (!parentPort) throw new Error("labelled-frames-worker must run in a worker thread");
const port = parentPort;
// Rendering for a training job yields to a robot session on the same machine.
lowerThisThread(parseBatchPriority((workerData as { priority?: unknown } | undefined)?.priority ?? "normal", "render worker priority"));
let frames: LabelledFrames | undefined;
let joints = 0;

port.on("message", (msg: Request) => {
  try {
    switch (msg.type) {
      case "init": {
        const task = getTask(msg.task);
        frames = new LabelledFrames(setupTask(task, task.configSchema.parse(msg.taskConfig, "task")), msg.options);
        joints = msg.options.joints.length;
        port.postMessage({ type: "ready", sampleBytes: frames.sampleBytes });
        break;
      }
      case "batch": {
        const images = new Uint8Array(msg.rows * frames!.sampleBytes), angles = new Float64Array(msg.rows * joints);
        frames!.fill(images, angles, msg.rows);
        port.postMessage({ type: "batch", images, angles }, [images.buffer, angles.buffer] as ArrayBuffer[]);
        break;
      }
      case "close":
        frames?.dispose();
        frames = undefined;
        port.postMessage({ type: "closed" });
        port.close();
        break;
    }
  } catch (e) {
    port.postMessage({ type: "error", message: (e as Error).message, stack: (e as Error).stack });
  }
});
