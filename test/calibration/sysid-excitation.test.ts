import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import { chirp, defaultExcitation, keptExcitation, lfsrBits, prbs, TravelKeeper } from "../../calibration/sysid/excitation.js";
import { simulateDataset } from "../../calibration/sysid/dataset.js";
import { furutaSysidRig, symbolsToTargets } from "../../calibration/sysid/rig.js";

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test("chirp: within the amplitude, deterministic per seed, sweeps up in frequency", () => {
  const a = chirp({ seconds: 10, controlDt: 0.01, amplitude: 4, seed: 3 });
  const b = chirp({ seconds: 10, controlDt: 0.01, amplitude: 4, seed: 3 });
  const c = chirp({ seconds: 10, controlDt: 0.01, amplitude: 4, seed: 4 });
  assert.equal(a.length, 1000);
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.notDeepEqual(Array.from(a), Array.from(c));
  assert.ok(maxAbs(a) <= 4 && maxAbs(a) > 3.9);
  const crossings = (from: number, to: number) => {
    let n = 0;
    for (let k = from + 1; k < to; k++) if (Math.sign(a[k]!) !== Math.sign(a[k - 1]!)) n++;
    return n;
  };
  assert.ok(crossings(800, 1000) > 3 * crossings(0, 200), "the last 2 s must oscillate much faster than the first 2 s");
  assert.throws(() => chirp({ seconds: 1, controlDt: 0.01, amplitude: 7 }), /amplitude 7 V exceeds the rig's 6 V safety limit/);
  assert.throws(() => chirp({ seconds: 1, controlDt: 0.01, f1: 60 }), /Nyquist/);
  assert.throws(() => chirp({ seconds: 0, controlDt: 0.01 }), /seconds must be a positive number/);
});

test("LFSR taps give maximal-length sequences (period 2^n - 1, 2^(n-1) ones per period)", () => {
  for (let order = 3; order <= 16; order++) {
    const P = 2 ** order - 1;
    const bits = lfsrBits(order, 1, 2 * P);
    for (let i = 0; i < P; i++) assert.equal(bits[i], bits[i + P], `order ${order}: not periodic with ${P}`);
    let ones = 0;
    for (let i = 0; i < P; i++) ones += bits[i]!;
    assert.equal(ones, 2 ** (order - 1), `order ${order}: ${ones} ones per period`);
    for (let d = 1; d < P; d++) {
      if (P % d !== 0) continue;
      let periodic = true;
      for (let i = 0; i + d < 2 * P && periodic; i++) if (bits[i] !== bits[i + d]) periodic = false;
      assert.ok(!periodic, `order ${order}: shorter period ${d}`);
    }
  }
  assert.throws(() => lfsrBits(20, 1, 4), /register length 20 not supported/);
});

test("prbs: two levels held for whole bits, deterministic per seed, about balanced", () => {
  const a = prbs({ seconds: 20, controlDt: 0.01, amplitude: 5, bitSeconds: 0.05, seed: 1 });
  const b = prbs({ seconds: 20, controlDt: 0.01, amplitude: 5, bitSeconds: 0.05, seed: 1 });
  const c = prbs({ seconds: 20, controlDt: 0.01, amplitude: 5, bitSeconds: 0.05, seed: 2 });
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.notDeepEqual(Array.from(a), Array.from(c));
  let positive = 0;
  for (let k = 0; k < a.length; k++) {
    assert.ok(a[k] === 5 || a[k] === -5);
    if (k % 5 !== 0) assert.equal(a[k], a[k - 1], `switch inside a bit at step ${k}`);
    if (a[k]! > 0) positive++;
  }
  assert.ok(Math.abs(positive / a.length - 0.5) < 0.1, `fraction positive ${positive / a.length}`);
  assert.throws(() => prbs({ seconds: 1, controlDt: 0.01, bitSeconds: 0.001 }), /at least one control period/);
  assert.throws(() => prbs({ seconds: 1, controlDt: 0.01, amplitude: 6.5 }), /6 V safety limit/);
});

test("TravelKeeper keeps the arm within +-1.5 rad under 5 V excitation where the bare signal would not", async () => {
  const rig = furutaSysidRig();
  for (const seed of [1, 2, 3]) {
    const r = new Rng(seed);
    const hidden: Record<string, number> = {};
    for (const p of rig.params) if (p.space === "log") hidden[p.symbol] = p.nominal * r.uniform(0.8, 1.2);
    hidden.armFriction = r.uniform(0, 0.003);
    hidden.deadZone = r.uniform(0, 0.3);
    hidden.latency = r.uniform(0, 0.01);
    const params = symbolsToTargets(rig, hidden);
    const signal = defaultExcitation({ seconds: 8, controlDt: 0.01, seed });
    const kept = await simulateDataset({ rig, params, commands: keptExcitation(signal, new TravelKeeper({ controlDt: 0.01 })), steps: signal.length, seed });
    assert.ok(maxAbs(kept.truth.theta) < 1.5, `seed ${seed}: arm reached ${maxAbs(kept.truth.theta).toFixed(2)} rad`);
    assert.ok(maxAbs(kept.volts) <= 6);
    // The logged volts are the total actually written, wrapper included.
    assert.ok(kept.volts.some((v, k) => Math.abs(v - signal[k]!) > 0.5));
    if (seed === 1) {
      const bare = await simulateDataset({ rig, params, commands: signal, seed });
      assert.ok(maxAbs(bare.truth.theta) > 1.5, `without the keeper the arm stayed within ${maxAbs(bare.truth.theta).toFixed(2)} rad: the test shows nothing`);
    }
  }
  assert.throws(() => new TravelKeeper({ controlDt: 0.01, limit: 2.5 }), /limit must be in \(0, 2\)/);
  assert.throws(() => new TravelKeeper({ controlDt: 0.01, maxVolts: 8 }), /maxVolts must be in \(0, 6\]/);
});

test("TravelKeeper: pulls back towards the centre and clamps the total", () => {
  const k = new TravelKeeper({ controlDt: 0.01 });
  assert.equal(k.command(0, 0), 0);
  assert.ok(k.command(0, 0.3) < 0, "a displaced arm is pulled back");
  k.reset();
  assert.equal(k.command(5, 1.4), -6, "beyond the soft limit the barrier wins over the excitation and the total is clamped");
  k.reset();
  assert.equal(k.command(5, -0.1), 6);
});
