/**
 * The servo's overload protection as a thermal I²t integrator: heat grows
 * with the current's square above what the motor carries continuously and
 * drains at that rate below it. Sustained high current trips it; short bursts
 * (a swing-up) do not.
 */
export interface ThermalOverloadOptions {
  /** Current the motor carries indefinitely, A. */
  continuousAmps: number;
  /** Accumulated (I² - Ic²)·t that trips the overload, A²s. */
  tripAmpSquaredSeconds: number;
}

/** About 6 s at a 6 V stall of the nominal Furuta motor (0.71 A); a balancing policy (~0.1 A) never heats it. */
export const DEFAULT_THERMAL_OVERLOAD: ThermalOverloadOptions = { continuousAmps: 0.4, tripAmpSquaredSeconds: 2 };

export class ThermalOverload {
  heat = 0;
  private readonly ic2: number;

  constructor(readonly options: ThermalOverloadOptions = DEFAULT_THERMAL_OVERLOAD) {
    if (!(options.continuousAmps >= 0)) throw new RangeError(`overload: continuousAmps must be >= 0, got ${options.continuousAmps}`);
    if (!(options.tripAmpSquaredSeconds > 0)) throw new RangeError(`overload: tripAmpSquaredSeconds must be > 0, got ${options.tripAmpSquaredSeconds}`);
    this.ic2 = options.continuousAmps ** 2;
  }

  /**
   * Integrates `dt` seconds at `amps`; returns true when the motor is being
   * heated beyond the trip level (a hot motor that carries no load does not
   * trip; loading it again before it has cooled does, at once).
   */
  step(amps: number, dt: number): boolean {
    const load = amps * amps - this.ic2;
    const h = this.heat + load * dt;
    this.heat = h > 0 ? h : 0;
    return load > 0 && this.heat > this.options.tripAmpSquaredSeconds;
  }
}
