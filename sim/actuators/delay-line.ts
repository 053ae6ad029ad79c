/**
 * Command latency as a delay line: a command issued at time t takes effect at
 * t + latency. The physics runs in substeps finer than the control period, so
 * a latency of a few milliseconds lands between control steps; the line keeps
 * the last few (issue time, value) pairs and answers "which command is in
 * effect at time t".
 */
export class DelayLine {
  private times: number[] = [];
  private values: number[] = [];

  constructor(private initial = 0) {}

  reset(initial = this.initial): void {
    this.initial = initial;
    this.times.length = 0;
    this.values.length = 0;
  }

  push(time: number, value: number): void {
    this.times.push(time);
    this.values.push(value);
  }

  /** The command in effect at `time` given a delay of `latency` seconds. */
  valueAt(time: number, latency: number): number {
    const cutoff = time - latency + 1e-12; // tolerate rounding in substep times
    let v = this.initial;
    let keepFrom = 0;
    for (let i = 0; i < this.times.length; i++) {
      if (this.times[i]! <= cutoff) {
        v = this.values[i]!;
        keepFrom = i;
      } else break;
    }
    // Older entries can never be in effect again (time only moves forward).
    if (keepFrom > 0) {
      this.initial = this.values[keepFrom - 1]!;
      this.times.splice(0, keepFrom);
      this.values.splice(0, keepFrom);
    }
    return v;
  }
}
