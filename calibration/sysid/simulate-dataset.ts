/**
 * Ground-truth datasets from the simulator: the rig's control loop replayed in
 * simulation with hidden parameter values, so that a fit can be scored against
 * the truth. Everything the real log has is reproduced: encoder quantization
 * (4096 counts/rev) and noise, the zero offsets calibration left, the drive's
 * dead zone and command latency, Coulomb friction, and the Present Current
 * register's 2.69 mA resolution plus noise.
 *
 * The loop per control step k: read the sensors at t[k] (angles, current), ask
 * the command source for a voltage, clamp it to the safety limit, log it, and
 * send it (it acts after the latency); then advance one control period.
 */
import { Rng } from "../../common/rng.js";
import { RobotPlant } from "../../sim/plant.js";
import { encoderReading } from "../../sim/sensors/encoder.js";
import type { SysidDataset } from "./dataset.js";
import { commandInEffect, motorCurrent, motorLatency, motorParamOffset } from "./motor-current.js";
import { furutaSysidRig, type SysidRig } from "./rig.js";

/** What a command source sees at step k: the measured (not true) signals. */
export interface CommandInput {
  k: number;
  t: number;
  theta: number;
  alpha: number;
  current?: number;
}

/** Chooses the volts of step k (e.g. an excitation signal with a travel-keeping term). */
export type CommandSource = (input: CommandInput) => number;

/** One count of a 4096-count encoder, rad. */
export const ENCODER_COUNT = (2 * Math.PI) / 4096;
/** Present Current resolution of the XM430 (rig page), A. */
export const CURRENT_RESOLUTION = 2.69e-3;

export interface SimulateDatasetOptions {
  rig?: SysidRig;
  /** Hidden parameter values by table name (rig symbols: see symbolsToTargets); the rest nominal. */
  params?: Record<string, number>;
  /** Volts per control step, or a source asked at each step. */
  commands: ArrayLike<number> | CommandSource;
  /** Control steps to run; default commands.length (required for a CommandSource). */
  steps?: number;
  /** Default: the rig config's controlDt, physicsDt and physicsSubstep. */
  controlDt?: number;
  physicsDt?: number;
  physicsSubstep?: number;
  /** Commands beyond +-this are clamped before logging and sending, V; default 6 (rig page). */
  safetyLimit?: number;
  encoder?: {
    /** Default 4096. */
    countsPerRev?: number;
    /** Standard deviation of the noise before quantization, rad; default one count. */
    noise?: number;
    /** Residual zero offsets [arm, pendulum], rad; default [0, 0]. */
    offsets?: [number, number];
  };
  /** Log the motor current (default true); false leaves `current` out of the dataset. */
  current?: boolean | { resolution?: number; noise?: number };
  /** Initial true state; default at rest, hanging, at the centre of travel. */
  initial?: { theta?: number; alpha?: number; thetaDot?: number; alphaDot?: number };
  /** Seed of the sensor noise; default 1. */
  seed?: number;
}

/** A simulated dataset, with the true joint state at every sample (for scoring estimators). */
export interface SimulatedDataset extends SysidDataset {
  truth: { theta: Float64Array; alpha: Float64Array; thetaDot: Float64Array; alphaDot: Float64Array };
}

