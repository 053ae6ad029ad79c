/**
 * End-to-end system identification on simulated data (small budgets: 6 s of
 * data, a short CMA-ES and a few Levenberg-Marquardt iterations; the
 * full-size run is bench/sysid.ts). Hidden parameters are drawn within +-20 %
 * of nominal, with both joints' friction, dead zone and latency in the task's ranges, and
 * the data has encoder quantization and noise and a quantized, noisy current.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { simulateDataset } from "../../calibration/sysid/dataset.js";
import { defaultExcitation, keptExcitation, TravelKeeper } from "../../calibration/sysid/excitation.js";
import { fitParameters, type FitOptions } from "../../calibration/sysid/fit.js";
import { buildSysidParams, readSysidParams, writeSysidParams } from "../../calibration/sysid/params-file.js";
import { heldOutError, heldOutPart, writeSysidReport } from "../../calibration/sysid/report.js";
import { furutaSysidRig, symbolsToTargets, SYSID_SYMBOLS } from "../../calibration/sysid/rig.js";

const rig = furutaSysidRig();

function drawHidden(seed: number): Record<string, number> {
  const r = new Rng(seed);
  const hidden: Record<string, number> = {};
  for (const p of rig.params) if (p.space === "log") hidden[p.symbol] = p.nominal * r.uniform(0.8, 1.2);
  hidden.armFriction = r.uniform(0, 0.003);
  hidden.deadZone = r.uniform(0, 0.3);
  hidden.latency = r.uniform(0, 0.01);
  hidden.pendulumFriction = r.uniform(0, 5e-5);
  return hidden;
}

async function record(hidden: Record<string, number>, withCurrent: boolean) {
  const signal = defaultExcitation({ seconds: 6, controlDt: 0.01, seed: 7 });
  return simulateDataset({ rig, params: symbolsToTargets(rig, hidden), commands: keptExcitation(signal, new TravelKeeper({ controlDt: 0.01 })), steps: signal.length, current: withCurrent, seed: 7 });
}

/** Error judged like the fit's identifiability: relative, or against the significance scale near zero. */
function relError(symbol: string, fitted: number, truth: number): number {
  return Math.abs(fitted - truth) / Math.max(Math.abs(truth), rig.def(symbol).significance);
}

const SMALL: FitOptions = { holdOut: 0.25, cmaes: { seconds: 3, maxEvals: 150 }, lm: { maxIterations: 8 } };

