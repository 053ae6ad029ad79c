/**
 * The robot descriptions shipped with s2r, found from any build folder.
 */
import { projectPath } from "../../common/paths.js";
import { loadUrdf } from "../urdf/parse.js";
import type { RobotModel } from "../urdf/model.js";

export const ROBOT_NAMES = ["furuta", "pendulum"] as const;
export type RobotName = (typeof ROBOT_NAMES)[number];

export function robotUrdfPath(name: RobotName): string {
  if (!ROBOT_NAMES.includes(name)) throw new Error(`unknown robot "${name}" (known: ${ROBOT_NAMES.join(", ")})`);
  return projectPath("sim", "robots", name, `${name}.urdf`);
}

export function loadRobot(name: RobotName): RobotModel {
  return loadUrdf(robotUrdfPath(name));
}
