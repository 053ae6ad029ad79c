import { PNG } from "pngjs";

/**
 * PNG output through pngjs (a maintained encoder; nothing hand-written):
 * single frames and contact sheets (a grid of frames) from HWC rgb8 or mono8
 * bytes.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(toRgb(pixels, width * height, channels));
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Frames laid out `columns` wide with a `gap`-pixel dark border, as one rgb8 image. */
export function contactSheet(frames: readonly Uint8Array[], width: number, height: number, channels: 1 | 3, columns: number, gap = 2): { pixels: Uint8Array; width: number; height: number } {
  const cols = Math.max(1, Math.min(columns, frames.length));
  const rows = Math.ceil(frames.length / cols);
  const W = cols * width + (cols + 1) * gap;
  const H = rows * height + (rows + 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(24);
  frames.forEach((f, i) => {
    const rgb = toRgb(f, width * height, channels);
    const ox = gap + (i % cols) * (width + gap);
    const oy = gap + Math.floor(i / cols) * (height + gap);
    for (let y = 0; y < height; y++) out.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((oy + y) * W + ox) * 3);
  });
  return { pixels: out, width: W, height: H };
}

function toRgb(pixels: Uint8Array, n: number, channels: 1 | 3): Uint8Array {
  if (channels === 3) return pixels.subarray(0, n * 3);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = pixels[i]!;
  return out;
}
