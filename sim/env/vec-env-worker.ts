/**
 * Worker-thread side of WorkerVecEnv: owns one Rapier instance and a
 * contiguous slice of the environments, and steps them on request.
 */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThisThread, parseBatchPriority } from "../../common/batch-priority.js";
import { LocalVecEnv, type VecEnvOptions } from "./local-vec-env.js";
import type { ParamSourceSpec } from "./param-source.js";

type Request = { type: "init"; options: VecEnvOptions } | { type: "reset" } | { type: "step"; actions: Float32Array } | { type: "close" } | { type: "params"; params: ParamSourceSpec };

if (!parentPort) throw new Error("vec-env-worker must run in a worker thread");
const port = parentPort;
// A training job's workers yield to a robot session on the same machine (the main thread said how far).
lowerThisThread(parseBatchPriority((workerData as { priority?: unknown } | undefined)?.priority ?? "normal", "vec-env worker priority"));
let env: LocalVecEnv | undefined;

port.on("message", async (msg: Request) => {
  try {
    switch (msg.type) {
      case "init":
        env = await LocalVecEnv.create(msg.options);
        port.postMessage({ type: "ready", spec: env.spec });
        break;
      case "reset": {
        const r = env!.resetSync();
        port.postMessage({ type: "reset", ...r }, [r.obs.buffer, r.privileged.buffer] as ArrayBuffer[]);
        break;
      }
      case "step": {
        const b = env!.stepSync(msg.actions);
        port.postMessage({ type: "step", batch: b }, [b.obs.buffer, b.privileged.buffer, b.reward.buffer, b.terminated.buffer, b.truncated.buffer, b.finalObs.buffer, b.finalPrivileged.buffer] as ArrayBuffer[]);
        break;
      }
      case "params":
        env!.setParamSourceSync(msg.params);
        port.postMessage({ type: "params" });
        break;
      case "close":
        await env?.close();
        env = undefined;
        port.postMessage({ type: "closed" });
        port.close();
        break;
    }
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: "error", message: err.message, stack: err.stack });
  }
});
