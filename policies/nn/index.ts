/**
 * The neural-network core of s2r: typed-array layers with explicit backward
 * passes over a WebAssembly SIMD kernel (with a TypeScript fallback), Adam,
 * gradient clipping and checkpoint state. arena.ts explains the memory model,
 * module.ts the forward/backward contexts, state.ts the checkpoint format;
 * exported weights follow policies/network-spec.ts.
 */
export { Arena, createFloat64Arena, DEFAULT_ARENA_MIB, type ArenaOptions } from "./arena.js";
export { getKernel, loadKernel, createArena, compileWasmKernel, wasmKernelPath, KERNEL_ENV, type Kernel, type KernelChoice } from "./kernel/load.js";
export type { ActivationFn, Floats, GruCache, LstmCache, MatrixOps, Transpose } from "./kernel/matrix-ops.js";
export { LayerContext, zeroGrads, type Param, type Module, type FeedForward, type ContextOptions } from "./module.js";
export { Linear, type LinearOptions, type LinearState } from "./linear.js";
export { Tanh, Elu } from "./activations.js";
export { Mlp, type MlpOptions, type MlpContext, type ActivationKind } from "./mlp.js";
export { Gru, GruContext, type GruState } from "./gru.js";
export { Lstm, LstmContext, type LstmState } from "./lstm.js";
export type { Recurrent, RecurrentContextOptions, RecurrentResults } from "./recurrent.js";
export { GaussianHead, type GaussianHeadOptions, type GaussianHeadState } from "./gaussian-head.js";
export { RunningNorm, type RunningNormOptions, type RunningNormState } from "./running-norm.js";
export { Adam, type AdamOptions, type AdamState } from "./adam.js";
export { clipGradNorm } from "./clip-grad.js";
export { tensorState, readTensor, type TensorState } from "./state.js";
export { initOrthogonal, initUniform, type InitKind } from "./init.js";
export { checkGradients, type CheckedTensor, type GradCheckResult } from "./gradcheck.js";
export { Conv2d, Conv2dContext, type Conv2dOptions, type Conv2dState, type ImageShape } from "./conv2d.js";
export { GroupNorm, GroupNormContext, Relu, GlobalAvgPool, Flatten, GradReverse, type GroupNormState } from "./image-layers.js";
export { Sequential, type SequentialContext } from "./sequential.js";