test("with the current logged: identifiable parameters within 10 %, held-out error over 5x smaller than nominal", async () => {
  // Seed 2 draws almost no pendulum friction (5e-7 N m); issue #7 was Dp absorbing it (35 % off yet
  // flagged identifiable when it was not fitted), so it gets a magnitude from the top of the task's range.
  const hidden: Record<string, number> = { ...drawHidden(2), pendulumFriction: 3e-5 };
  const ds = await record(hidden, true);
  const fit = await fitParameters(ds, { ...SMALL, rig });
  const report = SYSID_SYMBOLS.map((s) => `${s}: fit ${fit.values[s]!.toExponential(3)} truth ${hidden[s]!.toExponential(3)} sd ${fit.stddev[s]!.toExponential(2)} ${fit.identifiable[s]}`).join("\n");
  // The current pins Rm and km, and with them the mass scale: all of these must come out identified.
  for (const s of ["Rm", "km", "Jr", "mp", "Dr", "Lp", "Lr", "deadZone", "latency"]) assert.ok(fit.identifiable[s], `${s} not identified\n${report}`);
  for (const s of SYSID_SYMBOLS) {
    if (fit.identifiable[s]) assert.ok(relError(s, fit.values[s]!, hidden[s]!) < 0.1, `${s} off by ${(100 * relError(s, fit.values[s]!, hidden[s]!)).toFixed(1)} %\n${report}`);
    assert.equal(fit.targets[fit.symbols[s]!], rig.toTable(s, fit.values[s]!));
  }
  assert.ok(fit.cost.fitted < fit.cost.nominal / 10, `cost ${fit.cost.nominal} -> ${fit.cost.fitted}`);
  assert.ok(fit.cost.fittedWithStates < 2, `with fitted initial states the residuals should be at the noise level: ${fit.cost.fittedWithStates}`);
  assert.ok(fit.sigmas.theta < 3e-3 && fit.sigmas.current < 0.02, JSON.stringify(fit.sigmas));

  const params = await buildSysidParams(ds, fit, { rig });
  assert.ok(params.fit.heldOutErrorFitted * 5 < params.fit.heldOutErrorNominal, `held-out error nominal ${params.fit.heldOutErrorNominal} vs fitted ${params.fit.heldOutErrorFitted}`);
  assert.equal(params.fit.heldOutErrorFitted, await heldOutError(heldOutPart(ds, fit), fit.values, { rig }));
  const dir = mkdtempSync(join(tmpdir(), "sysid-fit-"));
  writeSysidParams(join(dir, "params.json"), params);
  assert.deepEqual(readSysidParams(join(dir, "params.json")).values, fit.values);

  const { file, data } = await writeSysidReport(dir, ds, fit, { rig });
  assert.ok(existsSync(file));
  const html = readFileSync(file, "utf8");
  assert.ok(html.includes("<svg") && html.includes("Motor current, held out") && html.includes("Identified parameters"));
  assert.equal(data.t.length, fit.segments.heldOut![1] - fit.segments.heldOut![0]);
  assert.ok(data.error.fitted.combined < data.error.nominal.combined);
});

test("angles only: the mass scale and the km/Dr split are reported non-identifiable, the geometry is identified", async () => {
  const hidden = drawHidden(2);
  const ds = await record(hidden, false);
  const fit = await fitParameters(ds, { ...SMALL, rig, cmaes: false });
  const report = SYSID_SYMBOLS.map((s) => `${s}: fit ${fit.values[s]!.toExponential(3)} truth ${hidden[s]!.toExponential(3)} judged ${fit.judged[s]!.toExponential(2)}`).join("\n");
  for (const s of ["Rm", "km", "Jr", "mp", "Dr"]) assert.equal(fit.identifiable[s], false, `${s} reported identifiable without current\n${report}`);
  for (const s of ["Lp", "Lr", "latency"]) {
    assert.ok(fit.identifiable[s], `${s} not identified\n${report}`);
    assert.ok(relError(s, fit.values[s]!, hidden[s]!) < 0.1, `${s}\n${report}`);
  }
  assert.ok(fit.nullDirections.length >= 1, report);
  const top = fit.nullDirections[0]!.components;
  assert.ok(Math.abs(top.Rm ?? 0) > 0.3 || Math.abs(top.km ?? 0) > 0.3, JSON.stringify(fit.nullDirections));
});

test("bad fit options are clear errors", async () => {
  const ds = await record(drawHidden(1), true);
  await assert.rejects(fitParameters(ds, { rig, fit: ["Rm", "Q"] }), /unknown parameter symbol "Q"/);
  await assert.rejects(fitParameters(ds, { rig, fit: ["Rm", "Rm"] }), /listed twice/);
  await assert.rejects(fitParameters(ds, { rig, holdOut: 1 }), /holdOut must be a fraction/);
  await assert.rejects(fitParameters(ds, { rig, segmentSeconds: 30 }), /shorter than half a 30 s segment/);
  await assert.rejects(fitParameters(ds, { rig, fixed: { "links.pendulum.mass": 0.03 } }), /links\.pendulum\.mass is both held fixed and fitted \(as mp\)/);
  await assert.rejects(fitParameters({ ...ds, controlDt: 0.007 }, { rig }), /not a whole number of physics steps/);
  // An aborted signal stops the fit at the next generation.
  await assert.rejects(fitParameters(ds, { rig, signal: AbortSignal.abort(), cmaes: { seconds: 1 } }), /sysid fit aborted/);
});
