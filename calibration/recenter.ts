/**
 * `s2r train <task> --params params.json`: the task's domain randomization
 * re-centred on the parameters system identification found (s2r sysid fit).
 * Each identified parameter gets a range at its identified value, as wide as
 * its uncertainty with a floor; parameters the data did not identify keep
 * the task's ranges (calibration/sysid/recenter.ts says exactly how).
 *
 * The spec re-centred is the one the training would otherwise use: the
 * partial config's task.randomization when it has one, else the task's
 * default. The result is the partial config with that spec replaced, ready
 * for resolveTrainConfig.
 */
import { ConfigError } from "../common/schema.js";
import { getTask } from "../sim/tasks/registry.js";
import type { RandomizationEntry } from "../sim/randomization/spec.js";
import { readSysidParams } from "./sysid/params-file.js";
import { recenterRandomization, type RecenterOptions } from "./sysid/recenter.js";

export function recenterFromParamsFile(taskName: string, partial: Record<string, unknown>, file: string, options: RecenterOptions = {}): Record<string, unknown> {
  const params = readSysidParams(file);
  if (params.rig !== taskName) throw new ConfigError("rig", `the parameters were identified for ${JSON.stringify(params.rig)}, not for task ${JSON.stringify(taskName)}`, file);
  const task = getTask(taskName);
  const taskPartial = (partial.task ?? {}) as Record<string, unknown>;
  if (typeof taskPartial !== "object" || taskPartial === null || Array.isArray(taskPartial)) throw new ConfigError("task", "expected an object");
  // The task's resolved config: its randomization is the partial's, or the default.
  const spec = (task.configSchema.parse(taskPartial, "task") as { randomization?: RandomizationEntry[] }).randomization;
  if (!spec) throw new ConfigError("", `task ${taskName} has no randomization to re-centre`, file);
  let recentred: RandomizationEntry[];
  try {
    recentred = recenterRandomization(spec, params, options);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.path, e.problem, file);
    throw e;
  }
  return { ...partial, task: { ...taskPartial, randomization: recentred } };
}