export async function simulateDataset(opts: SimulateDatasetOptions): Promise<SimulatedDataset> {
  const rig = opts.rig ?? furutaSysidRig();
  const { config, model, table } = rig.setup;
  const controlDt = opts.controlDt ?? config.controlDt;
  const physicsDt = opts.physicsDt ?? config.physicsDt;
  const physicsSubstep = opts.physicsSubstep ?? config.physicsSubstep;
  const stepsPerControl = Math.round(controlDt / physicsDt);
  if (!(stepsPerControl >= 1 && Math.abs(stepsPerControl * physicsDt - controlDt) < 1e-9)) {
    throw new RangeError(`simulateDataset: physicsDt ${physicsDt} must divide controlDt ${controlDt}`);
  }
  const source: CommandSource = typeof opts.commands === "function" ? opts.commands : fixedCommands(opts.commands);
  const steps = opts.steps ?? (typeof opts.commands === "function" ? undefined : opts.commands.length);
  if (steps === undefined || !(Number.isInteger(steps) && steps >= 2)) {
    throw new RangeError(`simulateDataset: steps must be an integer >= 2 (required with a command function), got ${steps}`);
  }
  if (typeof opts.commands !== "function" && opts.commands.length < steps) {
    throw new RangeError(`simulateDataset: ${opts.commands.length} commands for ${steps} steps`);
  }
  const limit = opts.safetyLimit ?? 6;
  const enc = { countsPerRev: opts.encoder?.countsPerRev ?? 4096, noise: opts.encoder?.noise ?? ENCODER_COUNT };
  const offsets = opts.encoder?.offsets ?? [0, 0];
  const cur = opts.current === false ? undefined : { resolution: CURRENT_RESOLUTION, noise: 0.005, ...(typeof opts.current === "object" ? opts.current : {}) };

  const params = rig.tableVector(opts.params ?? {});
  const plant = await RobotPlant.create(model, table, config.robot, physicsDt, physicsSubstep);
  try {
    const arm = plant.dofNames.indexOf("arm_joint");
    const pend = plant.dofNames.indexOf("pendulum_joint");
    const motor = motorParamOffset(table, config.robot.actuators[0]!.name);
    plant.setParams(params);
    const q0 = new Float64Array(plant.dof);
    const qd0 = new Float64Array(plant.dof);
    q0[arm] = opts.initial?.theta ?? 0;
    q0[pend] = opts.initial?.alpha ?? 0;
    qd0[arm] = opts.initial?.thetaDot ?? 0;
    qd0[pend] = opts.initial?.alphaDot ?? 0;
    plant.reset(q0, qd0, 0);
    const latency = motorLatency(params, motor);
    const rng = Rng.derive(opts.seed ?? 1, 0x5e1d);
    const ds: SimulatedDataset = {
      t: new Float64Array(steps),
      volts: new Float64Array(steps),
      theta: new Float64Array(steps),
      alpha: new Float64Array(steps),
      controlDt,
      truth: { theta: new Float64Array(steps), alpha: new Float64Array(steps), thetaDot: new Float64Array(steps), alphaDot: new Float64Array(steps) },
    };
    if (cur) ds.current = new Float64Array(steps);
    const cmd = new Float64Array(config.robot.actuators.length);
    for (let k = 0; k < steps; k++) {
      const t = k * controlDt;
      ds.t[k] = t;
      ds.truth.theta[k] = plant.q[arm]!;
      ds.truth.alpha[k] = plant.q[pend]!;
      ds.truth.thetaDot[k] = plant.qd[arm]!;
      ds.truth.alphaDot[k] = plant.qd[pend]!;
      ds.theta[k] = encoderReading(plant.q[arm]!, { ...enc, offset: offsets[0] }, rng);
      ds.alpha[k] = encoderReading(plant.q[pend]!, { ...enc, offset: offsets[1] }, rng);
      let current: number | undefined;
      if (cur) {
        const i = motorCurrent(params, motor, commandInEffect(ds.t, ds.volts, k, latency, 0, 0), plant.qd[arm]!);
        current = Math.round((i + cur.noise * rng.normal()) / cur.resolution) * cur.resolution;
        ds.current![k] = current;
      }
      const wanted = source({ k, t, theta: ds.theta[k]!, alpha: ds.alpha[k]!, current });
      if (!Number.isFinite(wanted)) throw new RangeError(`simulateDataset: the command source returned ${wanted} at step ${k}`);
      const v = Math.min(limit, Math.max(-limit, wanted));
      ds.volts[k] = v;
      cmd[0] = v;
      plant.command(cmd);
      plant.advance(stepsPerControl);
      const bad = plant.firstNonFinite();
      if (bad >= 0) throw new Error(`simulateDataset: simulation diverged at step ${k} (joint ${plant.dofNames[bad]})`);
    }
    return ds;
  } finally {
    plant.dispose();
  }
}

function fixedCommands(volts: ArrayLike<number>): CommandSource {
  return ({ k }) => volts[k]!;
}
