import { PlantDivergedError, PlantGroup } from "../plant.js";
import { getTask } from "../tasks/registry.js";
import type { TaskConfigBase } from "../tasks/task.js";
import type { EnvSpec, EpisodeResult, StepBatch, VecEnv } from "./contract.js";
import { resolveParamSource, type ParamSourceSpec } from "./param-source.js";
import { setupTask, SimEnv } from "./sim-env.js";

/** Environments per physics world by default: past 16-32 robots a world gets no cheaper per robot. */
export const DEFAULT_BLOCK_SIZE = 16;

export interface VecEnvOptions {
  task: string;
  /** Partial task config; validated and completed with the task's defaults. */
  config?: unknown;
  seed: number;
  numEnvs: number;
  /** Global index of the first environment (worker slices start elsewhere). */
  firstEnv?: number;
  params?: ParamSourceSpec;
  /**
   * Environments per physics world (default DEFAULT_BLOCK_SIZE). Blocks are
   * fixed by global env index (env i is in block floor(i / blockSize)), so a
   * world holds the same envs whatever the number of workers.
   */
  blockSize?: number;
}

/** The block size of `o`, checked. */
export function blockSizeOf(o: Pick<VecEnvOptions, "blockSize">): number {
  const b = o.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!(Number.isInteger(b) && b >= 1)) throw new RangeError(`vector env: blockSize must be an integer >= 1, got ${b}`);
  return b;
}

/** Splits global env indices [first, first + count) at multiples of `blockSize`: [start, end) per block. */
export function blockRanges(first: number, count: number, blockSize: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = first; start < first + count; ) {
    const end = Math.min(first + count, (Math.floor(start / blockSize) + 1) * blockSize);
    out.push([start, end]);
    start = end;
  }
  return out;
}

/**
 * Splits envs [first, first + count) into at most `parts` contiguous slices of
 * whole blocks (as even as blocks allow), so each physics world stays whole
 * whoever steps it: the split used for worker threads and remote workers alike.
 */
export function splitByBlocks(first: number, count: number, blockSize: number, parts: number): { first: number; count: number }[] {
  const blocks = blockRanges(first, count, blockSize);
  const w = Math.max(1, Math.min(parts, blocks.length));
  const base = Math.floor(blocks.length / w);
  const out: { first: number; count: number }[] = [];
  let next = 0;
  for (let i = 0; i < w; i++) {
    const nBlocks = base + (i < blocks.length % w ? 1 : 0);
    const start = blocks[next]![0];
    out.push({ first: start, count: blocks[next + nBlocks - 1]![1] - start });
    next += nBlocks;
  }
  return out;
}

interface Block {
  group: PlantGroup;
  /** Local index of the block's first env. */
  first: number;
}

/**
 * N environments stepped on the calling thread, their robots grouped into
 * Rapier worlds of `blockSize` (one PlantGroup per block). Each control step:
 * every env issues its commands, each world advances one control period
 * (every physics step: all envs' efforts, one world step, all states read
 * back), then every env computes its reward and observation.
 */
export class LocalVecEnv implements VecEnv {
  readonly numEnvs: number;
  private readonly obs: Float32Array;
  private readonly priv: Float32Array;
  private readonly physicsSteps: number;
  private closed = false;

  private constructor(
    readonly spec: EnvSpec,
    private readonly envs: SimEnv[],
    private readonly blocks: Block[],
  ) {
    this.numEnvs = envs.length;
    this.obs = new Float32Array(this.numEnvs * spec.numObs);
    this.priv = new Float32Array(this.numEnvs * spec.numPrivileged);
    this.physicsSteps = envs[0]?.physicsStepsPerControl ?? 0;
  }

