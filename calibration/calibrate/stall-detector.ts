/**
 * Recognizes an arm pushed against a hard stop: a voltage toward the stop of
 * at least `stallVolts` while the arm is slower than `stallSpeed` and stays
 * within `stallWindow`, uninterrupted for `stallSeconds`. The stop reading is
 * the mean position over that stretch (the arm pressed against the stop with
 * the same voltage at both ends, so any give of the stop cancels in the
 * midpoint of the two readings).
 */
import type { CalibrateMotion } from "./motion-config.js";

export interface Stall {
  /** Mean position while stalled, in the hardware's units. */
  position: number;
  /** Spread (standard deviation) of the positions read while stalled. */
  stddev: number;
  samples: number;
  /** Mean voltage pushing into the stop, V. */
  volts: number;
}

export class StallDetector {
  private since = NaN;
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private sumVolts = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(
    private readonly m: CalibrateMotion,
    /** Direction of the stop: +1 or -1. */
    private readonly direction: 1 | -1,
  ) {}

  reset(): void {
    this.since = NaN;
    this.n = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.sumVolts = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /** Feeds one period; returns the stall once it has lasted stallSeconds. */
  update(seconds: number, volts: number, speed: number, position: number): Stall | undefined {
    const m = this.m;
    const pushing = volts * this.direction >= m.stallVolts;
    const still = Math.abs(speed) <= m.stallSpeed && Math.max(this.max, position) - Math.min(this.min, position) <= m.stallWindow;
    if (!pushing || !still) {
      this.reset();
      // A slow reading that breaks the window starts a new one at this position.
      if (pushing && Math.abs(speed) <= m.stallSpeed) this.add(seconds, volts, position);
      return undefined;
    }
    this.add(seconds, volts, position);
    if (seconds - this.since < m.stallSeconds) return undefined;
    const mean = this.sum / this.n;
    return { position: mean, stddev: Math.sqrt(Math.max(0, this.sumSq / this.n - mean * mean)), samples: this.n, volts: this.sumVolts / this.n };
  }

  private add(seconds: number, volts: number, position: number): void {
    if (Number.isNaN(this.since)) this.since = seconds;
    this.n++;
    this.sum += position;
    this.sumSq += position * position;
    this.sumVolts += volts;
    if (position < this.min) this.min = position;
    if (position > this.max) this.max = position;
  }
}
