import { test } from "node:test";
import assert from "node:assert/strict";
import { decideGate, welchLowerBound, type GateEpisode } from "../../calibration/finetune/gate.js";
import { probBetaGreater } from "../../common/stats.js";

const eps = (successes: number, n: number, ret: (i: number) => number = (i) => (i < successes ? 100 : 10)): GateEpisode[] =>
  Array.from({ length: n }, (_, i) => ({ success: i < successes, return: ret(i) }));

test("P(Beta > Beta) matches symmetric, extreme and Monte Carlo cases", () => {
  assert.ok(Math.abs(probBetaGreater(3, 3, 3, 3) - 0.5) < 1e-12);
  // Beta(2,1) vs Beta(1,1): P(X > Y) = integral 2x * x dx = 2/3.
  assert.ok(Math.abs(probBetaGreater(2, 1, 1, 1) - 2 / 3) < 1e-12);
  let s = 12345;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const beta = (a: number, b: number) => {
    // order statistics of uniforms for integer a, b: the a-th smallest of a + b - 1
    const xs = Array.from({ length: a + b - 1 }, u).sort((p, q) => p - q);
    return xs[a - 1]!;
  };
  let hits = 0;
  const n = 40000;
  for (let i = 0; i < n; i++) if (beta(5, 1) > beta(3, 3)) hits++;
  assert.ok(Math.abs(probBetaGreater(5, 1, 3, 3) - hits / n) < 0.01, `${probBetaGreater(5, 1, 3, 3)} vs MC ${hits / n}`);
});

test("gate accepts a candidate credibly more successful than the incumbent", () => {
  const d = decideGate(eps(0, 4), eps(4, 4));
  assert.equal(d.verdict, "accept");
  assert.ok(d.accept);
  assert.ok(d.probSuccessBetter > 0.95);
});

test("gate rejects a worse candidate and any candidate that tripped a safety limit", () => {
  assert.equal(decideGate(eps(4, 4), eps(0, 4)).verdict, "reject");
  const tripped = eps(4, 4);
  tripped[2]!.safetyTrip = true;
  const d = decideGate(eps(0, 4), tripped);
  assert.equal(d.verdict, "reject");
  assert.match(d.reason, /safety limit stopped 1 of the candidate's 4/);
  assert.equal(decideGate(eps(0, 4), []).verdict, "reject");
});

test("gate keeps the incumbent on a tie: one more success out of four is not evidence", () => {
  const d = decideGate(eps(2, 4), eps(3, 4));
  assert.equal(d.verdict, "tie");
  assert.equal(d.accept, false);
  // A robot the incumbent masters: equal success, returns within noise.
  const mastered = decideGate(eps(4, 4, (i) => 100 + i), eps(4, 4, (i) => 101 - i));
  assert.equal(mastered.verdict, "tie");
});

test("equal success: a credibly higher return accepts, a noisy one does not", () => {
  const d = decideGate(eps(4, 4, (i) => 100 + (i % 2)), eps(4, 4, (i) => 130 + (i % 2)));
  assert.equal(d.verdict, "accept");
  assert.ok(d.returnDifferenceLowerBound! > 25);
  assert.equal(decideGate(eps(4, 4, (i) => [90, 110, 95, 105][i]!), eps(4, 4, (i) => [85, 125, 92, 110][i]!)).verdict, "tie");
});

test("Welch lower bound: known case and degenerate inputs", () => {
  // means 3 and 1, variances 1 and 1, n = 3 each: se = sqrt(2/3), dof = 4, t(0.9, 4) = 1.5332
  const lb = welchLowerBound([2, 3, 4], [0, 1, 2], 0.9);
  assert.ok(Math.abs(lb - (2 - 1.533206 * Math.sqrt(2 / 3))) < 1e-4, String(lb));
  assert.equal(welchLowerBound([1], [0, 1], 0.9), -Infinity);
  assert.throws(() => decideGate([{ success: true, return: NaN }], eps(1, 1)), /incumbent episode 1 has a non-finite return/);
});
