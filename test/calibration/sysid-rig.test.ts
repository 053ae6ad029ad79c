import { test } from "node:test";
import assert from "node:assert/strict";
import { simulateDataset } from "../../calibration/sysid/dataset.js";
import { defaultExcitation } from "../../calibration/sysid/excitation.js";
import { furutaSysidRig, symbolsToTargets, SYSID_SYMBOLS } from "../../calibration/sysid/rig.js";
import { FURUTA_NOMINAL } from "../../sim/tasks/furuta/analytic.js";
import { SysidCoordinates } from "../../calibration/sysid/coordinates.js";

const rig = furutaSysidRig();

test("rig symbols: nominal values are the rig page's, and symbol <-> table maps round trip", () => {
  const nominal = rig.symbolsOf(rig.tableVector());
  for (const s of ["Rm", "km", "Jr", "Dr", "Dp", "mp", "Lp", "Lr"] as const) {
    assert.ok(Math.abs(nominal[s] / FURUTA_NOMINAL[s] - 1) < 1e-9, `${s}: ${nominal[s]} vs rig page ${FURUTA_NOMINAL[s]}`);
    assert.equal(rig.def(s).nominal, nominal[s]);
  }
  const base = rig.tableVector({ "links.arm.inertia": 1.3 });
  for (const s of SYSID_SYMBOLS) {
    const v = rig.def(s).nominal * 1.17 + 1e-4;
    assert.ok(Math.abs(rig.fromTable(s, rig.toTable(s, v, base), base) - v) < 1e-12 * Math.max(1, v));
  }
  // Jr scales the arm's whole mass: 10 % more Jr is 10 % more arm mass.
  assert.ok(Math.abs(symbolsToTargets(rig, { Jr: 1.1 * FURUTA_NOMINAL.Jr })["links.arm.mass"]! - 1.1 * 0.095) < 1e-12);
  assert.throws(() => rig.def("Jp"), /unknown parameter symbol "Jp"/);
  assert.throws(() => rig.toTable("Rm", NaN), /Rm = NaN is not a finite number/);
});

test("scaling every mass, damping, friction and 1/Rm together leaves the simulated motion unchanged", async () => {
  // The physical reason the mass scale needs the current to be identified; the simulator must
  // respect it too, or a fit could "identify" the scale from solver artifacts.
  const truth = { Rm: 9, km: 0.045, Jr: 2.5e-4, Dr: 4e-4, Dp: 1.2e-5, mp: 0.026, armFriction: 1e-3, pendulumFriction: 3e-5, deadZone: 0.1, latency: 0.004 };
  const c = 1.25;
  const scaled = { ...truth, Rm: truth.Rm / c, Jr: truth.Jr * c, Dr: truth.Dr * c, Dp: truth.Dp * c, mp: truth.mp * c, armFriction: truth.armFriction * c, pendulumFriction: truth.pendulumFriction * c };
  const commands = defaultExcitation({ seconds: 3, controlDt: 0.01, amplitude: 2, seed: 1 });
  const opts = { rig, commands, current: false, encoder: { noise: 0, countsPerRev: 0 } } as const;
  const a = await simulateDataset({ ...opts, params: symbolsToTargets(rig, truth) });
  const b = await simulateDataset({ ...opts, params: symbolsToTargets(rig, scaled) });
  let worst = 0;
  for (let k = 0; k < a.t.length; k++) worst = Math.max(worst, Math.abs(a.theta[k]! - b.theta[k]!), Math.abs(a.alpha[k]! - b.alpha[k]!));
  // Single-precision rounding alone moves a 3 s trajectory by a few 1e-5 rad (a run with c = 1.0001
  // differs as much): below a tenth of an encoder count.
  assert.ok(worst < 1.5e-4, `trajectories differ by ${worst} rad`);
  // ...whereas scaling the masses alone does change it.
  const massOnly = await simulateDataset({ ...opts, params: symbolsToTargets(rig, { ...truth, Jr: truth.Jr * c, mp: truth.mp * c }) });
  let moved = 0;
  for (let k = 0; k < a.t.length; k++) moved = Math.max(moved, Math.abs(a.theta[k]! - massOnly.theta[k]!));
  assert.ok(moved > 0.01, `${moved}`);
});

test("search coordinates (Dr as total arm damping) round trip, and information moves to report coordinates consistently", () => {
  const coords = new SysidCoordinates(rig, SYSID_SYMBOLS, rig.tableVector());
  const values = { Rm: 9.5, km: 0.05, Jr: 2.1e-4, Dr: 6e-4, Dp: 1.1e-5, mp: 0.027, Lp: 0.12, Lr: 0.09, armFriction: 1e-3, pendulumFriction: 2e-5, deadZone: 0.2, latency: 0.004 };
  const x = coords.fromPhysical(values);
  const back = coords.physical(x);
  for (const [k, v] of Object.entries(values)) assert.ok(Math.abs(back[k]! / v - 1) < 1e-12, `${k}: ${back[k]} vs ${v}`);
  // Moving only the damping coordinate changes Dr + km^2/Rm by the log step; km and Rm stay.
  const iDr = coords.indexOf("Dr");
  const x2 = Float64Array.from(x);
  x2[iDr]! += 1;
  const moved = coords.physical(x2);
  assert.ok(Math.abs((moved.Dr! + 0.05 ** 2 / 9.5) / (6e-4 + 0.05 ** 2 / 9.5) - Math.exp(0.1)) < 1e-12);
  assert.equal(moved.km, back.km);
  // Covariances agree: G (I_x)^-1 G' == (I_y)^-1, checked on a diagonal I_x.
  const P = coords.size;
  const Ix = new Float64Array(P * P);
  for (let i = 0; i < P; i++) Ix[i * P + i] = 1 + i;
  const Iy = coords.informationInReport(x, Ix)!;
  const G = coords.reportJacobian(x);
  for (const [i, j] of [[iDr, iDr], [coords.indexOf("km"), iDr], [0, 0]] as const) {
    // Column j of cov_y = G I_x^-1 G'; row i of I_y times it must be the identity's (i, j).
    const col = Float64Array.from({ length: P }, (_, r) => {
      let v = 0;
      for (let k = 0; k < P; k++) v += (G[r * P + k]! * G[j * P + k]!) / (1 + k);
      return v;
    });
    let identity = 0;
    for (let k = 0; k < P; k++) identity += Iy[i * P + k]! * col[k]!;
    assert.ok(Math.abs(identity - (i === j ? 1 : 0)) < 1e-6, `(I_y cov_y)[${i}][${j}] = ${identity}`);
  }
  assert.throws(() => new SysidCoordinates(rig, ["Rm"], rig.tableVector({ "actuators.arm.Rm": 9 })), /both held fixed and fitted/);
  assert.throws(() => new SysidCoordinates(rig, [], rig.tableVector()), /lists no parameters/);
});
