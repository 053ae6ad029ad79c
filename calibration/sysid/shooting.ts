/**
 * Multiple shooting over a logged record: the record is cut into short
 * segments; each is simulated from the state measured at its start (smoothed
 * angles, velocities from a local cubic) by the training simulator
 * (RobotPlant), replaying the logged volts, and compared with what was
 * logged. Short segments keep the comparison meaningful where the dynamics
 * are sensitive (a pendulum swinging high diverges from any model within a
 * second or two) and keep initial-state errors from growing far.
 *
 * The initial state of each segment (theta, alpha, thetadot, alphadot) starts
 * as the measured one, but velocities from quantized angles are off by about
 * 0.1 rad/s (the PRBS's voltage steps put kinks in the motion), which alone
 * gives residuals of 1-2 centiradians over half a second. A caller may
 * therefore pass its own initial states (the fit estimates them along with
 * the parameters, as in classic multiple shooting); a weak prior ties them to
 * the measured ones.
 *
 * The residual vector, segment by segment, is: for each sample after the
 * segment's start, (theta_sim - theta)/s_theta, (alpha_sim - alpha)/s_alpha
 * and, when the current was logged, (I_sim - I)/s_I (s_* the channel standard
 * deviations the caller supplies); then, with a prior, the four rows
 * (state - measured state)/prior sigma.
 */
import { PlantDivergedError, RobotPlant } from "../../sim/plant.js";
import type { SysidDataset } from "./dataset.js";
import { commandInEffect, motorCurrent, motorLatency, motorParamOffset } from "./motor-current.js";
import type { SysidRig } from "./rig.js";
import { localState } from "./velocity.js";

/** Samples start..end (inclusive) of a dataset; the simulation starts at `start`, residuals cover start+1..end. */
export interface Segment {
  start: number;
  end: number;
}

export interface ChannelSigmas {
  theta: number;
  alpha: number;
  /** Ignored when the dataset has no current. */
  current: number;
}

/** Simulated signals of one segment, samples start..end. */
export interface SegmentTrace {
  t: Float64Array;
  theta: Float64Array;
  alpha: Float64Array;
  current?: Float64Array;
}

/**
 * Consecutive segments of about `seconds` covering samples [from, to); a gap
 * in the log (an interval over 1.5 control periods) always ends a segment, and
 * pieces shorter than half a segment are dropped.
 */
export function makeSegments(ds: SysidDataset, seconds: number, from = 0, to = ds.t.length): Segment[] {
  if (!(seconds > 0)) throw new RangeError(`segment length must be positive, got ${seconds} s`);
  const len = Math.max(2, Math.round(seconds / ds.controlDt));
  const out: Segment[] = [];
  let start = from;
  while (start < to - 1) {
    let end = start;
    while (end + 1 < to && end - start < len && ds.t[end + 1]! - ds.t[end]! <= 1.5 * ds.controlDt) end++;
    if (end - start >= len / 2) out.push({ start, end });
    start = end === start ? start + 1 : end;
  }
  return out;
}

/** Initial-state components per segment: theta, alpha, thetadot, alphadot. */
export const STATE_SIZE = 4;

export interface SegmentSimulatorOptions {
  /** Samples either side used for the measured initial state; default 3. */
  velocityWindow?: number;
  physicsDt?: number;
  /** Rapier's solver substep; default the rig config's physicsSubstep (as in training). */
  physicsSubstep?: number;
  /** Prior standard deviations of the initial state about the measured one [theta, alpha, thetadot, alphadot]; none: no prior rows. */
  statePrior?: readonly number[];
}

export class SegmentSimulator {
  readonly hasCurrent: boolean;
  /** Residuals per sample: 2 (angles) or 3 (with current). */
  readonly perSample: number;
  /** Offset of each segment's first residual; the last entry is the total. */
  readonly offsets: number[];
  /** Measured initial states, segments x STATE_SIZE. */
  readonly measured: Float64Array;
  private readonly arm: number;
  private readonly pend: number;
  private readonly motor: number;
  private readonly q0: Float64Array;
  private readonly qd0: Float64Array;
  private readonly prior: readonly number[] | undefined;
  private readonly physicsSteps: Int32Array;
  private readonly cmd = new Float64Array(1);

