import type { ParamSourceSpec } from "../sim/env/param-source.js";
import { PolicyStepper, type ActorCritic } from "./actor-critic.js";
import type { PeriodicEvaluation } from "./checkpoint.js";
import { evaluatePolicy, type BatchPolicy, type EvalResult } from "./evaluate.js";

/**
 * Deterministic evaluation of the model being trained, on the same fixed set
 * of episodes every time (env i's parameters and noise depend only on the
 * seed and i, and each evaluation starts fresh environments), so that two
 * evaluations compare checkpoints, not luck. The policy is the mean action,
 * as deployed; training success is measured with exploration noise and can
 * differ from it (a policy may come to rely on its noise).
 */
export class PeriodicEvaluator {
  private readonly stepper: PolicyStepper;

  constructor(
    private readonly model: ActorCritic,
    private readonly o: { task: string; taskConfig: unknown; episodes: number; seed: number; workers: number; params?: ParamSourceSpec },
  ) {
    // One stepper for the run's lifetime: its buffers live in the model's arena, which only grows.
    this.stepper = new PolicyStepper(model, o.episodes);
  }

  async evaluate(at: { update: number; steps: number }, signal?: AbortSignal): Promise<{ evaluation: PeriodicEvaluation; result: EvalResult }> {
    const { stepper, model } = this;
    const live: BatchPolicy = {
      osiSize: model.osi ? model.shape.numPrivileged : 0,
      act(obs, episodeStart) {
        const actions = stepper.act(obs, episodeStart);
        return { actions, ...(model.osi ? { osi: stepper.osiEstimate } : {}) };
      },
      dispose() {}, // the stepper is reused by the next evaluation
    };
    const result = await evaluatePolicy(() => live, {
      task: this.o.task,
      taskConfig: this.o.taskConfig,
      episodes: this.o.episodes,
      seed: this.o.seed,
      params: this.o.params ?? { kind: "task" },
      workers: this.o.workers,
      ...(signal ? { signal } : {}),
    });
    return { evaluation: { update: at.update, steps: at.steps, successRate: result.successRate, meanReturn: result.meanReturn, episodes: result.episodes, seed: this.o.seed }, result };
  }
}

/** Whether evaluation `a` beats `b`: higher deterministic success, then higher mean return. */
export function betterEvaluation(a: PeriodicEvaluation, b: PeriodicEvaluation | undefined): boolean {
  if (!b) return true;
  if (a.successRate !== b.successRate) return a.successRate > b.successRate;
  return a.meanReturn > b.meanReturn;
}
