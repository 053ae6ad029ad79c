import { contactSheet } from "../../sim/render/png.js";

/**
 * Validation frames as a person checks them: the newest frame of each
 * sample with one dial per joint under it, the true angle drawn green and the
 * network's estimate red (a dial's zero points right, angles turn
 * anticlockwise). Returns an rgb8 contact sheet.
 */
export function validationGrid(
  images: Uint8Array,
  sample: { width: number; height: number; channels: 1 | 3; framesStacked: number },
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  joints: number,
  count: number,
  columns = 8,
): { pixels: Uint8Array; width: number; height: number } {
  const { width: W, height: H, channels: C, framesStacked: F } = sample;
  const dial = Math.max(12, Math.floor(W / joints));
  const outH = H + dial;
  const tiles: Uint8Array[] = [];
  for (let s = 0; s < count; s++) {
    const tile = new Uint8Array(W * outH * 3).fill(255);
    const base = s * W * H * C * F;
    for (let p = 0; p < W * H; p++) {
      for (let c = 0; c < 3; c++) tile[p * 3 + c] = images[base + (p * F + F - 1) * C + (C === 3 ? c : 0)]!;
    }
    for (let j = 0; j < joints; j++) {
      const cx = j * dial + dial / 2, cy = H + dial / 2, r = dial / 2 - 2;
      circle(tile, W, outH, cx, cy, r, [160, 160, 160]);
      ray(tile, W, outH, cx, cy, r, truth[s * joints + j]!, [0, 170, 0]);
      ray(tile, W, outH, cx, cy, r, predicted[s * joints + j]!, [220, 0, 0]);
    }
    tiles.push(tile);
  }
  return contactSheet(tiles, W, outH, 3, columns);
}

function put(img: Uint8Array, W: number, H: number, x: number, y: number, rgb: readonly number[]): void {
  const xi = Math.round(x), yi = Math.round(y);
  if (xi < 0 || yi < 0 || xi >= W || yi >= H) return;
  img.set(rgb, (yi * W + xi) * 3);
}

function circle(img: Uint8Array, W: number, H: number, cx: number, cy: number, r: number, rgb: readonly number[]): void {
  const n = Math.ceil(2 * Math.PI * r * 2);
  for (let k = 0; k < n; k++) put(img, W, H, cx + r * Math.cos((2 * Math.PI * k) / n), cy + r * Math.sin((2 * Math.PI * k) / n), rgb);
}

function ray(img: Uint8Array, W: number, H: number, cx: number, cy: number, r: number, angle: number, rgb: readonly number[]): void {
  const n = Math.ceil(r * 2);
  for (let k = 0; k <= n; k++) put(img, W, H, cx + ((r * k) / n) * Math.cos(angle), cy - ((r * k) / n) * Math.sin(angle), rgb);
}
