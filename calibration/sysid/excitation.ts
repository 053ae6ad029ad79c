/**
 * Safe excitation signals for system identification: voltages that shake the
 * rig over the frequencies its dynamics live at (the arm's mechanical time
 * constant of a few tenths of a second, the pendulum's ~1.7 Hz swing) while
 * staying inside the rig's limits.
 *
 * - `chirp`: a sine sweeping linearly from f0 to f1, faded in.
 * - `prbs`: a pseudo-random binary sequence (maximal-length LFSR) switching
 *   between +-amplitude; its spectrum is flat up to about 1/(2 bitSeconds).
 * Both are deterministic functions of their options (the seed picks the
 * chirp's phase and the LFSR's start state).
 *
 * `TravelKeeper` adds a feedback term that keeps the arm within +-1.5 rad of
 * centre (the hard stops are at +-2.0): a PD pull towards 0 plus a stiff
 * barrier beyond a soft limit, the total clamped to the safety voltage. The
 * log records the total actually written to the bus, so the fit treats it as
 * any other command and never needs to know this wrapper existed.
 */
import { Rng } from "../../common/rng.js";
import type { CommandSource } from "./simulate-dataset.js";

/** The rig page's limit on any command, V. */
export const RIG_MAX_VOLTS = 6;

export interface ExcitationBase {
  seconds: number;
  controlDt: number;
  /** Peak volts; default 5, never above 6 (rig page). */
  amplitude?: number;
  seed?: number;
}

function checkBase(name: string, o: ExcitationBase): { n: number; amplitude: number } {
  if (!(o.seconds > 0 && Number.isFinite(o.seconds))) throw new RangeError(`${name}: seconds must be a positive number, got ${o.seconds}`);
  if (!(o.controlDt > 0 && Number.isFinite(o.controlDt))) throw new RangeError(`${name}: controlDt must be a positive number, got ${o.controlDt}`);
  const amplitude = o.amplitude ?? 5;
  if (!(amplitude > 0 && Number.isFinite(amplitude))) throw new RangeError(`${name}: amplitude must be a positive number of volts, got ${amplitude}`);
  if (amplitude > RIG_MAX_VOLTS) throw new RangeError(`${name}: amplitude ${amplitude} V exceeds the rig's ${RIG_MAX_VOLTS} V safety limit`);
  return { n: Math.round(o.seconds / o.controlDt), amplitude };
}

/**
 * Linear chirp A sin(2 pi (f0 t + (f1 - f0) t^2 / (2 T)) + phase), faded in
 * over `fadeSeconds`. Default 0.5 -> 6 Hz: it passes the pendulum's resonance
 * (~1.7 Hz) and the arm's corner frequency, and starts high enough that the
 * arm's excursions stay small.
 */
export function chirp(o: ExcitationBase & { f0?: number; f1?: number; fadeSeconds?: number }): Float64Array {
  const { n, amplitude } = checkBase("chirp", o);
  const f0 = o.f0 ?? 0.5;
  const f1 = o.f1 ?? 6;
  if (!(f0 > 0 && f1 > 0)) throw new RangeError(`chirp: f0 and f1 must be positive frequencies, got ${f0} and ${f1}`);
  if (Math.max(f0, f1) >= 0.5 / o.controlDt) throw new RangeError(`chirp: ${Math.max(f0, f1)} Hz is not below the Nyquist frequency ${0.5 / o.controlDt} Hz`);
  const fade = o.fadeSeconds ?? 0.3;
  const phase = o.seed === undefined ? 0 : new Rng(o.seed).uniform(0, 2 * Math.PI);
  const T = o.seconds;
  return Float64Array.from({ length: n }, (_, k) => {
    const t = k * o.controlDt;
    const ramp = fade > 0 ? Math.min(1, t / fade) : 1;
    return amplitude * ramp * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * T)) + phase);
  });
}

/** Feedback taps of maximal-length Fibonacci LFSRs (bit positions, 1-based), by register length. */
const LFSR_TAPS: Record<number, number[]> = {
  3: [3, 2],
  4: [4, 3],
  5: [5, 3],
  6: [6, 5],
  7: [7, 6],
  8: [8, 6, 5, 4],
  9: [9, 5],
  10: [10, 7],
  11: [11, 9],
  12: [12, 11, 10, 4],
  13: [13, 12, 11, 8],
  14: [14, 13, 12, 2],
  15: [15, 14],
  16: [16, 15, 13, 4],
};

