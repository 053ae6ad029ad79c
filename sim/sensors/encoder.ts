import type { Rng } from "../../common/rng.js";

/**
 * A joint encoder: what the controller sees of a joint angle. The true angle
 * plus a zero offset (the residual the calibration did not remove), plus
 * Gaussian noise, quantized to the encoder's counts per revolution. Offset and
 * noise are in radians so that they compose with any resolution.
 */
export interface EncoderParams {
  countsPerRev: number;
  /** Added to the true angle, rad. */
  offset: number;
  /** Standard deviation of additive noise before quantization, rad. */
  noise: number;
}

export const ENCODER_PARAMS = ["countsPerRev", "offset", "noise"] as const;
/** Unit of each parameter, as the parameter table shows it and as robot configs and randomization entries convert to it. */
export const ENCODER_PARAM_UNITS: Readonly<Record<(typeof ENCODER_PARAMS)[number], string>> = { countsPerRev: "counts", offset: "rad", noise: "rad" };

export function encoderReading(q: number, p: EncoderParams, rng: Rng): number {
  const x = q + p.offset + (p.noise > 0 ? p.noise * rng.normal() : 0);
  if (!(p.countsPerRev > 0)) return x;
  const step = (2 * Math.PI) / p.countsPerRev;
  return Math.round(x / step) * step;
}
