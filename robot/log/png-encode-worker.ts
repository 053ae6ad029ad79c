/**
 * Encodes PNG frames off the control loop's thread for CameraLog: 7 ms for a
 * 320 x 240 rgb8 frame (pngjs, deflate level 1) would cost a 100 Hz loop most
 * of its period; posting the frame here costs a copy.
 */
import { parentPort } from "node:worker_threads";
import type { PackedImage } from "../../sim/sensors/image.js";
import { encodePng } from "./image-messages.js";

export interface PngJob {
  id: number;
  image: PackedImage;
}

parentPort!.on("message", (job: PngJob) => {
  try {
    const png = encodePng(job.image);
    parentPort!.postMessage({ id: job.id, png }, [png.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
  }
});
