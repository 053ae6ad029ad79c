import type { TaskConfigBase, TaskDefinition } from "./task.js";
import { furutaTask } from "./furuta/task.js";
import { pendulumTask } from "./pendulum/task.js";

/** Every task s2r knows, by name. A new task is a URDF, a config and a TaskLogic, registered here. */
const TASKS: TaskDefinition<any>[] = [furutaTask, pendulumTask];

export function listTasks(): readonly TaskDefinition<TaskConfigBase>[] {
  return TASKS;
}

export function getTask(name: string): TaskDefinition<TaskConfigBase> {
  const t = TASKS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown task ${JSON.stringify(name)}; known tasks: ${TASKS.map((x) => x.name).join(", ")}`);
  return t;
}
