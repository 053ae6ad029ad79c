/**
 * Pairs an exported policy with a rig, or refuses with every difference
 * listed: robot, task, joint order, control period (within the rig's range),
 * action limits (within the rig's command limits) and the observation layout
 * (element by element, against the task's observation config). The
 * observation the robot builds comes from the same task config, through the
 * same ObservationBuilder the simulator used, at the manifest's period.
 */

import { ManifestMismatchError, verifyManifestAgainstRobot, type Manifest } from "../../policies/manifest.js";
import { ObservationBuilder } from "../../sim/observation.js";
import { getTask } from "../../sim/tasks/registry.js";
import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { rigActuators, rigJointOrder, type RigConfig } from "../rigs/rig-config.js";
import { ActionMap } from "./action-map.js";
import type { OsiLayout } from "./control-loop.js";

export interface PolicyBinding {
  manifest: Manifest;
  /** The rig's task config the observation is built from. */
  taskConfig: TaskConfigBase;
  periodSec: number;
  observation: ObservationBuilder;
  actions: ActionMap;
  osi?: OsiLayout;
}

export interface BindOptions {
  /** The task config the policy was trained with (partial, validated by the task's schema); default the task's defaults. */
  taskConfig?: unknown;
}

export function bindPolicyToRig(m: Manifest, rig: RigConfig, options: BindOptions = {}): PolicyBinding {
  const problems: string[] = [];
  if (m.task !== rig.task) problems.push(`task: the policy was trained for "${m.task}" but rig ${rig.name} runs "${rig.task}"`);
  const actuators = rigActuators(rig);
  const names = m.action.map((a) => a.name);
  if (names.length !== actuators.length || names.some((n, i) => n !== actuators[i])) {
    problems.push(`action: the policy's actions are [${names.join(", ")}] but the rig's actuators are [${actuators.join(", ")}]`);
  }
  try {
    verifyManifestAgainstRobot(m, {
      name: rig.name,
      jointOrder: rigJointOrder(rig),
      actionLimits: m.action.map((a) => {
        const lim = rig.safety.commandLimits[a.name] ?? 0;
        return { low: -lim, high: lim };
      }),
    });
  } catch (e) {
    if (!(e instanceof ManifestMismatchError)) throw e;
    problems.push(...e.problems);
  }
  const p = m.controlPeriodSec;
  if (p < rig.control.minPeriodSec - 1e-12 || p > rig.control.maxPeriodSec + 1e-12) {
    problems.push(`controlPeriodSec: the policy runs at ${p} s (${(1 / p).toFixed(1)} Hz) but rig ${rig.name} runs between ${rig.control.minPeriodSec} and ${rig.control.maxPeriodSec} s`);
  }
  m.action.forEach((a, i) => {
    if (a.unit !== "V") problems.push(`action[${i}] (${a.name}): unit "${a.unit}", but the rig's motors take volts ("V")`);
  });

  let taskConfig: TaskConfigBase | undefined;
  let observation: ObservationBuilder | undefined;
  if (m.task === rig.task) {
    const task = getTask(rig.task);
    taskConfig = task.configSchema.parse(options.taskConfig ?? {}, "task");
    const jointOrder = rigJointOrder(rig);
    if (problems.length === 0) {
      observation = new ObservationBuilder(taskConfig.observation, jointOrder, actuators, p);
      const want = observation.layout();
      const have = m.observation;
      if (want.length !== have.length) problems.push(`observation: the policy takes ${have.length} elements but task ${rig.task} builds ${want.length}`);
      for (let i = 0; i < Math.min(want.length, have.length); i++) {
        const w = want[i]!, h = have[i]!;
        if (w.name !== h.name || w.unit !== h.unit || w.source !== h.source) {
          problems.push(`observation[${i}]: the policy expects ${h.name} (${h.source}, ${h.unit}) but task ${rig.task} builds ${w.name} (${w.source}, ${w.unit})`);
        }
      }
    }
  }
  if (problems.length > 0 || !taskConfig || !observation) throw new ManifestMismatchError(`policy for "${m.robot}" on rig ${rig.name}`, problems);

  const osi = m.osi ? { names: m.osi.names, center: m.osi.normalization.center, halfRange: m.osi.normalization.halfRange } : undefined;
  return { manifest: m, taskConfig, periodSec: p, observation, actions: ActionMap.fromManifest(m), osi };
}
