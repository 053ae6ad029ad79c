/**
 * Joint angles over time from sensor_msgs/JointState messages, sampled at
 * any instant: linear interpolation between the two messages that bracket it,
 * angles unwrapped across +-pi first (a continuous joint reported in
 * [-pi, pi) would otherwise interpolate the long way round between 3.1 and
 * -3.1). Labels camera frames with encoder angles by their header stamps.
 */
export interface JointSample {
  stampNs: bigint;
  name: readonly string[];
  position: ArrayLike<number>;
}

export class JointTrack {
  readonly names: readonly string[];
  /** Stamps in ns relative to t0 (exact as doubles for days of recording). */
  readonly #t: Float64Array;
  readonly #t0: bigint;
  /** Unwrapped positions, one array per joint. */
  readonly #q: Float64Array[];

  private constructor(names: readonly string[], t0: bigint, t: Float64Array, q: Float64Array[]) {
    this.names = names;
    this.#t0 = t0;
    this.#t = t;
    this.#q = q;
  }

  get length(): number {
    return this.#t.length;
  }

  /**
   * `names`: the joints to track (default: those of the first sample). A
   * sample that lacks one of them is an error naming it.
   */
  static fromSamples(samples: readonly JointSample[], names?: readonly string[], source = "joint states"): JointTrack {
    if (samples.length === 0) throw new Error(`${source}: no JointState messages`);
    const sorted = [...samples].sort((a, b) => (a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : 0));
    const want = names ?? sorted[0]!.name;
    const t0 = sorted[0]!.stampNs;
    const t = new Float64Array(sorted.length);
    const q = want.map(() => new Float64Array(sorted.length));
    for (let i = 0; i < sorted.length; i++) {
      const s = sorted[i]!;
      t[i] = Number(s.stampNs - t0);
      for (let j = 0; j < want.length; j++) {
        const k = s.name.indexOf(want[j]!);
        if (k < 0 || k >= s.position.length) throw new Error(`${source}: message ${i} (stamp ${s.stampNs} ns) has no position for joint ${JSON.stringify(want[j])} (it names ${s.name.join(", ") || "nothing"})`);
        const raw = s.position[k]!;
        if (i === 0) q[j]![0] = raw;
        else {
          const prev = q[j]![i - 1]!;
          // Add the multiple of 2 pi that brings the sample nearest to the previous one.
          q[j]![i] = raw + 2 * Math.PI * Math.round((prev - raw) / (2 * Math.PI));
        }
      }
    }
    return new JointTrack(want, t0, t, q);
  }

  /**
   * Positions at `stampNs`, interpolated between the bracketing samples;
   * undefined outside the track or when those samples are more than
   * `maxGapNs` apart (the encoder stream dropped out there).
   */
  at(stampNs: bigint, maxGapNs = 100_000_000): Float64Array | undefined {
    const x = Number(stampNs - this.#t0);
    const t = this.#t;
    const n = t.length;
    if (n === 0 || x < t[0]! || x > t[n - 1]!) return undefined;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= x) lo = mid;
      else hi = mid;
    }
    const out = new Float64Array(this.names.length);
    const span = t[hi]! - t[lo]!;
    if (span > maxGapNs) return undefined;
    const f = span > 0 ? (x - t[lo]!) / span : 0;
    for (let j = 0; j < out.length; j++) out[j] = this.#q[j]![lo]! * (1 - f) + this.#q[j]![hi]! * f;
    return out;
  }
}

/** An angle difference wrapped to [-pi, pi). */
export function wrapAngle(a: number): number {
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}