  private constructor(
    readonly rig: SysidRig,
    readonly dataset: SysidDataset,
    readonly segments: readonly Segment[],
    private readonly plant: RobotPlant,
    opts: SegmentSimulatorOptions,
  ) {
    if (segments.length === 0) throw new RangeError("sysid: no segments to simulate (is the record shorter than half a segment?)");
    this.hasCurrent = dataset.current !== undefined;
    this.perSample = this.hasCurrent ? 3 : 2;
    this.prior = opts.statePrior;
    if (this.prior && (this.prior.length !== STATE_SIZE || !this.prior.every((x) => x > 0))) throw new RangeError(`sysid: statePrior needs ${STATE_SIZE} positive standard deviations`);
    this.offsets = [0];
    for (const s of segments) this.offsets.push(this.offsets[this.offsets.length - 1]! + (s.end - s.start) * this.perSample + (this.prior ? STATE_SIZE : 0));
    this.arm = plant.dofNames.indexOf("arm_joint");
    this.pend = plant.dofNames.indexOf("pendulum_joint");
    if (this.arm < 0 || this.pend < 0) throw new Error(`sysid: the robot needs joints arm_joint and pendulum_joint, has ${plant.dofNames.join(", ")}`);
    this.motor = motorParamOffset(rig.setup.table, rig.setup.config.robot.actuators[0]!.name);
    const dt = plant.physicsDt;
    const ratio = dataset.controlDt / dt;
    if (Math.abs(ratio - Math.round(ratio)) > 1e-6 || Math.round(ratio) < 1) {
      throw new Error(
        `sysid: the log's control period ${dataset.controlDt} s is not a whole number of physics steps of ${dt} s; ` +
          `build the rig from a task config whose physicsDt divides it (furutaSysidRig(config))`,
      );
    }
    this.physicsSteps = new Int32Array(dataset.t.length);
    for (let k = 0; k + 1 < dataset.t.length; k++) this.physicsSteps[k] = Math.max(1, Math.round((dataset.t[k + 1]! - dataset.t[k]!) / dt));
    this.q0 = new Float64Array(plant.dof);
    this.qd0 = new Float64Array(plant.dof);
    this.measured = new Float64Array(segments.length * STATE_SIZE);
    const w = opts.velocityWindow ?? 3;
    segments.forEach((s, i) => {
      const th = localState(dataset.t, dataset.theta, s.start, w);
      const al = localState(dataset.t, dataset.alpha, s.start, w);
      this.measured.set([th.position, al.position, th.velocity, al.velocity], i * STATE_SIZE);
    });
  }

  static async create(rig: SysidRig, dataset: SysidDataset, segments: readonly Segment[], opts: SegmentSimulatorOptions = {}): Promise<SegmentSimulator> {
    const { model, table, config } = rig.setup;
    const plant = await RobotPlant.create(model, table, config.robot, opts.physicsDt ?? config.physicsDt, opts.physicsSubstep ?? config.physicsSubstep);
    try {
      return new SegmentSimulator(rig, dataset, segments, plant, opts);
    } catch (e) {
      plant.dispose();
      throw e;
    }
  }

  get size(): number {
    return this.offsets[this.offsets.length - 1]!;
  }

  /**
   * Weighted residuals of every segment (or of `only`, a list of segment
   * indices, written at their usual offsets) at the table vector `values`,
   * starting from `states` (segments x STATE_SIZE; default the measured ones).
   * Returns false, with the affected entries NaN, when a simulation diverged.
   */
  residuals(values: Float64Array, sigma: ChannelSigmas, out: Float64Array, states: Float64Array = this.measured, only?: readonly number[]): boolean {
    if (out.length !== this.size) throw new RangeError(`sysid: residual buffer has ${out.length} entries, need ${this.size}`);
    this.plant.setParams(values);
    const ds = this.dataset;
    const wt = 1 / sigma.theta;
    const wa = 1 / sigma.alpha;
    const wi = 1 / sigma.current;
    let ok = true;
    const list = only ?? this.segments.map((_, i) => i);
    for (const si of list) {
      const seg = this.segments[si]!;
      let o = this.offsets[si]!;
      const fine = this.run(si, values, states, (k, theta, alpha, current) => {
        out[o++] = (theta - ds.theta[k]!) * wt;
        out[o++] = (alpha - ds.alpha[k]!) * wa;
        if (this.hasCurrent) out[o++] = (current - ds.current![k]!) * wi;
      });
      if (!fine) {
        ok = false;
        out.fill(NaN, this.offsets[si]!, this.offsets[si]! + (seg.end - seg.start) * this.perSample);
      }
      if (this.prior) {
        o = this.offsets[si]! + (seg.end - seg.start) * this.perSample;
        for (let c = 0; c < STATE_SIZE; c++) out[o + c] = (states[si * STATE_SIZE + c]! - this.measured[si * STATE_SIZE + c]!) / this.prior[c]!;
      }
    }
    return ok;
  }

  /** Simulated signals of segment `si` at `values` from `states` (the first sample is the initial state). */
  trace(values: Float64Array, si: number, states: Float64Array = this.measured): SegmentTrace {
    const seg = this.segments[si]!;
    const n = seg.end - seg.start + 1;
    const tr: SegmentTrace = {
      t: this.dataset.t.slice(seg.start, seg.end + 1),
      theta: new Float64Array(n).fill(NaN),
      alpha: new Float64Array(n).fill(NaN),
    };
    if (this.hasCurrent) tr.current = new Float64Array(n).fill(NaN);
    tr.theta[0] = states[si * STATE_SIZE]!;
    tr.alpha[0] = states[si * STATE_SIZE + 1]!;
    this.plant.setParams(values);
    this.run(si, values, states, (k, theta, alpha, current) => {
      tr.theta[k - seg.start] = theta;
      tr.alpha[k - seg.start] = alpha;
      if (tr.current) tr.current[k - seg.start] = current;
    });
    return tr;
  }

