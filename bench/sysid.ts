/**
 * The full-size system identification acceptance run: 20 s of simulated
 * identification data (chirp then PRBS at 5 V with travel keeping; hidden
 * parameters within +-20 % of nominal, both joints' friction, dead zone and
 * latency in the task's ranges; quantized noisy encoders and current), the default fit (the
 * last 20 % held out), and the held-out error of nominal vs fitted
 * parameters. Prints relative errors per parameter (against the value, or
 * the parameter's significance scale when the value is near zero), the
 * held-out error ratio and timings; all on this one thread. Then the same
 * record without the current channel: the mass scale must come out
 * non-identifiable (noCurrent_* figures; skipped with `quick`).
 */
import { Rng } from "../common/rng.js";
import { simulateDataset } from "../calibration/sysid/dataset.js";
import { defaultExcitation, keptExcitation, TravelKeeper } from "../calibration/sysid/excitation.js";
import { fitParameters } from "../calibration/sysid/fit.js";
import { buildSysidParams } from "../calibration/sysid/params-file.js";
import { furutaSysidRig, symbolsToTargets, SYSID_SYMBOLS } from "../calibration/sysid/rig.js";

export async function benchSysid(o: { quick?: boolean; log?: (line: string) => void; seed?: number } = {}): Promise<Record<string, number>> {
  const log = o.log ?? (() => {});
  const seconds = o.quick ? 8 : 20;
  const seed = o.seed ?? 1;
  const rig = furutaSysidRig();
  const r = new Rng(seed);
  const hidden: Record<string, number> = {};
  for (const p of rig.params) if (p.space === "log") hidden[p.symbol] = p.nominal * r.uniform(0.8, 1.2);
  hidden.armFriction = r.uniform(0, 0.003);
  hidden.deadZone = r.uniform(0, 0.3);
  hidden.latency = r.uniform(0, 0.01);
  hidden.pendulumFriction = r.uniform(0, 5e-5);
  log(`sysid bench: ${seconds} s of data, hidden ${JSON.stringify(hidden)}`);

  const signal = defaultExcitation({ seconds, controlDt: rig.setup.config.controlDt, seed });
  const ds = await simulateDataset({ rig, params: symbolsToTargets(rig, hidden), commands: keptExcitation(signal, new TravelKeeper({ controlDt: rig.setup.config.controlDt })), steps: signal.length, seed });
  const t0 = performance.now();
  const fit = await fitParameters(ds, { rig, log });
  const fitSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const params = await buildSysidParams(ds, fit, { rig });
  const heldOutSeconds = (performance.now() - t1) / 1000;

  const out: Record<string, number> = {};
  let worstIdentified = 0;
  let identified = 0;
  for (const s of SYSID_SYMBOLS) {
    const err = Math.abs(fit.values[s]! - hidden[s]!) / Math.max(Math.abs(hidden[s]!), rig.def(s).significance);
    out[`relErr_${s}`] = Number(err.toExponential(3));
    out[`identifiable_${s}`] = fit.identifiable[s] ? 1 : 0;
    if (fit.identifiable[s]) {
      identified++;
      worstIdentified = Math.max(worstIdentified, err);
    }
  }
  if (!o.quick) {
    const angles = { ...ds };
    delete angles.current;
    const t2 = performance.now();
    const blind = await fitParameters(angles, { rig, log });
    out.noCurrent_fitSeconds = Number(((performance.now() - t2) / 1000).toFixed(1));
    for (const s of SYSID_SYMBOLS) out[`noCurrent_identifiable_${s}`] = blind.identifiable[s] ? 1 : 0;
    out.noCurrent_massScaleFlagged = ["Rm", "km", "Jr", "mp", "Dr", "Dp"].every((s) => !blind.identifiable[s]) ? 1 : 0;
    out.noCurrent_nullDirections = blind.nullDirections.length;
    let worst = 0;
    for (const s of SYSID_SYMBOLS) {
      if (!blind.identifiable[s]) continue;
      worst = Math.max(worst, Math.abs(blind.values[s]! - hidden[s]!) / Math.max(Math.abs(hidden[s]!), rig.def(s).significance));
    }
    out.noCurrent_worstIdentifiedRelErr = Number(worst.toExponential(3));
  }
  return {
    dataSeconds: seconds,
    ...out,
    identifiedCount: identified,
    worstIdentifiedRelErr: Number(worstIdentified.toExponential(3)),
    heldOutErrorNominal: Number(params.fit.heldOutErrorNominal.toExponential(3)),
    heldOutErrorFitted: Number(params.fit.heldOutErrorFitted.toExponential(3)),
    heldOutRatio: Number((params.fit.heldOutErrorNominal / params.fit.heldOutErrorFitted).toFixed(1)),
    costRatio: Number((fit.cost.nominal / fit.cost.fitted).toFixed(1)),
    fitSeconds: Number(fitSeconds.toFixed(1)),
    cmaesSeconds: Number(fit.timing.cmaesSeconds.toFixed(1)),
    lmSeconds: Number(fit.timing.lmSeconds.toFixed(1)),
    heldOutScoringSeconds: Number(heldOutSeconds.toFixed(1)),
    cmaesEvaluations: fit.cmaes.evaluations,
    lmIterations: fit.lm.iterations,
    simulatedSeconds: Math.round(fit.timing.simulatedSeconds),
    simulatedSecondsPerWallSecond: Number((fit.timing.simulatedSeconds / fitSeconds).toFixed(1)),
  };
}

// `node bench/sysid.js [--quick]` prints the figures as JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchSysid({ quick: process.argv.includes("--quick"), log: (l) => console.error(l) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