/** The bits of a maximal-length LFSR of `order` from a non-zero `state`; period 2^order - 1. */
export function lfsrBits(order: number, state: number, count: number): Uint8Array {
  const taps = LFSR_TAPS[order];
  if (!taps) throw new RangeError(`prbs: register length ${order} not supported (3..16)`);
  const mask = (1 << order) - 1;
  let s = state & mask;
  if (s === 0) throw new RangeError("prbs: the LFSR state must be non-zero");
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = s & 1;
    let fb = 0;
    for (const t of taps) fb ^= (s >>> (order - t)) & 1;
    s = ((s >>> 1) | (fb << (order - 1))) & mask;
  }
  return out;
}

/**
 * PRBS of +-amplitude, one bit per `bitSeconds` (default 0.05 s: at 5 V
 * the arm moves about 0.13 rad per bit, so the keeper holds it easily). The register
 * is the shortest whose period covers the signal (at least 5), so no stretch
 * repeats.
 */
export function prbs(o: ExcitationBase & { bitSeconds?: number }): Float64Array {
  const { n, amplitude } = checkBase("prbs", o);
  const bitSeconds = o.bitSeconds ?? 0.05;
  if (!(bitSeconds >= o.controlDt)) throw new RangeError(`prbs: bitSeconds ${bitSeconds} must be at least one control period (${o.controlDt} s)`);
  const stepsPerBit = Math.max(1, Math.round(bitSeconds / o.controlDt));
  const bits = Math.ceil(n / stepsPerBit);
  const order = Math.min(16, Math.max(5, Math.ceil(Math.log2(bits + 1))));
  const state = 1 + new Rng(o.seed ?? 1).int((1 << order) - 1);
  const seq = lfsrBits(order, state, bits);
  return Float64Array.from({ length: n }, (_, k) => (seq[Math.floor(k / stepsPerBit)]! ? amplitude : -amplitude));
}

export interface TravelKeeperOptions {
  controlDt: number;
  /** Pull towards theta = 0, V/rad; default 10 (5 V of excitation then holds the arm at 0.5 rad). */
  kp?: number;
  /** Damping on the (differenced) arm speed, V s/rad; default 0.5. */
  kd?: number;
  /** The arm should stay within +-this, rad; default 1.5. */
  limit?: number;
  /** Beyond 2/3 of `limit` a barrier adds this many V/rad; default 60. */
  barrier?: number;
  /** Total clamp, V; default 6 (rig page). */
  maxVolts?: number;
}

/** Excitation plus a travel-keeping feedback term; see the file comment. */
export class TravelKeeper {
  private readonly kp: number;
  private readonly kd: number;
  private readonly soft: number;
  private readonly barrier: number;
  private readonly maxVolts: number;
  private lastTheta = NaN;

  constructor(private readonly o: TravelKeeperOptions) {
    this.kp = o.kp ?? 10;
    this.kd = o.kd ?? 0.5;
    const limit = o.limit ?? 1.5;
    if (!(limit > 0 && limit < 2)) throw new RangeError(`TravelKeeper: limit must be in (0, 2) rad (the hard stops are at 2), got ${limit}`);
    this.soft = (2 / 3) * limit;
    this.barrier = o.barrier ?? 60;
    this.maxVolts = o.maxVolts ?? RIG_MAX_VOLTS;
    if (!(this.maxVolts > 0 && this.maxVolts <= RIG_MAX_VOLTS)) throw new RangeError(`TravelKeeper: maxVolts must be in (0, ${RIG_MAX_VOLTS}], got ${this.maxVolts}`);
    if (!(o.controlDt > 0)) throw new RangeError(`TravelKeeper: controlDt must be positive, got ${o.controlDt}`);
  }

  reset(): void {
    this.lastTheta = NaN;
  }

  /** Total volts to write: excitation plus the keeping term, clamped. `theta` is the measured arm angle. */
  command(excitation: number, theta: number): number {
    const thetaDot = Number.isNaN(this.lastTheta) ? 0 : (theta - this.lastTheta) / this.o.controlDt;
    this.lastTheta = theta;
    const over = Math.max(0, Math.abs(theta) - this.soft) * Math.sign(theta);
    const v = excitation - this.kp * theta - this.kd * thetaDot - this.barrier * over;
    return Math.min(this.maxVolts, Math.max(-this.maxVolts, v));
  }
}

/** A command source for simulateDataset (or the robot loop): signal[k] through a TravelKeeper. */
export function keptExcitation(signal: ArrayLike<number>, keeper: TravelKeeper): CommandSource {
  keeper.reset();
  return ({ k, theta }) => keeper.command(signal[Math.min(k, signal.length - 1)]!, theta);
}

/** The default identification run: a chirp followed by a PRBS, `seconds` in all. */
export function defaultExcitation(o: ExcitationBase): Float64Array {
  const half = Math.round(o.seconds / o.controlDt / 2) * o.controlDt;
  const a = chirp({ ...o, seconds: half });
  const b = prbs({ ...o, seconds: o.seconds - half });
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
