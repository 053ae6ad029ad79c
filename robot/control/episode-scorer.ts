/**
 * How a deployed episode is judged: the task's own success rule, applied to
 * the calibrated joint readings. The rule itself lives with the task (for the
 * Furuta pendulum, FurutaSuccessTracker in sim/tasks/furuta), so simulation
 * and robot report success the same way; this file only wires a task name to
 * its rule.
 */

import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { FurutaSuccessTracker } from "../../sim/tasks/furuta/task.js";
import type { FurutaConfig } from "../../sim/tasks/furuta/config.js";
import type { RigConfig } from "../rigs/rig-config.js";

export interface EpisodeScorer {
  reset(): void;
  /** Feeds one control period of readings (joint order of the rig); returns true when the task ends the episode. */
  update(position: ArrayLike<number>, velocity: ArrayLike<number>, dt: number, time: number): boolean;
  success(): boolean;
  /** Task figures of the episode so far (e.g. secondsUpright). */
  metrics(): Record<string, number>;
}

type ScorerFactory = (config: TaskConfigBase, jointOrder: readonly string[], rig: RigConfig) => EpisodeScorer;

function jointIndex(jointOrder: readonly string[], joint: string, task: string): number {
  const i = jointOrder.indexOf(joint);
  if (i < 0) throw new Error(`task ${task}: the rig reads no joint ${JSON.stringify(joint)} (it reads ${jointOrder.join(", ")})`);
  return i;
}

/** The Furuta rig page's rule: upright within tolerance for holdSeconds without touching the hard stops. */
const furuta: ScorerFactory = (config, jointOrder, rig) => {
  const c = config as FurutaConfig;
  const arm = jointIndex(jointOrder, "arm_joint", "furuta");
  const pend = jointIndex(jointOrder, "pendulum_joint", "furuta");
  const guard = rig.safety.guards.find((g) => g.joint === "arm_joint");
  if (!guard) throw new Error(`task furuta: rig ${rig.name} has no safety guard on arm_joint, so its hard stops are unknown`);
  const stopLimit = Math.min(Math.abs(guard.lower), Math.abs(guard.upper)) - rig.episodes.stopContactTolerance;
  const tracker = new FurutaSuccessTracker(c.success.uprightTolerance, c.success.holdSeconds, stopLimit);
  return {
    reset: () => tracker.reset(),
    update: (q, qd, dt, time) => tracker.update(q[arm]!, qd[arm]!, q[pend]!, dt, time),
    success: () => tracker.success(),
    metrics: () => tracker.metrics(),
  };
};

const SCORERS: Record<string, ScorerFactory> = { furuta };

export function createEpisodeScorer(task: string, config: TaskConfigBase, jointOrder: readonly string[], rig: RigConfig): EpisodeScorer {
  const f = SCORERS[task];
  if (!f) throw new Error(`no episode success rule for task ${JSON.stringify(task)} on the robot (known: ${Object.keys(SCORERS).join(", ")}); add one in robot/control/episode-scorer.ts`);
  return f(config, jointOrder, rig);
}
