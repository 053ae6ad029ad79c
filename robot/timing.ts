/**
 * Holding a fixed control period on Node. `setTimeout` alone wakes up 1-2 ms
 * late and jitters with the event loop; spinning burns a core for the whole
 * period. So the wait is in three stages: an event-loop timer until ~2 ms
 * before the tick (serial and signal callbacks still run), a blocking
 * `Atomics.wait` until ~0.3 ms before it, then a short spin on the
 * high-resolution clock. The bench `s2r bench loop` measures what this gives.
 */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export function nowSec(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

export interface TickInfo {
  /** Index of this tick since start. */
  index: number;
  /** When the tick was due and when the loop actually woke, s (monotonic). */
  due: number;
  woke: number;
  /** The previous cycle overran this tick's due time. */
  missed: boolean;
}

export interface PeriodicTimerOptions {
  /** Event-loop timer margin before the tick, s. */
  timerMargin?: number;
  /** Spin for the final part of the wait, s. */
  spinMargin?: number;
  /**
   * Called once per tick just before the final spin (spinMargin before the
   * tick), to get work that is due at the tick ready: a control loop warms its
   * policy here, since a thread that slept through the period finds its caches
   * cold (measured by `s2r bench policy`). Its time is taken from the spin, not
   * from the cycle; if it runs past the tick the lateness shows in the jitter.
   */
  beforeTick?: () => void;
}

export class PeriodicTimer {
  /** Due time of the next tick; NaN until the first waitNext() (or a given start) sets the schedule. */
  private next: number;
  private index = 0;
  misses = 0;
  private readonly timerMargin: number;
  private readonly spinMargin: number;
  private readonly beforeTick: (() => void) | undefined;

  constructor(
    readonly period: number,
    options: PeriodicTimerOptions = {},
    /** Due time of the first tick; default: whenever waitNext() is first called (setup between construction and the first wait is not a miss). */
    start = NaN,
  ) {
    if (!(period > 0)) throw new RangeError(`control period must be > 0, got ${period}`);
    this.next = start;
    this.timerMargin = options.timerMargin ?? 0.002;
    this.spinMargin = options.spinMargin ?? 0.0003;
    this.beforeTick = options.beforeTick;
  }

  /** Waits for the next tick. A cycle that overran is a miss; the schedule then restarts from now rather than bursting to catch up. */
  async waitNext(): Promise<TickInfo> {
    let now = nowSec();
    if (Number.isNaN(this.next)) this.next = now;
    const due = this.next;
    let missed = false;
    if (now > due + this.period) {
      // More than a whole period late: this tick is gone.
      missed = true;
      this.misses++;
      this.next = now;
    } else {
      const coarse = due - now - this.timerMargin;
      if (coarse > 0) await new Promise((r) => setTimeout(r, coarse * 1000));
      now = nowSec();
      const block = due - now - this.spinMargin;
      if (block > 0) Atomics.wait(sleepCell, 0, 0, block * 1000);
      // Only with time left before the tick: a step already due gains nothing from a warm-up in front of it.
      if (this.beforeTick && nowSec() < due) this.beforeTick();
      while (nowSec() < due) {
        /* spin the last fraction of a millisecond */
      }
    }
    const woke = nowSec();
    const info: TickInfo = { index: this.index++, due: missed ? this.next : due, woke, missed };
    this.next += this.period;
    return info;
  }
}
