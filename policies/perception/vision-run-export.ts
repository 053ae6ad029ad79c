import { existsSync } from "node:fs";
import { join } from "node:path";
import { setupTask } from "../../sim/env/sim-env.js";
import { centredCrop } from "../../sim/sensors/image-resize.js";
import { getTask } from "../../sim/tasks/registry.js";
import type { CameraConfig } from "../../sim/sensors/camera-config.js";
import { PerceptionNet } from "./perception-net.js";
import { writeVisionExport } from "./vision-export.js";
import { readVisionCheckpoint, VISION_CHECKPOINT_FILE, type VisionCheckpoint } from "./vision-runner.js";

/** True when `dir` holds a `vision train` run (its checkpoint). */
export function isVisionRun(dir: string): boolean {
  return existsSync(join(dir, VISION_CHECKPOINT_FILE));
}

/** The camera a vision run trained for (the task's robot config, as the run configured it). */
export function visionRunCamera(ck: Pick<VisionCheckpoint, "task" | "config">): CameraConfig {
  const task = getTask(ck.task);
  const cams = setupTask(task, task.configSchema.parse(ck.config.task, "config.task")).config.robot.cameras;
  const name = ck.config.frames.camera;
  const cam = name === undefined ? cams[0] : cams.find((c) => c.name === name);
  if (!cam) throw new Error(`${ck.task}: no camera ${name ?? ""} in the robot config (robot.cameras)`);
  return cam;
}

/** A run's network with its trained weights (dispose() it). */
export function loadVisionRunNetwork(ck: VisionCheckpoint, where: string): PerceptionNet {
  const net = PerceptionNet.create(ck.config.network, { seed: ck.config.training.seed });
  try {
    net.setState(ck.network, `${where}.network`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

/**
 * Writes DIR/vision.onnx and DIR/vision.json from the run's checkpoint: the
 * camera from the task's config, the crop the training renders used (the
 * largest centred crop of the network's aspect, resized), the config hash.
 */
export function exportVisionRun(dir: string): { onnx: string; manifest: string } {
  const { file, checkpoint: ck } = readVisionCheckpoint(dir);
  const camera = visionRunCamera(ck);
  const net = loadVisionRunNetwork(ck, file);
  try {
    const n = ck.config.network;
    return writeVisionExport(dir, net, {
      camera,
      crop: centredCrop(camera.intrinsics.width, camera.intrinsics.height, n.inputWidth, n.inputHeight),
      training: { run: dir, configHash: ck.configHash },
    });
  } finally {
    net.dispose();
  }
}
