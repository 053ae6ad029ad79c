import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import { solveSpd, symmetricEigen, matVec } from "../../calibration/sysid/linalg.js";
import { localState } from "../../calibration/sysid/velocity.js";
import { blockInformation, blockLevenbergMarquardt, type BlockProblem } from "../../calibration/sysid/block-lm.js";
import { analyzeIdentifiability } from "../../calibration/sysid/identifiability.js";
import { checkWeakDirections } from "../../calibration/sysid/curvature-check.js";

function randomSpd(n: number, rng: Rng): Float64Array {
  const G = Float64Array.from({ length: n * n }, () => rng.normal());
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j]! += G[i * n + k]! * G[j * n + k]!;
  for (let i = 0; i < n; i++) A[i * n + i]! += 0.1;
  return A;
}

test("symmetricEigen reconstructs the matrix with orthonormal vectors, values ascending", () => {
  const n = 7;
  const A = randomSpd(n, new Rng(1));
  const { values, vectors } = symmetricEigen(A, n);
  for (let k = 1; k < n; k++) assert.ok(values[k]! >= values[k - 1]!);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let a = 0;
      let dot = 0;
      for (let k = 0; k < n; k++) {
        a += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
        dot += vectors[k * n + i]! * vectors[k * n + j]!;
      }
      assert.ok(Math.abs(a - A[i * n + j]!) < 1e-9 * (1 + Math.abs(A[i * n + j]!)), `A[${i}][${j}]`);
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12);
    }
  }
  assert.throws(() => symmetricEigen([1, 2, 3], 2), /expected 4 entries/);
});

test("solveSpd solves positive-definite systems and refuses indefinite ones", () => {
  const n = 5;
  const A = randomSpd(n, new Rng(2));
  const x = Float64Array.from([1, -2, 3, 0.5, -1]);
  const b = matVec(A, x, n);
  const y = solveSpd(A, b, n)!;
  for (let i = 0; i < n; i++) assert.ok(Math.abs(y[i]! - x[i]!) < 1e-9);
  assert.equal(solveSpd([1, 2, 2, 1], [1, 1], 2), undefined);
});

test("localState: exact position and velocity of a cubic, with uneven sample times and at the record's ends", () => {
  const t = Float64Array.from({ length: 30 }, (_, k) => 0.01 * k + 0.002 * Math.sin(k));
  const f = (s: number) => 0.3 - 2 * s + 5 * s * s - 40 * s * s * s;
  const df = (s: number) => -2 + 10 * s - 120 * s * s;
  const x = Float64Array.from(t, f);
  for (const k of [0, 1, 15, 29]) {
    const s = localState(t, x, k, 4);
    assert.ok(Math.abs(s.position - f(t[k]!)) < 1e-10, `position at ${k}`);
    assert.ok(Math.abs(s.velocity - df(t[k]!)) < 1e-8, `velocity at ${k}: ${s.velocity} vs ${df(t[k]!)}`);
  }
});

/**
 * A small multiple-shooting-like problem: block b observes y = s_b exp(-p0 t) + p1 t
 * with noise; p = (decay, slope) global, s_b (one amplitude) per block. With
 * `slopeError`, each block's true slope is off by its own normal draw of that
 * size: an error the model does not have, correlated within a block (as a
 * real rig's unmodelled effects are within a shooting segment).
 */
