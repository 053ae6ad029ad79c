import { Rng } from "../common/rng.js";
import { projectPath } from "../common/paths.js";
import { WorkerVecEnv } from "../sim/env/worker-vec-env.js";
import { resolveTrainConfig } from "../policies/runner.js";
import { readCheckpoint } from "../policies/checkpoint.js";
import { checkpointPolicy } from "../policies/evaluate.js";
import { Adam, clipGradNorm, createArena, Gru, Mlp, RunningNorm } from "../policies/nn/index.js";

/** The parameters that shape the swing-up (issue 16's list): Jr (through the arm's mass scale), mp, Lp, Rm, km, latency. */
const LISTED = ["links.arm.mass", "links.pendulum.mass", "links.pendulum.scale", "actuators.arm.Rm", "actuators.arm.km", "actuators.arm.latency"];

/**
 * How much history identification needs: rollouts of the shipped Furuta
 * policy (plus a little noise, for excitation) on the default randomization,
 * then a fresh OSI network (GRU 64 + linear head, as in training) trained
 * supervised on them with truncated BPTT windows of several lengths (state
 * carried from window to window, as PPO's chunks do), and its mean |error| in
 * half-ranges on held-out environments over whole 4 s episodes (as
 * `s2r eval` measures `osiError`, over every step). Guessing the centre of
 * each range scores 0.5.
 */
