/**
 * What preparing a camera frame for the perception network costs the control
 * loop (`s2r bench image`): decode from the camera's ROS encoding, take the
 * centred crop, resize to the network's input and transform the intrinsics
 * (toNetworkInput), per frame, for the cameras a rig has. Reference in the
 * same run: copying the frame's bytes once.
 */
import { performance } from "node:perf_hooks";
import type { CameraIntrinsics } from "../sim/sensors/camera-config.js";
import { toNetworkInput } from "../sim/sensors/image-resize.js";
import type { PackedEncoding, RawImage } from "../sim/sensors/image.js";

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function frame(w: number, h: number, encoding: string, bpp: number): RawImage {
  const step = w * bpp + 16; // with row padding, as many drivers send
  const data = new Uint8Array(step * h);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
  return { width: w, height: h, encoding, step, data };
}

export async function benchImage(o: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number>> {
  const n = o.quick ? 200 : 2000;
  const cases: Array<[string, number, number, string, number, PackedEncoding]> = [
    ["rgb8_320x240_to_rgb96", 320, 240, "rgb8", 3, "rgb8"],
    ["yuyv_640x480_to_rgb96", 640, 480, "yuv422_yuy2", 2, "rgb8"],
    ["bgr8_640x480_to_mono96", 640, 480, "bgr8", 3, "mono8"],
    ["rgb8_96x96_to_rgb96", 96, 96, "rgb8", 3, "rgb8"],
  ];
  const out: Record<string, number> = { frames_per_case: n };
  for (const [key, w, h, enc, bpp, to] of cases) {
    const f = frame(w, h, enc, bpp);
    const k: CameraIntrinsics = { width: w, height: h, fx: w, fy: w, cx: (w - 1) / 2, cy: (h - 1) / 2, distortionModel: "none", distortion: [] };
    const times = new Float64Array(n);
    const copies = new Float64Array(n);
    // CPU time as well as wall time: on a shared machine the wall-clock tail is mostly waiting for a core.
    let cpuMicros = 0;
    for (let i = 0; i < n; i++) {
      const c0 = process.cpuUsage();
      let a = performance.now();
      toNetworkInput(f, k, { width: 96, height: 96, encoding: to });
      times[i] = performance.now() - a;
      const c = process.cpuUsage(c0);
      cpuMicros += c.user + c.system;
      a = performance.now();
      f.data.slice();
      copies[i] = performance.now() - a;
    }
    const warm = Math.min(50, n >> 2);
    const t = times.slice(warm).sort();
    const c = copies.slice(warm).sort();
    out[`${key}_ms_p50`] = +percentile(t, 0.5).toFixed(4);
    out[`${key}_ms_p99`] = +percentile(t, 0.99).toFixed(4);
    out[`${key}_cpu_ms_mean`] = +(cpuMicros / n / 1000).toFixed(4);
    out[`${key}_copy_ms_p50`] = +percentile(c, 0.5).toFixed(4);
    o.log(`${key}: p50 ${percentile(t, 0.5).toFixed(3)} ms, p99 ${percentile(t, 0.99).toFixed(3)} ms, CPU ${(cpuMicros / n / 1000).toFixed(3)} ms (one copy of the frame: ${percentile(c, 0.5).toFixed(3)} ms)`);
  }
  return out;
}
