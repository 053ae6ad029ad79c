/**
 * Seeded, splittable pseudo-random numbers.
 *
 * Every stochastic part of the stack (randomization draws, sensor noise, policy
 * sampling, minibatch shuffles) takes an `Rng` so that a run is a pure function
 * of its seed. Streams are derived with `Rng.derive(seed, ...keys)` rather than
 * by sharing one generator, so that env #7 sees the same numbers whether it runs
 * alone, in a batch of 64, or on the second worker thread.
 *
 * Generator: xoshiro128** (32-bit state words, fast in JS integer arithmetic),
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 */

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/** Mixes a list of integer keys into one 32-bit value (order matters). */
export function hashKeys(...keys: number[]): number {
  let h = 0x811c9dc5;
  for (const k of keys) {
    if (!Number.isInteger(k)) throw new RangeError(`hashKeys: key ${k} is not an integer`);
    // Fold the key in as two 32-bit halves so that large seeds are not truncated.
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    for (const part of [lo, hi]) {
      h = Math.imul(h ^ part, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
    }
  }
  return h >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Cached second value of the Box-Muller pair, or NaN when empty. */
  private spareNormal = NaN;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** A generator whose stream depends only on the seed and the keys. */
  static derive(seed: number, ...keys: number[]): Rng {
    return new Rng(hashKeys(seed, ...keys));
  }

  reseed(seed: number): void {
    let st = hashKeys(seed);
    let v: number;
    [st, v] = splitmix32(st); this.s0 = v;
    [st, v] = splitmix32(st); this.s1 = v;
    [st, v] = splitmix32(st); this.s2 = v;
    [st, v] = splitmix32(st); this.s3 = v;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spareNormal = NaN;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, pairs cached). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const s = this.spareNormal;
      this.spareNormal = NaN;
      return s;
    }
    // Start from a draw (not the integer 0) so V8 keeps u a double and the call allocates nothing.
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }

  /** Serializable state, for checkpoints. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.spareNormal];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new RangeError(`Rng.setState: expected 5 numbers, got ${state.length}`);
    [this.s0, this.s1, this.s2, this.s3] = state.slice(0, 4).map((x) => x >>> 0) as [number, number, number, number];
    this.spareNormal = state[4] === null ? NaN : Number(state[4]);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