  /**
   * Unweighted RMS per channel of residuals computed with `sigma` (simulation
   * rows only, prior rows excluded); NaN rows are skipped. `only` restricts to
   * some segments.
   */
  channelRms(residuals: Float64Array, sigma: ChannelSigmas, only?: readonly number[]): ChannelSigmas {
    const sum = [0, 0, 0];
    const count = [0, 0, 0];
    const list = only ?? this.segments.map((_, i) => i);
    for (const si of list) {
      const seg = this.segments[si]!;
      const o = this.offsets[si]!;
      const rows = (seg.end - seg.start) * this.perSample;
      for (let i = 0; i < rows; i++) {
        const v = residuals[o + i]!;
        if (!Number.isFinite(v)) continue;
        const c = i % this.perSample;
        sum[c]! += v * v;
        count[c]!++;
      }
    }
    const rms = (c: number, s: number) => (count[c]! > 0 ? Math.sqrt(sum[c]! / count[c]!) * s : NaN);
    return { theta: rms(0, sigma.theta), alpha: rms(1, sigma.alpha), current: this.hasCurrent ? rms(2, sigma.current) : NaN };
  }

  /**
   * Lag-one autocorrelation of the simulation residuals (same channel,
   * consecutive samples, within segments), pooled over channels. About 0 for
   * white measurement noise; clearly positive when model error dominates,
   * which makes the effective number of independent samples smaller.
   */
  residualAutocorrelation(residuals: Float64Array): number {
    let num = 0;
    let den = 0;
    this.segments.forEach((seg, si) => {
      const o = this.offsets[si]!;
      const rows = (seg.end - seg.start) * this.perSample;
      for (let i = 0; i < rows; i++) {
        const v = residuals[o + i]!;
        den += v * v;
        if (i + this.perSample < rows) num += v * residuals[o + i + this.perSample]!;
      }
    });
    return den > 0 ? num / den : 0;
  }

  /** Number of simulation rows (residuals that compare with the log), in all segments or in `only`. */
  simulationRows(only?: readonly number[]): number {
    const list = only ?? this.segments.map((_, i) => i);
    return list.reduce((n, si) => n + (this.segments[si]!.end - this.segments[si]!.start) * this.perSample, 0);
  }

  /** Sum of squares of the simulation rows (prior rows excluded). */
  simulationCost(residuals: Float64Array, only?: readonly number[]): number {
    const list = only ?? this.segments.map((_, i) => i);
    let c = 0;
    for (const si of list) {
      const seg = this.segments[si]!;
      const o = this.offsets[si]!;
      const rows = (seg.end - seg.start) * this.perSample;
      for (let i = 0; i < rows; i++) c += residuals[o + i]! * residuals[o + i]!;
    }
    return c;
  }

  dispose(): void {
    this.plant.dispose();
  }

  /** Simulates segment si (parameters already set), calling `emit` for samples start+1..end. */
  private run(si: number, values: Float64Array, states: Float64Array, emit: (k: number, theta: number, alpha: number, current: number) => void): boolean {
    const seg = this.segments[si]!;
    const ds = this.dataset;
    const plant = this.plant;
    const previous = seg.start > 0 ? ds.volts[seg.start - 1]! : 0;
    const o = si * STATE_SIZE;
    this.q0[this.arm] = states[o]!;
    this.q0[this.pend] = states[o + 1]!;
    this.qd0[this.arm] = states[o + 2]!;
    this.qd0[this.pend] = states[o + 3]!;
    for (let c = 0; c < STATE_SIZE; c++) if (!Number.isFinite(states[o + c]!)) return false;
    plant.reset(this.q0, this.qd0, previous);
    const latency = motorLatency(values, this.motor);
    for (let k = seg.start; k < seg.end; k++) {
      this.cmd[0] = ds.volts[k]!;
      plant.command(this.cmd);
      try {
        plant.advance(this.physicsSteps[k]!);
      } catch (e) {
        if (e instanceof PlantDivergedError) return false;
        throw e;
      }
      const theta = plant.q[this.arm]!;
      const alpha = plant.q[this.pend]!;
      if (!Number.isFinite(theta) || !Number.isFinite(alpha)) return false;
      const current = this.hasCurrent ? motorCurrent(values, this.motor, commandInEffect(ds.t, ds.volts, k + 1, latency, seg.start, previous), plant.qd[this.arm]!) : 0;
      emit(k + 1, theta, alpha, current);
    }
    return true;
  }
}
