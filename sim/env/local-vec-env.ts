import { getTask } from "../tasks/registry.js";
import type { TaskConfigBase } from "../tasks/task.js";
import type { EnvSpec, EpisodeResult, StepBatch, VecEnv } from "./contract.js";
import { resolveParamSource, type ParamSourceSpec } from "./param-source.js";
import { setupTask, SimEnv } from "./sim-env.js";

export interface VecEnvOptions {
  task: string;
  /** Partial task config; validated and completed with the task's defaults. */
  config?: unknown;
  seed: number;
  numEnvs: number;
  /** Global index of the first environment (worker slices start elsewhere). */
  firstEnv?: number;
  params?: ParamSourceSpec;
}

/** N environments stepped in sequence on the calling thread. */
export class LocalVecEnv implements VecEnv {
  readonly numEnvs: number;
  private readonly obs: Float32Array;
  private readonly priv: Float32Array;
  private closed = false;

  private constructor(
    readonly spec: EnvSpec,
    private readonly envs: SimEnv[],
  ) {
    this.numEnvs = envs.length;
    this.obs = new Float32Array(this.numEnvs * spec.numObs);
    this.priv = new Float32Array(this.numEnvs * spec.numPrivileged);
  }

  static async create(o: VecEnvOptions): Promise<LocalVecEnv> {
    const task = getTask(o.task);
    const config = task.configSchema.parse(o.config ?? {}, "config") as TaskConfigBase;
    const setup = setupTask(task, config);
    const params = resolveParamSource(setup, o.params ?? { kind: "task" });
    const envs: SimEnv[] = [];
    try {
      for (let i = 0; i < o.numEnvs; i++) envs.push(await SimEnv.create(setup, (o.firstEnv ?? 0) + i, o.seed, params));
    } catch (e) {
      for (const env of envs) env.dispose();
      throw e;
    }
    return new LocalVecEnv(setup.spec, envs);
  }

  /** The environments themselves (for tests, traces and the emulator). */
  get environments(): readonly SimEnv[] {
    return this.envs;
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
    const reward = new Float32Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const finalObs = new Float32Array(n * numObs);
    const finalPrivileged = new Float32Array(n * numPrivileged);
    const episodes: EpisodeResult[] = [];
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      const r = env.step(actions, i * numActions, this.obs, i * numObs);
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

  async reset(): Promise<{ obs: Float32Array; privileged: Float32Array }> {
    return this.resetSync();
  }

  async step(actions: Float32Array): Promise<StepBatch> {
    return this.stepSync(actions);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const env of this.envs) env.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("vector env used after close()");
  }
}