function decayProblem(noiseSeed: number, sigma: number, slopeError = 0) {
  const blocks = 12;
  const T = 25;
  const truth = [1.5, 0.4];
  const amps = Array.from({ length: blocks }, (_, b) => 0.5 + 0.1 * b);
  const rng = new Rng(noiseSeed);
  const slopes = Array.from({ length: blocks }, () => truth[1]! + slopeError * rng.normal());
  const y = Float64Array.from({ length: blocks * T }, (_, i) => {
    const b = Math.floor(i / T);
    const t = (i % T) * 0.1;
    return amps[b]! * Math.exp(-truth[0]! * t) + slopes[b]! * t + sigma * rng.normal();
  });
  const problem: BlockProblem = {
    P: 2,
    blocks,
    Q: 1,
    rowStart: Array.from({ length: blocks + 1 }, (_, b) => b * T),
    stepP: 1e-6,
    stepS: 1e-6,
    residuals(p, s, out) {
      for (let i = 0; i < blocks * T; i++) {
        const b = Math.floor(i / T);
        const t = (i % T) * 0.1;
        out[i] = (s[b]! * Math.exp(-p[0]! * t) + p[1]! * t - y[i]!) / sigma;
      }
      return true;
    },
  };
  return { problem, truth, amps, blocks };
}

test("block Levenberg-Marquardt recovers global and per-block unknowns; its information matches the spread over noise draws", () => {
  const sigma = 0.01;
  const estimates: number[][] = [];
  let sdFromInformation: number[] = [];
  for (let seed = 1; seed <= 30; seed++) {
    const { problem, truth, amps, blocks } = decayProblem(seed, sigma);
    const r = blockLevenbergMarquardt(problem, [1, 0], new Float64Array(blocks).fill(1), { maxIterations: 50, relTol: 1e-12 });
    assert.ok(Math.abs(r.p[0]! - truth[0]!) < 0.05 && Math.abs(r.p[1]! - truth[1]!) < 0.02, `seed ${seed}: p = ${Array.from(r.p)}`);
    for (let b = 0; b < blocks; b++) assert.ok(Math.abs(r.s[b]! - amps[b]!) < 0.05);
    estimates.push(Array.from(r.p));
    if (seed === 1) {
      const info = blockInformation(problem, r.p, r.s).information;
      // 2x2 inverse: the marginal covariance of p (states eliminated).
      const det = info[0]! * info[3]! - info[1]! * info[2]!;
      sdFromInformation = [Math.sqrt(info[3]! / det), Math.sqrt(info[0]! / det)];
    }
  }
  for (let j = 0; j < 2; j++) {
    const m = estimates.reduce((a, e) => a + e[j]!, 0) / estimates.length;
    const sd = Math.sqrt(estimates.reduce((a, e) => a + (e[j]! - m) ** 2, 0) / (estimates.length - 1));
    const ratio = sd / sdFromInformation[j]!;
    assert.ok(ratio > 0.6 && ratio < 1.6, `p${j}: empirical sd ${sd.toExponential(2)} vs information ${sdFromInformation[j]!.toExponential(2)}`);
  }
  const { problem, blocks } = decayProblem(1, sigma);
  assert.throws(() => blockLevenbergMarquardt(problem, [1], new Float64Array(blocks)), /p0 has 1 entries, expected 2/);
});