export async function benchOsi(o: { quick: boolean; log: (l: string) => void }): Promise<Record<string, unknown>> {
  // Short episodes, so that the OSI sees many parameter draws (with a few hundred it memorizes them instead of identifying).
  const N = o.quick ? 32 : 128, trainEnvs = (N * 3) / 4, T = o.quick ? 800 : 2400, episodeSteps = 400, epochs = o.quick ? 4 : 12;
  // Window lengths at the same epochs, and the training window with 4x the epochs (does it underfit for want of steps?).
  const variants = [
    { W: 32, E: epochs },
    { W: 128, E: epochs },
    { W: 400, E: epochs },
    { W: 128, E: 4 * epochs },
  ];
  const { checkpoint } = readCheckpoint(projectPath("policies", "pretrained", "furuta", "checkpoint.json"));
  const taskConfig = resolveTrainConfig("furuta", {}).task;
  const env = await WorkerVecEnv.create({ task: "furuta", config: { ...taskConfig, episodeSeconds: episodeSteps * taskConfig.controlDt }, seed: 9191, numEnvs: N, workers: 2 });
  const { numObs: O, numPrivileged: P, privilegedNames } = env.spec;
  const obs = new Float32Array(T * N * O), priv = new Float32Array(T * N * P), starts = new Uint8Array(T * N);
  const t0 = performance.now();
  const policy = checkpointPolicy(checkpoint, N);
  const rng = Rng.derive(9191, 1);
  try {
    let r = await env.reset();
    let start = new Uint8Array(N).fill(1);
    const actions = new Float32Array(N);
    for (let t = 0; t < T; t++) {
      obs.set(r.obs, t * N * O);
      priv.set(r.privileged, t * N * P);
      starts.set(start, t * N);
      const a = policy.act(r.obs, start).actions;
      for (let i = 0; i < N; i++) actions[i] = a[i]! + 0.1 * rng.normal();
      const b = await env.step(actions);
      start = new Uint8Array(N);
      for (let i = 0; i < N; i++) start[i] = b.terminated[i]! | b.truncated[i]!;
      r = b;
    }
  } finally {
    policy.dispose();
    await env.close();
  }
  const collectSeconds = (performance.now() - t0) / 1000;
  o.log(`collected ${T} steps x ${N} envs in ${collectSeconds.toFixed(0)} s`);
  const norm = new RunningNorm(O, { clip: 10 });
  norm.update(obs, T * N);
  const obsN = new Float32Array(T * N * O);
  norm.normalize(obs, T * N, obsN);
  const listed = LISTED.map((n) => privilegedNames.indexOf(n));
  const listedSet = new Set(listed);

  const results: Record<string, unknown> = { collectSeconds: Math.round(collectSeconds), steps: T, envs: N, episodeSteps, parameterDraws: (N * T) / episodeSteps, epochs };
  for (const { W, E } of variants.filter((v) => v.W <= T)) {
    const t1 = performance.now();
    const arena = createArena();
    try {
      const r2 = Rng.derive(5, W);
      const gru = new Gru(arena, O, 64, r2, { name: "osi.gru" });
      const head = new Mlp(arena, r2, { sizes: [64, P], name: "osi.head", outputGain: 1 });
      const params = [...gru.params(), ...head.params()];
      const adam = new Adam(params, { lr: 1e-3 });
      const B = 16;
      const ctx = { rnn: gru.newContext({ maxSteps: W, maxBatch: B, backward: true, inputGrad: false }), head: head.newContext({ maxRows: W * B, backward: true, inputGrad: true }) };
      const x = arena.alloc(W * B * O), y = new Float32Array(W * B * P), dEst = arena.alloc(W * B * P), state = arena.alloc(B * 64), done = new Uint8Array(W * B);
      const order = Int32Array.from({ length: trainEnvs }, (_, i) => i);
      let trainErr = 0, trainCount = 0;
      for (let epoch = 0; epoch < E; epoch++) {
        r2.shuffle(order);
        for (let g = 0; g + B <= trainEnvs; g += B) {
          state.fill(0);
          for (let s = 0; s + W <= T; s += W) {
            for (let l = 0; l < W; l++) {
              for (let b = 0; b < B; b++) {
                const src = (s + l) * N + order[g + b]!, dst = l * B + b;
                x.set(obsN.subarray(src * O, (src + 1) * O), dst * O);
                y.set(priv.subarray(src * P, (src + 1) * P), dst * P);
                done[dst] = starts[src]!;
              }
            }
            for (const p of params) p.grad.fill(0);
            const h = gru.forward(ctx.rnn, x, state, done, W, B);
            const est = head.forward(ctx.head, h, W * B);
            for (let i = 0; i < W * B * P; i++) {
              dEst[i] = (2 * (est[i]! - y[i]!)) / (W * B * P);
              if (epoch === E - 1 && listedSet.has(i % P)) {
                trainErr += Math.abs(est[i]! - y[i]!);
                trainCount++;
              }
            }
            gru.backward(ctx.rnn, head.backward(ctx.head, dEst, W * B), null);
            clipGradNorm(params, 1);
            adam.step();
            state.set(ctx.rnn.stateT.subarray(0, B * 64)); // carried to the next window, without gradient
          }
        }
      }
      // Held-out envs, whole episodes from a zero state.
      const M = N - trainEnvs;
      const ev = { rnn: gru.newContext({ maxSteps: T, maxBatch: M }), head: head.newContext({ maxRows: T * M }) };
      const xe = arena.alloc(T * M * O), de = new Uint8Array(T * M);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < M; b++) {
          xe.set(obsN.subarray((t * N + trainEnvs + b) * O, (t * N + trainEnvs + b + 1) * O), (t * M + b) * O);
          de[t * M + b] = starts[t * N + trainEnvs + b]!;
        }
      }
      const est = head.forward(ev.head, gru.forward(ev.rnn, xe, arena.alloc(M * 64), de, T, M), T * M);
      const err = new Float64Array(P), errLate = new Float64Array(P);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < M; b++) {
          for (let k = 0; k < P; k++) {
            const e = Math.abs(est[(t * M + b) * P + k]! - priv[((t * N) + trainEnvs + b) * P + k]!);
            err[k] += e / (T * M);
            if (t % episodeSteps >= episodeSteps / 2) errLate[k] += e / ((T / 2) * M);
          }
        }
      }
      const mean = (a: Float64Array) => listed.reduce((s, k) => s + a[k]!, 0) / listed.length;
      const row = {
        listedMeanError: +mean(err).toFixed(3),
        // On the training envs during the last epoch: far below the held-out figure means memorized draws.
        listedTrainingError: +(trainErr / Math.max(1, trainCount)).toFixed(3),
        listedMeanErrorLastHalfOfEpisodes: +mean(errLate).toFixed(3),
        perParameter: Object.fromEntries(listed.map((k) => [privilegedNames[k], +err[k]!.toFixed(3)])),
        seconds: Math.round((performance.now() - t1) / 1000),
      };
      const key = E === epochs ? `window${W}` : `window${W}x${E}epochs`;
      o.log(`${key}: ${JSON.stringify(row)}`);
      results[key] = row;
    } finally {
      arena.dispose();
    }
  }
  return results;
}
