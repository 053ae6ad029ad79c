import { LocalVecEnv } from "../sim/env/local-vec-env.js";
import { WorkerVecEnv } from "../sim/env/worker-vec-env.js";
import type { EnvSpec, EpisodeResult, VecEnv } from "../sim/env/contract.js";
import type { ParamSourceSpec } from "../sim/env/param-source.js";
import { createArena } from "./nn/index.js";
import { ActorCritic, PolicyStepper } from "./actor-critic.js";
import type { Checkpoint } from "./checkpoint.js";
import type { PolicyConfig } from "./train-config.js";

/** A policy that acts for N environments at once, carrying their recurrent states. */
export interface BatchPolicy {
  readonly osiSize: number;
  /** Deterministic actions for obs [N, numObs]; rows with episodeStart set start from a zero state. */
  act(obs: Float32Array, episodeStart: Uint8Array): { actions: Float32Array; osi?: Float32Array };
  dispose(): void;
}

/** The training core's own forward pass, from a checkpoint. */
export function checkpointPolicy(ck: Checkpoint, n: number): BatchPolicy {
  const arena = createArena();
  const model = new ActorCritic(arena, ck.envSpec, (ck.config as { policy: PolicyConfig }).policy, 0);
  model.setState(ck.model, "checkpoint.model");
  const stepper = new PolicyStepper(model, n);
  return {
    osiSize: model.osi ? ck.envSpec.numPrivileged : 0,
    act(obs, episodeStart) {
      const actions = stepper.act(obs, episodeStart);
      return { actions, ...(model.osi ? { osi: stepper.osiEstimate } : {}) };
    },
    dispose: () => arena.dispose(),
  };
}

/** An exported ONNX policy (batch 1 per call), its state swapped per environment. */
export async function onnxPolicy(onnxFile: string, manifestFile: string | undefined, n: number): Promise<BatchPolicy> {
  const { OnnxPolicy } = await import("./runtime/onnx-policy.js");
  const p = await OnnxPolicy.load(onnxFile, manifestFile);
  const states = Array.from({ length: n }, () => ({ h: new Float32Array(p.hSize), c: new Float32Array(p.cSize) }));
  const actions = new Float32Array(n * p.actionSize);
  const osi = new Float32Array(n * Math.max(1, p.osiSize));
  return {
    osiSize: p.osiSize,
    act(obs, episodeStart) {
      const O = p.obsSize;
      for (let i = 0; i < n; i++) {
        const st = states[i]!;
        if (episodeStart[i]) {
          st.h.fill(0);
          st.c.fill(0);
        }
        p.setState(st);
        const r = p.step(obs.subarray(i * O, (i + 1) * O));
        actions.set(r.action, i * p.actionSize);
        if (r.osi) osi.set(r.osi, i * p.osiSize);
        const s = p.getState();
        st.h.set(s.h);
        st.c.set(s.c);
      }
      return { actions, ...(p.osiSize > 0 ? { osi } : {}) };
    },
    dispose: () => p.dispose(),
  };
}

export interface EvalOptions {
  task: string;
  /** Partial task config (as trained). */
  taskConfig: unknown;
  episodes: number;
  seed: number;
  params: ParamSourceSpec;
  workers?: number;
  signal?: AbortSignal;
  onEpisode?: (done: number, total: number) => void;
}

export interface EvalResult {
  successRate: number;
  episodes: number;
  meanReturn: number;
  /** Mean |OSI estimate - truth| per privileged parameter over every step (normalized units: 1 = half the training range). */
  osiError: Record<string, number>;
  results: EpisodeResult[];
}

/**
 * Runs `episodes` episodes, one per environment (env i's parameters and
 * noise depend only on the seed and i), with deterministic actions.
 */
export async function evaluatePolicy(makePolicy: (n: number, spec: EnvSpec) => Promise<BatchPolicy> | BatchPolicy, o: EvalOptions): Promise<EvalResult> {
  const n = o.episodes;
  const workers = o.workers ?? 2;
  const env: VecEnv =
    workers > 0 && n > 1
      ? await WorkerVecEnv.create({ task: o.task, config: o.taskConfig, seed: o.seed, numEnvs: n, workers, params: o.params })
      : await LocalVecEnv.create({ task: o.task, config: o.taskConfig, seed: o.seed, numEnvs: n, params: o.params });
  const spec = env.spec;
  const policy = await makePolicy(n, spec);
  try {
    const P = spec.numPrivileged;
    const osiSum = new Float64Array(P);
    let osiCount = 0;
    const finished: (EpisodeResult | undefined)[] = new Array(n);
    let done = 0;
    let { obs, privileged } = await env.reset();
    let episodeStart = new Uint8Array(n).fill(1);
    const actions = new Float32Array(n * spec.numActions);
    while (done < n) {
      if (o.signal?.aborted) throw new Error("evaluation interrupted");
      const r = policy.act(obs, episodeStart);
      actions.set(r.actions.subarray(0, actions.length));
      if (r.osi && policy.osiSize === P) {
        for (let i = 0; i < n; i++) {
          if (finished[i]) continue;
          for (let k = 0; k < P; k++) osiSum[k]! += Math.abs(r.osi[i * P + k]! - privileged[i * P + k]!);
          osiCount++;
        }
      }
      const b = await env.step(actions);
      for (const e of b.episodes) {
        if (!finished[e.env]) {
          finished[e.env] = e;
          done++;
          o.onEpisode?.(done, n);
        }
      }
      episodeStart = new Uint8Array(n);
      for (let i = 0; i < n; i++) episodeStart[i] = b.terminated[i]! | b.truncated[i]!;
      obs = b.obs;
      privileged = b.privileged;
    }
    const results = finished as EpisodeResult[];
    const osiError: Record<string, number> = {};
    if (osiCount > 0) spec.privilegedNames.forEach((name, k) => (osiError[name] = osiSum[k]! / osiCount));
    return {
      successRate: results.filter((e) => e.success).length / n,
      episodes: n,
      meanReturn: results.reduce((s, e) => s + e.return, 0) / n,
      osiError,
      results,
    };
  } finally {
    policy.dispose();
    await env.close();
  }
}