test("the blocks' score scatter: like the information under white noise, the true spread when the blocks disagree", () => {
  const sigma = 0.01;
  const coord = (name: string) => ({ name, judge: (sd: number) => sd, toPhysical: (sd: number) => sd });
  const coords = [coord("decay"), coord("slope")];
  // Between the slope's standard deviation from noise alone (~1e-3) and with the blocks' slope errors (~3e-3).
  const threshold = 2e-3;
  for (const slopeError of [0, 0.01]) {
    const slopes: number[] = [];
    /** Robust over model variance of the slope, per draw: one draw's is itself a noisy estimate (12 blocks). */
    const ratios: number[] = [];
    let modelOnly: ReturnType<typeof analyzeIdentifiability> | undefined;
    let robust: ReturnType<typeof analyzeIdentifiability> | undefined;
    for (let seed = 1; seed <= 30; seed++) {
      const { problem, blocks } = decayProblem(seed, sigma, slopeError);
      const r = blockLevenbergMarquardt(problem, [1, 0], new Float64Array(blocks).fill(1), { maxIterations: 50, relTol: 1e-12 });
      slopes.push(r.p[1]!);
      const info = blockInformation(problem, r.p, r.s);
      assert.equal(info.scoreScatter.length, 4);
      const withScatter = analyzeIdentifiability(info.information, coords, 1, threshold, { scoreScatter: info.scoreScatter });
      ratios.push(withScatter.scatterRatio.slope! ** 2);
      if (seed > 1) continue;
      modelOnly = analyzeIdentifiability(info.information, coords, 1, threshold);
      robust = withScatter;
    }
    const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
    const m = mean(slopes);
    const empirical = Math.sqrt(slopes.reduce((a, v) => a + (v - m) ** 2, 0) / (slopes.length - 1));
    const modelSd = modelOnly!.stddev.slope!;
    const reported = robust!.stddev.slope!;
    const ratio = Math.sqrt(mean(ratios));
    const report = `slope error ${slopeError}: empirical sd ${empirical.toExponential(2)}, model ${modelSd.toExponential(2)}, reported ${reported.toExponential(2)}, robust/model ${ratio.toFixed(2)} (RMS over draws)`;
    // The reported standard deviation is the larger of the two; either way it must match the real spread.
    assert.ok(reported >= modelSd, report);
    assert.ok(reported / empirical > 0.6 && reported / empirical < 1.6, report);
    if (slopeError === 0) {
      assert.ok(ratio > 0.7 && ratio < 1.3, report);
      assert.equal(robust!.identifiable.slope, true, report);
    } else {
      // The information alone claims several times the precision the data has; the flag follows the real spread.
      assert.ok(empirical / modelSd > 2.5 && ratio > 2.5, report);
      assert.equal(modelOnly!.identifiable.slope, true, report);
      assert.equal(robust!.identifiable.slope, false, report);
    }
  }
  assert.throws(() => analyzeIdentifiability(new Float64Array(4), coords, 1, 0.1, { scoreScatter: new Float64Array(9) }), /scoreScatter has 9 entries, expected 4/);
});

test("profile checks widen a close call whose cost rises less than the information says, and leave the rest", () => {
  // Information for unit variance: a and b correlated, c on its own; sd(a) = 0.04, sd(c) = 0.01.
  const cov = [
    [0.0016, 0.0012, 0],
    [0.0012, 0.0016, 0],
    [0, 0, 0.0001],
  ];
  const inv = (m: number[][]) => {
    // 2x2 block and the diagonal entry.
    const det = m[0]![0]! * m[1]![1]! - m[0]![1]! * m[1]![0]!;
    return Float64Array.from([m[1]![1]! / det, -m[0]![1]! / det, 0, -m[1]![0]! / det, m[0]![0]! / det, 0, 0, 0, 1 / m[2]![2]!]);
  };
  const info = inv(cov);
  const coord = (name: string) => ({ name, judge: (sd: number) => sd, toPhysical: (sd: number) => sd });
  const coords = [coord("a"), coord("b"), coord("c")];
  const asked: { index: number; direction: number[]; t: number }[] = [];
  // The real cost rises a quarter of what the information says when a is held off; b's profile is as predicted.
  const r = analyzeIdentifiability(info, coords, 1, 0.05, {
    profile: {
      measure: (index, direction, t) => {
        asked.push({ index, direction: Array.from(direction), t });
        return index === 0 ? (t * t) / 4 : t * t;
      },
      minJudged: 0.02,
      maxChecks: 4,
    },
  });
  // a and b are close calls (0.04 <= 0.05); c (0.01) is clear of the window and is not checked.
  assert.deepEqual(asked.map((q) => q.index).sort(), [0, 1]);
  const a = asked.find((q) => q.index === 0)!;
  assert.equal(a.t, 4);
  // One standard deviation of a, with b at its conditional best: cov column / sd(a).
  assert.ok(Math.abs(a.direction[0]! - 0.04) < 1e-12 && Math.abs(a.direction[1]! - 0.03) < 1e-12 && a.direction[2] === 0, JSON.stringify(a.direction));
  assert.ok(Math.abs(r.stddev.a! - 0.08) < 1e-12, `${r.stddev.a}`);
  assert.equal(r.identifiable.a, false);
  assert.ok(Math.abs(r.stddev.b! - 0.04) < 1e-12 && r.identifiable.b);
  assert.ok(Math.abs(r.stddev.c! - 0.01) < 1e-12 && r.identifiable.c);
  assert.deepEqual(
    r.profileChecks.map((c) => [c.name, c.predicted, c.measured]),
    [
      ["a", 16, 4],
      ["b", 16, 16],
    ],
  );
  // Unmeasurable profiles, and checks beyond maxChecks, change nothing.
  const none = analyzeIdentifiability(info, coords, 1, 0.05, { profile: { measure: () => undefined, minJudged: 0.02, maxChecks: 4 } });
  assert.equal(none.identifiable.a, true);
  assert.equal(none.profileChecks.length, 0);
  const one = analyzeIdentifiability(info, coords, 1, 0.05, { profile: { measure: () => 1, minJudged: 0.02, maxChecks: 1 } });
  assert.equal(one.profileChecks.length, 1);
});

