import assert from "node:assert/strict";
import { test } from "node:test";
import { cropResizeIntrinsics, type CameraIntrinsics } from "../../sim/sensors/camera-config.js";
import { decodeImage, ImageError, type RawImage } from "../../sim/sensors/image.js";
import { centredCrop, resizePacked, toNetworkInput } from "../../sim/sensors/image-resize.js";

const W = 4;
const H = 3;
/** A reference rgb8 image with distinct values everywhere. */
const RGB = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + 11) % 256);
// OpenCV's RGB2GRAY fixed point; within 0.5 of 0.299 R + 0.587 G + 0.114 B (checked below).
const luma = (r: number, g: number, b: number) => (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;

/** Lays out `pixel(x, y)` (bytes of one pixel) in rows of `step` bytes, padding filled with 0xee so leaks show. */
function layout(bpp: number, padding: number, pixel: (x: number, y: number) => number[], w = W, h = H): RawImage & { encoding: string } {
  const step = w * bpp + padding;
  const data = new Uint8Array(step * h).fill(0xee);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(pixel(x, y), y * step + x * bpp);
  return { width: w, height: h, encoding: "", step, data };
}
const px = (x: number, y: number) => Array.from(RGB.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));

for (const padding of [0, 3]) {
  const tag = padding ? "with row padding" : "tightly packed";
  test(`rgb8, bgr8, rgba8, bgra8 decode to the same rgb8 and mono8 (${tag})`, () => {
    const cases: Array<[string, number, (x: number, y: number) => number[]]> = [
      ["rgb8", 3, px],
      ["bgr8", 3, (x, y) => px(x, y).reverse()],
      ["rgba8", 4, (x, y) => [...px(x, y), 7]],
      ["bgra8", 4, (x, y) => [...px(x, y).reverse(), 7]],
    ];
    for (const [encoding, bpp, pixel] of cases) {
      const img = { ...layout(bpp, padding, pixel), encoding };
      const rgb = decodeImage(img, "rgb8");
      assert.deepEqual(rgb.data, RGB, encoding);
      assert.equal(rgb.encoding, "rgb8");
      const mono = decodeImage(img, "mono8");
      for (let i = 0; i < W * H; i++) {
        const [r, g, b] = [RGB[3 * i]!, RGB[3 * i + 1]!, RGB[3 * i + 2]!];
        assert.equal(mono.data[i], luma(r, g, b), `${encoding} grey ${i}`);
        assert.ok(Math.abs(mono.data[i]! - (0.299 * r + 0.587 * g + 0.114 * b)) <= 0.51, `${encoding} grey ${i} is Rec. 601 luma`);
      }
    }
  });

  test(`mono8 and mono16 (both byte orders) decode (${tag})`, () => {
    const grey = (x: number, y: number) => (x * 50 + y * 7) % 256;
    const m8 = { ...layout(1, padding, (x, y) => [grey(x, y)]), encoding: "mono8" };
    const le = { ...layout(2, padding, (x, y) => [0x5a, grey(x, y)]), encoding: "mono16" };
    const be = { ...layout(2, padding, (x, y) => [grey(x, y), 0x5a]), encoding: "mono16", isBigEndian: true };
    for (const img of [m8, le, be]) {
      const mono = decodeImage(img, "mono8");
      const rgb = decodeImage(img, "rgb8");
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          assert.equal(mono.data[y * W + x], grey(x, y));
          assert.deepEqual(Array.from(rgb.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)), [grey(x, y), grey(x, y), grey(x, y)]);
        }
    }
  });

  test(`yuv422_yuy2 and yuv422 (UYVY) decode with BT.601 video range (${tag})`, () => {
    // Per pixel pair: [Y0, Y1, U, V] and the expected RGB of each pixel.
    const pairs: Array<[[number, number, number, number], number[], number[]]> = [
      [[16, 235, 128, 128], [0, 0, 0], [255, 255, 255]], // black, white
      [[81, 81, 90, 240], [254, 0, 0], [254, 0, 0]], // BT.601 red
      [[126, 126, 128, 128], [128, 128, 128], [128, 128, 128]], // mid grey: 1.164 * 110 = 128.04
    ];
    const w = 2;
    const yuy2 = { ...layout(2, padding, (x, y) => (x === 0 ? [pairs[y]![0][0], pairs[y]![0][2], pairs[y]![0][1], pairs[y]![0][3]] : []), w, 3), encoding: "yuv422_yuy2" };
    const uyvy = { ...layout(2, padding, (x, y) => (x === 0 ? [pairs[y]![0][2], pairs[y]![0][0], pairs[y]![0][3], pairs[y]![0][1]] : []), w, 3), encoding: "yuv422" };
    for (const img of [yuy2, uyvy]) {
      const rgb = decodeImage(img, "rgb8");
      const mono = decodeImage(img, "mono8");
      for (let y = 0; y < 3; y++) {
        assert.deepEqual(Array.from(rgb.data.subarray(y * 6, y * 6 + 3)), pairs[y]![1], `${img.encoding} row ${y} pixel 0`);
        assert.deepEqual(Array.from(rgb.data.subarray(y * 6 + 3, y * 6 + 6)), pairs[y]![2], `${img.encoding} row ${y} pixel 1`);
        assert.deepEqual(Array.from(mono.data.subarray(y * 2, y * 2 + 2)), [pairs[y]![0][0], pairs[y]![0][1]], `${img.encoding} grey row ${y}`);
      }
    }
  });
}

