/**
 * Open-loop trace of the nominal Furuta in the training simulator (RobotPlant:
 * Rapier with the task's physics settings and its DC-motor actuator), driven
 * by a voltage: the simulator side of the fidelity check against analytic.ts,
 * and the data behind `s2r sim trace`.
 */
import { buildParamTable } from "../../params.js";
import { RobotPlant } from "../../plant.js";
import { loadRobot } from "../../robots/catalog.js";
import { FURUTA_NOMINAL, type FurutaParams, type FurutaTrace } from "./analytic.js";
import { furutaConfigSchema } from "./config.js";

/** The physics settings the Furuta task trains with (its config defaults): step and solver substep, s. */
export function furutaTrainingPhysics(): { dt: number; substep: number } {
  const c = furutaConfigSchema.defaults();
  return { dt: c.physicsDt, substep: c.physicsSubstep };
}

/** Physics step the Furuta task trains with, s. */
export const FURUTA_PHYSICS_DT = furutaTrainingPhysics().dt;

export interface FurutaTraceOptions {
  /** Simulated time (s). */
  duration: number;
  /** Initial pendulum angle (rad; 0 = hanging). */
  alpha0: number;
  /** Initial arm angle (rad), default 0. */
  theta0?: number;
  /** Initial speeds (rad/s), default 0 (at rest). */
  thetadot0?: number;
  alphadot0?: number;
  /** Motor terminal voltage: constant, or a function of time (s), applied from the start of each physics step. */
  volts: number | ((t: number) => number);
  /** Physics step (s), at most 5 ms; default the task's (furutaTrainingPhysics). Every step is sampled. */
  dt?: number;
  /** Longest Rapier solver substep (s); default the task's. */
  substep?: number;
  /** Motor constants (km, Rm); default FURUTA_NOMINAL. */
  motor?: Pick<FurutaParams, "km" | "Rm">;
}

export async function traceFurutaRapier(options: FurutaTraceOptions): Promise<FurutaTrace> {
  const training = furutaTrainingPhysics();
  const dt = options.dt ?? training.dt;
  const substep = options.substep ?? training.substep;
  if (!(dt > 0 && dt <= 0.005)) throw new RangeError(`traceFurutaRapier: dt must be in (0, 0.005] s so samples are at most 5 ms apart, got ${dt}`);
  if (!(substep > 0 && Number.isFinite(substep))) throw new RangeError(`traceFurutaRapier: substep must be a positive number of seconds, got ${substep}`);
  if (!(options.duration >= 0 && Number.isFinite(options.duration))) throw new RangeError(`traceFurutaRapier: duration must be >= 0, got ${options.duration}`);
  const volts = typeof options.volts === "number" ? (() => options.volts as number) : options.volts;
  const motor = options.motor ?? FURUTA_NOMINAL;
  const robot = furutaConfigSchema.defaults().robot;
  const model = loadRobot("furuta");
  const table = buildParamTable(model, robot);
  const values = table.nominal();
  const arm = robot.actuators[0]!.name;
  values[table.indexOf(`actuators.${arm}.km`)] = motor.km;
  values[table.indexOf(`actuators.${arm}.Rm`)] = motor.Rm;
  const plant = await RobotPlant.create(model, table, robot, dt, substep);
  try {
    plant.setParams(values);
    const iTheta = plant.dofNames.indexOf("arm_joint");
    const iAlpha = plant.dofNames.indexOf("pendulum_joint");
    const q = new Float64Array(plant.dof);
    const qd = new Float64Array(plant.dof);
    q[iTheta] = options.theta0 ?? 0;
    q[iAlpha] = options.alpha0;
    qd[iTheta] = options.thetadot0 ?? 0;
    qd[iAlpha] = options.alphadot0 ?? 0;
    plant.reset(q, qd, volts(0));
    const command = new Float64Array(1);
    const trace: FurutaTrace = { t: [], theta: [], alpha: [], thetadot: [], alphadot: [] };
    const steps = Math.floor(options.duration / dt + 1e-9);
    for (let n = 0; ; n++) {
      const t = n * dt;
      trace.t.push(t);
      trace.theta.push(plant.q[iTheta]!);
      trace.alpha.push(plant.q[iAlpha]!);
      trace.thetadot.push(plant.qd[iTheta]!);
      trace.alphadot.push(plant.qd[iAlpha]!);
      if (n === steps) break;
      // The motor torque follows the arm speed, so the plant re-evaluates it every physics step.
      command[0] = volts(t);
      plant.command(command);
      plant.advance(1);
    }
    return trace;
  } finally {
    plant.dispose();
  }
}
