/**
 * Open-loop trace of the nominal Furuta URDF in Rapier, driven by a voltage
 * through the DC-motor model: the simulator side of the fidelity check against
 * analytic.ts, and the data behind `s2r sim trace`.
 */
import { RobotSim } from "../../physics/robot-sim.js";
import { loadRobot } from "../../robots/catalog.js";
import { FURUTA_NOMINAL, motorTorque, type FurutaParams, type FurutaTrace } from "./analytic.js";

/**
 * Physics step for the Furuta fidelity check: 2 ms (500 Hz, dividing 100-500 Hz
 * control periods), integrated in 20 substeps of 0.1 ms (DEFAULT_SUBSTEP).
 */
export const FURUTA_PHYSICS_DT = 0.002;

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
  /** Motor terminal voltage: constant, or a function of time (s). */
  volts: number | ((t: number) => number);
  /** Physics step (s), at most 5 ms; default FURUTA_PHYSICS_DT. Every step is sampled. */
  dt?: number;
  /** Longest Rapier substep (s); default DEFAULT_SUBSTEP (0.1 ms). */
  substep?: number;
  /** Rapier solver iterations (substeps) per step; overrides `substep`. */
  solverIterations?: number;
  /** Motor constants (km, Rm); default FURUTA_NOMINAL. */
  motor?: Pick<FurutaParams, "km" | "Rm">;
}

export async function traceFurutaRapier(options: FurutaTraceOptions): Promise<FurutaTrace> {
  const dt = options.dt ?? FURUTA_PHYSICS_DT;
  if (!(dt > 0 && dt <= 0.005)) throw new RangeError(`traceFurutaRapier: dt must be in (0, 0.005] s so samples are at most 5 ms apart, got ${dt}`);
  if (!(options.duration >= 0 && Number.isFinite(options.duration))) throw new RangeError(`traceFurutaRapier: duration must be >= 0, got ${options.duration}`);
  const volts = typeof options.volts === "number" ? (() => options.volts as number) : options.volts;
  const motor = options.motor ?? FURUTA_NOMINAL;
  const sim = await RobotSim.create(loadRobot("furuta"), {
    dt,
    ...(options.substep !== undefined ? { substep: options.substep } : {}),
    ...(options.solverIterations !== undefined ? { solverIterations: options.solverIterations } : {}),
  });
  try {
    const iTheta = sim.dofNames.indexOf("arm_joint");
    const iAlpha = sim.dofNames.indexOf("pendulum_joint");
    const q = new Float64Array(sim.dof);
    const qd = new Float64Array(sim.dof);
    const tau = new Float64Array(sim.dof);
    q[iTheta] = options.theta0 ?? 0;
    q[iAlpha] = options.alpha0;
    qd[iTheta] = options.thetadot0 ?? 0;
    qd[iAlpha] = options.alphadot0 ?? 0;
    sim.setState(q, qd);
    const trace: FurutaTrace = { t: [], theta: [], alpha: [], thetadot: [], alphadot: [] };
    const steps = Math.floor(options.duration / dt + 1e-9);
    for (let n = 0; ; n++) {
      sim.getState(q, qd);
      const t = n * dt;
      trace.t.push(t);
      trace.theta.push(q[iTheta]!);
      trace.alpha.push(q[iAlpha]!);
      trace.thetadot.push(qd[iTheta]!);
      trace.alphadot.push(qd[iAlpha]!);
      if (n === steps) break;
      // The motor torque follows the arm speed, so it is re-evaluated every physics step.
      tau[iTheta] = motorTorque(motor, volts(t), qd[iTheta]!);
      sim.setJointTorques(tau);
      sim.step();
    }
    return trace;
  } finally {
    sim.dispose();
  }
}