test("bad images are refused naming the field", () => {
  const ok = { width: 4, height: 3, encoding: "rgb8", step: 12, data: new Uint8Array(36) };
  assert.throws(() => decodeImage({ ...ok, encoding: "bayer_rggb8" }, "rgb8", "/cam[3]"), /\/cam\[3\]\.encoding: unsupported encoding "bayer_rggb8"/);
  assert.throws(() => decodeImage({ ...ok, step: 11 }, "rgb8"), /image\.step: expected at least width \* 3 = 12/);
  assert.throws(() => decodeImage({ ...ok, data: new Uint8Array(35) }, "rgb8"), /image\.data: expected at least 36 bytes/);
  assert.throws(() => decodeImage({ ...ok, width: 0 }, "rgb8"), /image\.width: expected a positive integer/);
  assert.throws(() => decodeImage({ ...ok, encoding: "yuv422_yuy2", width: 3, step: 6, data: new Uint8Array(18) }, "rgb8"), ImageError);
  // The last row may omit its padding.
  assert.doesNotThrow(() => decodeImage({ ...ok, step: 14, data: new Uint8Array(14 * 2 + 12) }, "rgb8"));
});

test("area and bilinear resize match a hand-computed case", () => {
  const row = { width: 3, height: 1, encoding: "mono8" as const, data: Uint8Array.from([0, 90, 180]) };
  const crop = { x0: 0, y0: 0, w: 3, h: 1 };
  // Area: output pixel 0 covers source [0, 1.5): 0 * 2/3 + 90 * 1/3 = 30; pixel 1 covers [1.5, 3): 90/3 + 180 * 2/3 = 150.
  assert.deepEqual(Array.from(resizePacked(row, crop, 2, 1, "area").data), [30, 150]);
  // Bilinear: centres map to 0.25 and 1.75: 22.5 -> 23, 157.5 -> 158.
  assert.deepEqual(Array.from(resizePacked(row, crop, 2, 1, "bilinear").data), [23, 158]);
  // 4x4 to 2x2 by area is the mean of each 2x2 block, per channel.
  const rgb = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) rgb.set([x * 10 + y, 100 + x, 200 - y * 8], (y * 4 + x) * 3);
  const half = resizePacked({ width: 4, height: 4, encoding: "rgb8", data: rgb }, { x0: 0, y0: 0, w: 4, h: 4 }, 2, 2, "area");
  const expect = (bx: number, by: number) => {
    const xs = [2 * bx, 2 * bx + 1];
    const ys = [2 * by, 2 * by + 1];
    const mean = (f: (x: number, y: number) => number) => Math.floor(xs.flatMap((x) => ys.map((y) => f(x, y))).reduce((a, b) => a + b) / 4 + 0.5);
    return [mean((x, y) => x * 10 + y), mean((x) => 100 + x), mean((_x, y) => 200 - y * 8)];
  };
  for (let by = 0; by < 2; by++) for (let bx = 0; bx < 2; bx++) assert.deepEqual(Array.from(half.data.subarray((by * 2 + bx) * 3, (by * 2 + bx) * 3 + 3)), expect(bx, by));
  // A crop offset reads the right pixels.
  assert.deepEqual(Array.from(resizePacked(row, { x0: 1, y0: 0, w: 2, h: 1 }, 1, 1, "area").data), [135]);
});

