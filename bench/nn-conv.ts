import { Rng } from "../common/rng.js";
import { Conv2d, type Arena } from "../policies/nn/index.js";
import { PerceptionNet } from "../policies/perception/perception-net.js";

/**
 * Speed of the convolution layers and the perception network, for bench nn.
 *
 * A conv layer is im2col + one gemm forward, and two gemms + col2im
 * backward, so its GFLOP/s is quoted next to the same run's gemm on the
 * conv's own forward product ([pixels, Cout] = patches [pixels, k*k*Cin] x
 * W^T): the ratio says how much the patch copies and the backward products
 * cost on top of the kernel. FLOPs: 2 * MACs per product (forward, weight
 * gradient, and the input gradient when it is computed).
 *
 * Keys per kernel: conv_<name>_B32_fwd_bwd_<kernel>_{ms,gflops},
 * conv_<name>_B32_fwd_<kernel>_gflops, conv_<name>_gemm_<kernel>_gflops
 * (the matrix kernel on the forward product), conv_<name>_vs_gemm_<kernel>
 * (fwd+bwd GFLOP/s over the gemm's); and perception_96x96_B32_train_step_<kernel>_ms,
 * perception_96x96_B32_forward_<kernel>_ms, perception_96x96_forward_<kernel>_images_per_sec
 * (default PerceptionNet config: 4 convs 16-32-32-64, stride 2, GroupNorm,
 * flatten, MLP 128; train step = forward, loss, backward, clip, Adam).
 *
 * Times here are the process's CPU time per call (median of five rounds),
 * not wall time: everything measured runs on the calling thread, and on a
 * shared machine the wall time mostly measures the other processes. The
 * conv and its reference product are timed in alternating rounds so that
 * their ratio sees the same conditions.
 */

interface ConvCase {
  name: string;
  input: { height: number; width: number; channels: number };
  outChannels: number;
  kernel: number;
  stride: number;
  /** The first layer of a network needs no input gradient. */
  inputGrad: boolean;
}

export const CONV_CASES: ConvCase[] = [
  { name: "96x96x3_16c5s2", input: { height: 96, width: 96, channels: 3 }, outChannels: 16, kernel: 5, stride: 2, inputGrad: false },
  { name: "48x48x16_32c3s2", input: { height: 48, width: 48, channels: 16 }, outChannels: 32, kernel: 3, stride: 2, inputGrad: true },
];

const BATCH = 32;

/** CPU seconds per call of each function, over `rounds` alternating rounds of about `budget` CPU seconds each in all; medians. */
export function cpuSecondsPerCall(fns: (() => void)[], budget: number, rounds = 5): number[] {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const reps = fns.map((fn) => {
    fn(); // warm-up: compile, touch memory
    const t0 = cpu();
    fn();
    return Math.max(1, Math.floor(budget / rounds / fns.length / Math.max(cpu() - t0, 1e-4)));
  });
  const samples = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t0 = cpu();
      for (let k = 0; k < reps[i]!; k++) fn();
      samples[i]!.push((cpu() - t0) / reps[i]!);
    });
  }
  return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]!);
}

export function benchConvLayers(arena: Arena<Float32Array>, kind: string, budget: number, result: Record<string, number>): void {
  const rng = new Rng(3);
  for (const c of CONV_CASES) {
    const mark = arena.mark();
    const conv = new Conv2d(arena, rng, { input: c.input, outChannels: c.outChannels, kernel: c.kernel, stride: c.stride, padding: Math.floor(c.kernel / 2) });
    const x = arena.alloc(BATCH * conv.inFeatures), dy = arena.alloc(BATCH * conv.outFeatures);
    for (const a of [x, dy]) for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
    const ctx = conv.newContext({ maxRows: BATCH, backward: true, inputGrad: c.inputGrad });
    // The matrix kernel alone on the conv's forward product (patches x W^T, as "nn"), same arena, same run.
    const pixels = BATCH * conv.output.height * conv.output.width, K = conv.patch, Co = c.outChannels;
    const wT = arena.alloc(K * Co);
    const [fwdBwd, fwd, gemm] = cpuSecondsPerCall([
      () => {
        conv.forward(ctx, x, BATCH);
        conv.backward(ctx, dy, BATCH);
      },
      () => conv.forward(ctx, x, BATCH),
      () => arena.gemm("nn", pixels, Co, K, ctx.cols, 0, K, wT, 0, Co, ctx.out, 0, Co, false),
    ], budget * 3) as [number, number, number];
    const macs = conv.macsPerSample * BATCH;
    const products = c.inputGrad ? 3 : 2;
    const p = `conv_${c.name}_B${BATCH}`;
    result[`${p}_fwd_bwd_${kind}_ms`] = round(fwdBwd * 1e3, 2);
    result[`${p}_fwd_bwd_${kind}_gflops`] = round((2 * macs * products) / fwdBwd / 1e9, 2);
    result[`${p}_fwd_${kind}_gflops`] = round((2 * macs) / fwd / 1e9, 2);
    result[`conv_${c.name}_gemm_${kind}_gflops`] = round((2 * macs) / gemm / 1e9, 2);
    result[`conv_${c.name}_vs_gemm_${kind}`] = round(gemm / (fwdBwd / products), 2);
    arena.release(mark);
  }
}

/** The default perception network at 96 x 96 rgb8 on the given kernel. */
export function benchPerception(kind: "wasm" | "js", budget: number, result: Record<string, number>): void {
  const net = PerceptionNet.create({}, { seed: 1, kernel: kind, capacityMiB: 512 });
  try {
    const rng = new Rng(4);
    const images = new Uint8Array(BATCH * net.inputBytesPerSample).map(() => rng.int(256));
    const angles = new Float64Array(BATCH * net.config.joints.length).map(() => rng.uniform(-Math.PI, Math.PI));
    const train = net.newContext({ maxRows: BATCH, backward: true });
    const infer = net.newContext({ maxRows: BATCH });
    const adam = net.newAdam();
    const [step, fwd] = cpuSecondsPerCall([() => net.trainStep(train, adam, images, angles, BATCH), () => net.forward(infer, images, BATCH)], budget * 2, 3) as [number, number];
    result[`perception_96x96_B${BATCH}_train_step_${kind}_ms`] = round(step * 1e3, 1);
    result[`perception_96x96_B${BATCH}_forward_${kind}_ms`] = round(fwd * 1e3, 1);
    result[`perception_96x96_forward_${kind}_images_per_sec`] = Math.round(BATCH / fwd);
    result[`perception_96x96_conv_mflop_per_image`] = round((2 * net.convMacsPerSample) / 1e6, 1);
  } finally {
    net.dispose();
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