test("analyzeIdentifiability flags the coordinates of a null direction and reports it", () => {
  // Coordinates a and b enter only as a + b; c is measured on its own.
  const J = [
    [1, 1, 0],
    [2, 2, 0.5],
    [0.5, 0.5, 1],
  ];
  const info = new Float64Array(9);
  for (const row of J) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) info[i * 3 + j]! += 100 * row[i]! * row[j]!;
  const coord = (name: string) => ({ name, judge: (sd: number) => sd, toPhysical: (sd: number) => sd });
  const r = analyzeIdentifiability(info, [coord("a"), coord("b"), coord("c")], 1, 0.5);
  assert.deepEqual(r.identifiable, { a: false, b: false, c: true });
  assert.ok(r.stddev.a! > 1e3 && r.stddev.c! < 0.5);
  assert.equal(r.nullDirections.length, 1);
  const d = r.nullDirections[0]!.components;
  assert.ok(Math.abs(Math.abs(d.a!) - Math.SQRT1_2) < 1e-3 && Math.abs(d.a! + d.b!) < 1e-3 && d.c === undefined, JSON.stringify(d));
});

test("checkWeakDirections keeps curvature the cost really has and drops curvature it does not", () => {
  // True cost: 100 x0^2 (x1 unseen). The Jacobian claims 30 x1^2 as well (e.g. rounding noise).
  const trueH = [100, 0, 0, 0];
  const claimed = Float64Array.from([100, 0, 0, 30]);
  const probed: number[] = [];
  const { information, checks } = checkWeakDirections(
    claimed,
    2,
    1,
    (v, sdAlong) => Math.max(Math.abs(v[0]!), Math.abs(v[1]!)) * sdAlong,
    (v, delta) => {
      probed.push(delta);
      return delta * delta * (v[0]! * v[0]! * trueH[0]! + v[1]! * v[1]! * trueH[3]!);
    },
    { minWeakness: 0.05, maxWeakness: 1, maxChecks: 4 },
  );
  assert.equal(checks.length, 2);
  assert.ok(Math.abs(information[0]! - 100) < 1e-9, `kept ${information[0]}`);
  assert.ok(information[3]! < 1e-9, `dropped to ${information[3]}`);
  // The probe steps are where the claimed quadratic rises by 16: 4 standard deviations.
  assert.ok(probed.some((d) => Math.abs(d - 4 / Math.sqrt(30)) < 1e-9));
  // A direction outside the window is not probed.
  const none = checkWeakDirections(claimed, 2, 1, () => 10, () => 0, { minWeakness: 0.05, maxWeakness: 1, maxChecks: 4 });
  assert.equal(none.checks.length, 0);
  assert.deepEqual(Array.from(none.information), Array.from(claimed));
});
