/**
 * Keeps an emulator's simulation in step with the wall clock without a
 * precise timer: each call says how many fixed physics steps are due to
 * catch up with `nowMs`. After a stall (GC, swap, a debugger) it lets
 * simulated time lag rather than replay a burst of more than `maxCatchUp`
 * steps at once, and counts the steps it skipped.
 */
export class RealTimeSteps {
  private t0Ms = NaN;
  private taken = 0;
  skipped = 0;

  constructor(
    private readonly dtMs: number,
    private readonly maxCatchUp: number,
  ) {}

  /** Whether time zero has been set (by the first call of `due` or `start`). */
  get started(): boolean {
    return !Number.isNaN(this.t0Ms);
  }

  /** Sets time zero if it is not set yet. */
  start(nowMs: number): void {
    if (Number.isNaN(this.t0Ms)) this.t0Ms = nowMs;
  }

  /** Steps to take now to reach `nowMs` (counted as taken); the first call sets time zero. */
  due(nowMs: number): number {
    this.start(nowMs);
    // (The epsilon keeps e.g. 30 ms / 1 ms from flooring to 29 steps.)
    let behind = Math.floor((nowMs - this.t0Ms) / this.dtMs + 1e-9) - this.taken;
    if (behind <= 0) return 0;
    if (behind > this.maxCatchUp) {
      const skip = behind - this.maxCatchUp;
      this.t0Ms += skip * this.dtMs;
      this.skipped += skip;
      behind = this.maxCatchUp;
    }
    this.taken += behind;
    return behind;
  }
}
