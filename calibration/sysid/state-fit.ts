/**
 * Segment initial states as unknowns. Velocities differenced from quantized
 * angles are off by ~0.1 rad/s, enough to dominate the residuals of a good
 * model; so both the fit and the held-out scoring estimate each segment's
 * initial state (theta, alpha, thetadot, alphadot) from the segment itself,
 * in coordinates `STATE_SCALE` units away from the measured state, with a
 * weak prior `STATE_PRIOR` tying it to the measurement.
 */
import { blockLevenbergMarquardt, type BlockProblem } from "./block-lm.js";
import { STATE_SIZE, type ChannelSigmas, type SegmentSimulator } from "./shooting.js";

/** Prior standard deviations about the measured state [theta, alpha, thetadot, alphadot] (rad, rad/s). */
export const STATE_PRIOR = [3e-3, 3e-3, 0.5, 0.5] as const;
/** One coordinate unit of each component. */
export const STATE_SCALE = [1e-3, 1e-3, 0.05, 0.05] as const;
/**
 * Finite-difference step of the state coordinates (5e-4 rad, 0.025 rad/s):
 * large enough that single-precision rounding in the simulation (a few
 * 1e-5 rad) does not swamp the difference, small enough that a half-second
 * segment still responds linearly.
 */
export const STATE_STEP = 0.5;

/** Physical initial states from state coordinates (written into `out`). */
export function statesFromCoordinates(sim: SegmentSimulator, coords: Float64Array, out = new Float64Array(coords.length)): Float64Array {
  for (let i = 0; i < coords.length; i++) out[i] = sim.measured[i]! + coords[i]! * STATE_SCALE[i % STATE_SIZE]!;
  return out;
}

/**
 * Best initial states for fixed simulator parameters (a few Gauss-Newton
 * iterations; the segments are independent, so this costs about five passes
 * over the data per iteration). The simulator must have been created with
 * `statePrior: STATE_PRIOR`.
 */
export function fitInitialStates(sim: SegmentSimulator, values: Float64Array, sigma: ChannelSigmas, maxIterations = 4): { states: Float64Array; cost: number } {
  const buf = new Float64Array(sim.measured.length);
  const problem: BlockProblem = {
    P: 0,
    blocks: sim.segments.length,
    Q: STATE_SIZE,
    rowStart: sim.offsets,
    stepS: STATE_STEP,
    residuals: (_p, s, out) => sim.residuals(values, sigma, out, statesFromCoordinates(sim, s, buf)),
  };
  const r = blockLevenbergMarquardt(problem, [], new Float64Array(sim.measured.length), { maxIterations, relTol: 2e-4 });
  return { states: statesFromCoordinates(sim, r.s), cost: r.cost };
}