  static async create(o: VecEnvOptions): Promise<LocalVecEnv> {
    const task = getTask(o.task);
    const config = task.configSchema.parse(o.config ?? {}, "config") as TaskConfigBase;
    const blockSize = blockSizeOf(o);
    if (!(Number.isInteger(o.numEnvs) && o.numEnvs >= 1)) throw new RangeError(`vector env: numEnvs must be an integer >= 1, got ${o.numEnvs}`);
    const setup = setupTask(task, config);
    const params = resolveParamSource(setup, o.params ?? { kind: "task" });
    const firstEnv = o.firstEnv ?? 0;
    const envs: SimEnv[] = [];
    const blocks: Block[] = [];
    try {
      for (const [start, end] of blockRanges(firstEnv, o.numEnvs, blockSize)) {
        const group = await PlantGroup.create(setup.model, setup.table, config.robot, end - start, { dt: config.physicsDt, substep: config.physicsSubstep });
        blocks.push({ group, first: start - firstEnv });
        group.plants.forEach((plant, k) => envs.push(SimEnv.onPlant(setup, plant, start + k, o.seed, params)));
      }
    } catch (e) {
      for (const b of blocks) b.group.dispose();
      throw e;
    }
    return new LocalVecEnv(setup.spec, envs, blocks);
  }

  /** The environments themselves (for tests and traces; they step through this vector env). */
  get environments(): readonly SimEnv[] {
    return this.envs;
  }

  /** Number of physics worlds (blocks). */
  get worlds(): number {
    return this.blocks.length;
  }

  resetSync(): { obs: Float32Array; privileged: Float32Array } {
    this.assertOpen();
    const { numObs, numPrivileged } = this.spec;
    this.envs.forEach((env, i) => env.reset(this.obs, i * numObs, this.priv, i * numPrivileged));
    return { obs: this.obs.slice(), privileged: this.priv.slice() };
  }

  stepSync(actions: Float32Array): StepBatch {
    this.assertOpen();
    const { numObs, numPrivileged, numActions } = this.spec;
    const n = this.numEnvs;
    if (actions.length !== n * numActions) throw new RangeError(`step: expected ${n * numActions} actions (${n} envs x ${numActions}), got ${actions.length}`);
    // Every action is checked before any env moves, so a bad one leaves the batch untouched.
    for (let i = 0; i < n; i++) this.envs[i]!.checkAction(actions, i * numActions);
    for (let i = 0; i < n; i++) this.envs[i]!.applyAction(actions, i * numActions);
    for (const b of this.blocks) {
      try {
        b.group.advance(this.physicsSteps);
      } catch (e) {
        if (e instanceof PlantDivergedError) throw this.envs[b.first + e.robot]!.divergence(e.message);
        throw e;
      }
    }
    const reward = new Float32Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const finalObs = new Float32Array(n * numObs);
    const finalPrivileged = new Float32Array(n * numPrivileged);
    const episodes: EpisodeResult[] = [];
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      const r = env.finishStep(this.obs, i * numObs);
      reward[i] = r.reward;
      if (r.terminated || r.truncated) {
        terminated[i] = r.terminated ? 1 : 0;
        truncated[i] = r.truncated ? 1 : 0;
        finalObs.set(this.obs.subarray(i * numObs, (i + 1) * numObs), i * numObs);
        finalPrivileged.set(this.priv.subarray(i * numPrivileged, (i + 1) * numPrivileged), i * numPrivileged);
        episodes.push(env.result(r.terminated));
        env.reset(this.obs, i * numObs, this.priv, i * numPrivileged);
      }
    }
    return { obs: this.obs.slice(), privileged: this.priv.slice(), reward, terminated, truncated, finalObs, finalPrivileged, episodes };
  }

  /** Changes where every env draws its next episodes' parameters (e.g. ADR's current ranges). */
  setParamSourceSync(src: ParamSourceSpec): void {
    this.assertOpen();
    const first = this.envs[0];
    if (!first) return;
    const resolved = resolveParamSource(first.setup, src);
    for (const env of this.envs) env.setParamSource(resolved);
  }

  async setParamSource(src: ParamSourceSpec): Promise<void> {
    this.setParamSourceSync(src);
  }

  async reset(): Promise<{ obs: Float32Array; privileged: Float32Array }> {
    return this.resetSync();
  }

  async step(actions: Float32Array): Promise<StepBatch> {
    return this.stepSync(actions);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.blocks) b.group.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("vector env used after close()");
  }
}
