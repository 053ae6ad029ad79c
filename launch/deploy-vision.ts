/**
 * The camera stage of `s2r deploy --ros2`: the exported perception network
 * (vision.onnx + vision.json, run by onnxruntime), the rig's camera over ROS 2
 * checked against the network's camera before anything moves, and the
 * CameraPerception the control loop feeds its observation from, logging
 * frames and estimates into the session log.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "./args.js";
import { OnnxPerception } from "../policies/runtime/onnx-perception.js";
import { perceptionEstimatorOf } from "../policies/runtime/perception-estimator.js";
import { CameraPerception } from "../robot/control/camera-perception.js";
import { CameraLog, type CameraLogOptions } from "../robot/log/camera-log.js";
import type { SessionLog } from "../robot/log/session-log.js";
import type { RigCamera } from "../robot/rigs/rig-config.js";
import { Ros2Camera } from "../robot/ros2/ros2-camera.js";
import type { Ros2Transport } from "../robot/ros2/transport.js";

export function loadVisionStage(dir: string) {
  const onnxPath = join(dir, "vision.onnx");
  const manifestPath = join(dir, "vision.json");
  for (const f of [onnxPath, manifestPath]) if (!existsSync(f)) throw new UsageError(`s2r deploy: --vision ${dir}: no ${f} (a perception export holds vision.onnx and vision.json)`);
  const estimator = perceptionEstimatorOf(OnnxPerception.load(onnxPath, manifestPath));
  return {
    onnxPath,
    /** Subscribes to the rig's camera and checks its camera_info (CameraMismatchError names what differs). */
    openCamera(transport: Ros2Transport, camera: RigCamera, signal?: AbortSignal): Promise<Ros2Camera> {
      return Ros2Camera.open(transport, {
        imageTopic: camera.imageTopic,
        infoTopic: camera.infoTopic,
        expected: { intrinsics: estimator.intrinsics, encoding: estimator.encoding },
        latencyBudgetMs: camera.latencyBudgetMs,
        signal,
      });
    },
    /** The loop's perception, warmed up, logging into `log`. */
    perception(camera: Ros2Camera, jointOrder: readonly string[], log: SessionLog, logOptions: CameraLogOptions): CameraPerception {
      const cameraLog = new CameraLog(log, logOptions);
      cameraLog.info(camera.intrinsics);
      const p = new CameraPerception({ camera, estimator, jointOrder, log: cameraLog });
      p.warmUp();
      return p;
    },
    dispose(): void {
      estimator.dispose?.();
    },
  };
}