test("the network input is the largest centred crop, resized, with intrinsics to match", () => {
  const k: CameraIntrinsics = { width: 320, height: 240, fx: 300, fy: 300, cx: 159.5, cy: 119.5, distortionModel: "none", distortion: [] };
  assert.deepEqual(centredCrop(320, 240, 96, 96), { x0: 40, y0: 0, w: 240, h: 240 });
  assert.deepEqual(centredCrop(240, 320, 96, 96), { x0: 0, y0: 40, w: 240, h: 240 });
  assert.deepEqual(centredCrop(320, 240, 160, 60), { x0: 0, y0: 60, w: 320, h: 120 });
  // A bright square at the optical centre stays at the centre of the network input.
  const data = new Uint8Array(320 * 240 * 3);
  for (let y = 110; y < 130; y++) for (let x = 150; x < 170; x++) data.fill(255, (y * 320 + x) * 3, (y * 320 + x) * 3 + 3);
  const frame = { width: 320, height: 240, encoding: "rgb8", step: 960, data };
  const net = toNetworkInput(frame, k, { width: 96, height: 96, encoding: "mono8" });
  assert.deepEqual(net.crop, { x0: 40, y0: 0, w: 240, h: 240 });
  assert.deepEqual(net.intrinsics, cropResizeIntrinsics(k, net.crop, 96, 96));
  assert.equal(net.intrinsics.fx, 120);
  assert.ok(Math.abs(net.intrinsics.cx - 47.5) < 1e-12);
  assert.equal(net.image.data[48 * 96 + 48], 255);
  assert.equal(net.image.data[10 * 96 + 10], 0);
  // Square spans native 150..170 -> network (150 - 40) * 0.4 = 44 .. 52.
  assert.equal(net.image.data[48 * 96 + 43], 0);
  assert.equal(net.image.data[48 * 96 + 44], 255);
  assert.equal(net.image.data[48 * 96 + 51], 255);
  assert.equal(net.image.data[48 * 96 + 52], 0);
  assert.throws(() => toNetworkInput({ ...frame, width: 640 }, k, { width: 96, height: 96, encoding: "rgb8" }), /image\.width: frame is 640x240 but the camera's intrinsics are for 320x240/);
  assert.throws(() => toNetworkInput(frame, k, { width: 96, height: 96, encoding: "rgb8", crop: { x0: 300, y0: 0, w: 100, h: 100 } }), /crop: region x 300\.\.400/);
});

test("decoding a region gives the same pixels as decoding all and cutting, for every encoding (odd offsets in YUV pairs too)", () => {
  const w = 10;
  const h = 5;
  const region = { x0: 3, y0: 1, w: 5, h: 3 };
  for (const [encoding, bpp] of [["rgb8", 3], ["bgr8", 3], ["rgba8", 4], ["bgra8", 4], ["mono8", 1], ["mono16", 2], ["yuv422_yuy2", 2], ["yuv422", 2]] as const) {
    const step = w * bpp + 6;
    const data = Uint8Array.from({ length: step * h }, (_, i) => (i * 89 + 7) & 0xff);
    const img = { width: w, height: h, encoding, step, data };
    for (const to of ["rgb8", "mono8"] as const) {
      const ch = to === "rgb8" ? 3 : 1;
      const full = decodeImage(img, to);
      const part = decodeImage(img, to, "image", region);
      assert.equal(part.width, 5);
      for (let y = 0; y < region.h; y++) {
        const a = full.data.subarray(((region.y0 + y) * w + region.x0) * ch, ((region.y0 + y) * w + region.x0 + region.w) * ch);
        assert.deepEqual(part.data.subarray(y * region.w * ch, (y + 1) * region.w * ch), a, `${encoding} -> ${to} row ${y}`);
      }
    }
  }
  assert.throws(() => decodeImage({ width: 4, height: 3, encoding: "rgb8", step: 12, data: new Uint8Array(36) }, "rgb8", "cam", { x0: 2, y0: 0, w: 3, h: 1 }), /cam region: x 2\.\.5, y 0\.\.1 is not a region of whole pixels inside the 4x3 image/);
});
