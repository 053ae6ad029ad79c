/**
 * What a system identification record needs of the rig, named once for the
 * recorder and the log reader: the arm joint (theta) that the motor drives,
 * the pendulum joint (alpha), the motor's actuator, the control period the
 * fit's simulator steps at, and the name of the excitation phase whose
 * start and end events bracket the samples the fit uses.
 */
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import type { SysidRig } from "../sysid/rig.js";

/** Session phase (and event prefix) of the excitation: "<name>: started" ... "<name>: done after ...". */
export const EXCITATION_PHASE = "sysid excitation";

export interface SysidChannels {
  theta: string;
  alpha: string;
  actuator: string;
  /** Control period of the record, s: the task's, which the fit's simulator divides into physics steps. */
  controlDt: number;
}

export function sysidChannels(sysid: SysidRig): SysidChannels {
  const robot = sysid.setup.config.robot;
  const motor = robot.actuators[0];
  if (!motor || robot.actuators.length !== 1) throw new Error(`sysid: the ${sysid.name} task must have exactly one actuator, has ${robot.actuators.length}`);
  const pendulum = robot.sensors.find((s) => s.joint !== motor.joint);
  if (!pendulum) throw new Error(`sysid: the ${sysid.name} task has no sensor on a joint other than ${motor.joint}`);
  return { theta: motor.joint, alpha: pendulum.joint, actuator: motor.name, controlDt: sysid.setup.config.controlDt };
}

/** The identification supports the rig's task only if the sysid core has a description of it. */
export function checkRigForSysid(rig: RigConfig, sysid: SysidRig, ch: SysidChannels, jointNames: readonly string[], commandNames: readonly string[]): void {
  if (rig.task !== sysid.name) throw new Error(`rig ${rig.name} runs task ${rig.task}; system identification knows the ${sysid.name} task only (calibration/sysid/rig.ts)`);
  for (const j of [ch.theta, ch.alpha]) if (!jointNames.includes(j)) throw new Error(`rig ${rig.name} does not read joint ${j}, which the identification needs (it reads ${jointNames.join(", ")})`);
  if (!commandNames.includes(ch.actuator)) throw new Error(`rig ${rig.name} has no actuator ${ch.actuator} (it has ${commandNames.join(", ")})`);
  if (!(ch.controlDt >= rig.control.minPeriodSec - 1e-12 && ch.controlDt <= rig.control.maxPeriodSec + 1e-12)) {
    throw new Error(`the identification runs at the task's control period ${ch.controlDt} s, outside rig ${rig.name}'s [${rig.control.minPeriodSec}, ${rig.control.maxPeriodSec}] s`);
  }
}
