/**
 * Fits the simulator's physical parameters to a logged record.
 *
 * 1. The record is split: the last `holdOut` fraction is kept for scoring
 *    (report.ts), the rest cut into shooting segments (shooting.ts).
 * 2. CMA-ES (../cmaes.ts) searches every chosen parameter from the nominal
 *    values, on a subset of the segments started from their measured states.
 *    It is global enough to leave the nominal basin, and it ranks candidates
 *    only, so the kinks of the cost (Coulomb friction switching between
 *    stick and slip, a latency moving a command across a physics step) do
 *    not stall it.
 * 3. Levenberg-Marquardt (block-lm.ts) refines all parameters on all
 *    segments together with every segment's initial state (multiple
 *    shooting). Channel weights are re-estimated from the residuals and the
 *    refinement repeated when they moved, so each channel is weighted by its
 *    own noise (maximum likelihood with unknown variances). Latency is a
 *    smooth parameter here: the plant spreads a command switch over the
 *    physics step it falls in (sim/plant.ts), so the trajectory moves
 *    continuously with it.
 * 4. The Fisher information at the optimum (states marginalized) gives the
 *    standard deviations, the identifiable flags and the null directions
 *    (identifiability.ts), after its weak directions have been checked by
 *    measuring the cost's curvature along them (curvature-check.ts). Each
 *    standard deviation is the larger of that and the one from how the
 *    segments' own gradients scatter (a sandwich estimate, segments as
 *    independent clusters): with noise alone they agree as the information
 *    predicts; an unmodelled effect that differs between segments makes them
 *    disagree, and a weak parameter that soaks it up (Dp, traded against the
 *    pendulum's friction) is then reported as undetermined rather than as
 *    precise and wrong. Close calls are then checked on the cost itself:
 *    each is held a few standard deviations off while the rest is refitted,
 *    and widened when the cost rises less than the information says
 *    (without the current, the information can claim a few percent on the
 *    mass scale that refitting shows is not there).
 *
 * Everything runs on the calling thread (one core), yielding to the event
 * loop between generations and iterations so an abort signal is honoured.
 */
import { Cmaes, type CmaesStop } from "../cmaes.js";
import { blockInformation, blockLevenbergMarquardt, type BlockProblem } from "./block-lm.js";
import { SysidCoordinates } from "./coordinates.js";
import { validateDataset, type SysidDataset } from "./dataset.js";
import { checkWeakDirections, type DirectionCheck } from "./curvature-check.js";
import { analyzeIdentifiability, type CoordinateSpec, type ProfileCheck } from "./identifiability.js";
import { furutaSysidRig, SYSID_SYMBOLS, type SysidRig } from "./rig.js";
import { makeSegments, SegmentSimulator, STATE_SIZE, type ChannelSigmas, type Segment } from "./shooting.js";
import { STATE_PRIOR, STATE_STEP, statesFromCoordinates } from "./state-fit.js";

export interface FitOptions {
  rig?: SysidRig;
  /** Symbols to fit; default all of SYSID_SYMBOLS. */
  fit?: readonly string[];
  /** Table entries held at given values (by table name), e.g. a measured supply gain. */
  fixed?: Record<string, number>;
  /** Fraction of the record, at its end, kept out of the fit for scoring; default 0.2. */
  holdOut?: number;
  /** Shooting segment length, s; default 0.5. */
  segmentSeconds?: number;
  /** Starting physical values by symbol (default nominal), e.g. a previous fit's values. */
  start?: Record<string, number>;
  /** CMA-ES stage settings; false skips it (refine from `start` directly). */
  cmaes?: false | {
    /** Seconds of segments (spread over the record) CMA-ES evaluates; default 6. */
    seconds?: number;
    /** Evaluation budget; default 40 (n + 1) for n parameters. */
    maxEvals?: number;
    popSize?: number;
    /** Initial step in coordinate units (1 = a parameter's prior uncertainty); default 1. */
    sigma0?: number;
    seed?: number;
  };
  lm?: {
    /** Iterations of the first refinement; default 12 (the second gets half). */
    maxIterations?: number;
  };
  /** Channel standard deviations for the CMA-ES stage; default theta, alpha 0.01 rad, current 0.01 A. */
  sigmas?: Partial<ChannelSigmas>;
  /** A parameter is identifiable when its relative (or, near zero, significance-scaled) standard deviation is at most this; default 0.05. */
  threshold?: number;
  signal?: AbortSignal;
  /** Progress lines for a CLI. */
  log?: (line: string) => void;
}

export interface SysidFit {
  rig: string;
  /** Fitted physical values by rig symbol. */
  values: Record<string, number>;
  /** Standard deviations in the values' units; Infinity where the data does not determine the value. */
  stddev: Record<string, number>;
  identifiable: Record<string, boolean>;
  /** Relative (log parameters) or significance-scaled standard deviation each flag was judged on. */
  judged: Record<string, number>;
  /**
   * Per symbol, the standard deviation from the segments' scatter over the one from the information
   * (about 1 or below with white noise; the larger of the two is reported).
   */
  scatterRatio: Record<string, number>;
  /** Parameter-table values of the fitted symbols: ready for a "fixed" ParamSource. */
  targets: Record<string, number>;
  targetStddev: Record<string, number>;
  /** Symbol -> table entry. */
  symbols: Record<string, string>;
  /** Table entries that were held at given values (FitOptions.fixed). */
  fixed: Record<string, number>;
  /** Per fitted symbol, the other table entries its mapping read (they must keep their fit-time values). */
  pinned: Record<string, string[]>;
  /** Directions the data leaves undetermined (e.g. the mass scale without current). */
  nullDirections: { judged: number; components: Record<string, number> }[];
  /** Weak directions whose curvature was measured directly (see curvature-check.ts). */
  directionChecks: DirectionCheck[];
  /** Close calls whose cost profile was measured directly (see identifiability.ts). */
  profileChecks: ProfileCheck[];
  /** Mean squared weighted residual per compared sample, from the measured segment starts, with the final channel weights. */
  cost: { nominal: number; fitted: number; fittedWithStates: number };
  /** Final channel standard deviations (RMS residuals at the optimum). */
  sigmas: ChannelSigmas;
  /** Lag-one autocorrelation of the residuals at the optimum, and the covariance inflation it caused. */
  residualAutocorrelation: number;
  covarianceInflation: number;
  segments: {
    count: number;
    seconds: number;
    /** Sample ranges [from, to) used for the fit and kept out. */
    fit: [number, number];
    heldOut: [number, number] | null;
  };
  cmaes: { evaluations: number; generations: number; stop: CmaesStop | "skipped"; costStart: number; costBest: number };
  lm: { iterations: number; evaluations: number; converged: boolean };
  timing: { totalSeconds: number; cmaesSeconds: number; lmSeconds: number; identifiabilitySeconds: number; simulatedSeconds: number };
}

/**
 * Central-difference step of the parameters in coordinate units (1 % for log
 * parameters). Central, not forward: along the valleys the data barely
 * constrains (e.g. km with every mass), the directional derivative is a near
 * cancellation of large columns, and forward differences' O(h) errors there
 * turn Gauss-Newton steps into a crawl; large enough that single-precision
 * rounding in the simulator (a few 1e-5 rad) stays small in the quotient.
 */
const LM_STEP = 0.1;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error("sysid fit aborted");
}

/** Segments spread evenly over the record totalling about `seconds`. */
function spreadSubset(segments: readonly Segment[], controlDt: number, seconds: number): number[] {
  const total = segments.reduce((s, g) => s + (g.end - g.start) * controlDt, 0);
  if (total <= seconds) return segments.map((_, i) => i);
  const want = Math.max(1, Math.round((segments.length * seconds) / total));
  return Array.from({ length: want }, (_, k) => Math.floor(((k + 0.5) * segments.length) / want));
}

export async function fitParameters(dataset: SysidDataset, options: FitOptions = {}): Promise<SysidFit> {
  const started = performance.now();
  validateDataset(dataset);
  const log = options.log ?? (() => {});
  const rig = options.rig ?? furutaSysidRig();
  const coords = new SysidCoordinates(rig, options.fit ?? SYSID_SYMBOLS, rig.tableVector(options.fixed ?? {}));
  const P = coords.size;
  const threshold = options.threshold ?? 0.05;

  const holdOut = options.holdOut ?? 0.2;
  if (!(holdOut >= 0 && holdOut < 0.9)) throw new RangeError(`sysid: holdOut must be a fraction in [0, 0.9), got ${holdOut}`);
  const n = dataset.t.length;
  const nFit = n - Math.round(holdOut * n);
  const segmentSeconds = options.segmentSeconds ?? 0.5;
  const segments = makeSegments(dataset, segmentSeconds, 0, nFit);
  if (segments.length === 0) throw new Error(`sysid: the fitted part of the record (${nFit} samples) is shorter than half a ${segmentSeconds} s segment`);
  const sim = await SegmentSimulator.create(rig, dataset, segments, { statePrior: STATE_PRIOR });
  let simulatedSteps = 0;
  const countRows = (only?: readonly number[]) => (only ?? segments.map((_, i) => i)).reduce((s, i) => s + segments[i]!.end - segments[i]!.start, 0);
  const allRows = countRows();

  try {
    const buf = new Float64Array(sim.size);
    const cmaSigma: ChannelSigmas = { theta: 0.01, alpha: 0.01, current: 0.01, ...options.sigmas };

    // --- CMA-ES on a subset, from the measured segment starts.
    const tCma = performance.now();
    const cmaOpts = options.cmaes === false ? undefined : (options.cmaes ?? {});
    const subset = spreadSubset(segments, dataset.controlDt, cmaOpts?.seconds ?? 6);
    const subsetRows = countRows(subset);
    const subsetCost = (x: ArrayLike<number>): number => {
      buf.fill(0);
      simulatedSteps += subsetRows;
      if (!sim.residuals(coords.table(x), cmaSigma, buf, sim.measured, subset)) return Infinity;
      return sim.simulationCost(buf, subset);
    };
    const x0 = options.start ? coords.fromPhysical({ ...coords.physical(new Float64Array(P)), ...options.start }) : new Float64Array(P);
    for (let i = 0; i < P; i++) x0[i] = Math.min(coords.upper[i]!, Math.max(coords.lower[i]!, x0[i]!));
    const costStart = subsetCost(x0);
    if (!Number.isFinite(costStart)) throw new Error("sysid: the simulation diverges at the starting parameters");
    log(`sysid: ${segments.length} segments of ${segmentSeconds} s (${(allRows * dataset.controlDt).toFixed(1)} s), CMA-ES on ${subset.length}; start cost ${costStart.toExponential(3)}`);
    let cmaBest: Float64Array = x0;
    let cmaes: SysidFit["cmaes"] = { evaluations: 0, generations: 0, stop: "skipped", costStart, costBest: costStart };
    if (cmaOpts) {
      const es = new Cmaes({
        x0,
        sigma0: cmaOpts.sigma0 ?? 1,
        lower: coords.lower,
        upper: coords.upper,
        popSize: cmaOpts.popSize,
        seed: cmaOpts.seed ?? 1,
        maxEvals: cmaOpts.maxEvals ?? 40 * (P + 1),
        tolFun: costStart * 1e-6,
      });
      while (!es.stop) {
        const xs = es.ask();
        es.tell(xs.map(subsetCost));
        if (es.generations % 5 === 0) log(`sysid: CMA-ES generation ${es.generations}, ${es.evaluations} evaluations, best cost ${es.best.f.toExponential(3)}`);
        await yieldToLoop();
        checkAbort(options.signal);
      }
      if (es.best.f < costStart) cmaBest = es.best.x;
      cmaes = { evaluations: es.evaluations, generations: es.generations, stop: es.stop!, costStart, costBest: Math.min(es.best.f, costStart) };
    }
    const cmaesSeconds = (performance.now() - tCma) / 1000;

    // --- Levenberg-Marquardt with the initial states.
    const tLm = performance.now();
    let x: Float64Array = Float64Array.from(cmaBest);
    let s: Float64Array = new Float64Array(segments.length * STATE_SIZE);
    let sigma: ChannelSigmas = { ...cmaSigma };
    const states = new Float64Array(segments.length * STATE_SIZE);
    const statesOf = (sc: Float64Array) => statesFromCoordinates(sim, sc, states);
    const problem: BlockProblem = {
      P,
      blocks: segments.length,
      Q: STATE_SIZE,
      rowStart: sim.offsets,
      lower: coords.lower,
      upper: coords.upper,
      stepP: LM_STEP,
      central: true,
      stepS: STATE_STEP,
      residuals: (p, sc, out) => {
        simulatedSteps += allRows;
        return sim.residuals(coords.table(p), sigma, out, statesOf(sc));
      },
    };
    const reestimate = () => {
      buf.fill(0);
      sim.residuals(coords.table(x), sigma, buf, statesOf(s));
      const rms = sim.channelRms(buf, sigma);
      sigma = { theta: Math.max(rms.theta, 1e-5), alpha: Math.max(rms.alpha, 1e-5), current: sim.hasCurrent ? Math.max(rms.current, 1e-5) : 1 };
    };
    let lmIterations = 0;
    let lmEvaluations = 0;
    let lmConverged = false;
    const statesOnly: BlockProblem = { ...problem, fixed: new Set(coords.defs.map((_, i) => i)) };
    const refine = async (maxIterations: number, label: string, onlyStates = false): Promise<void> => {
      let lambda = 1e-3;
      for (let it = 0; it < maxIterations; it++) {
        const r = blockLevenbergMarquardt(onlyStates ? statesOnly : problem, x, s, { maxIterations: 1, lambda0: lambda, relTol: 2e-4 });
        x = r.p;
        s = r.s;
        lambda = r.lambda;
        lmIterations++;
        lmEvaluations += r.evaluations;
        lmConverged = r.converged;
        log(`sysid: ${label} iteration ${it + 1}, cost ${r.cost.toExponential(4)}, damping ${lambda.toExponential(1)}`);
        await yieldToLoop();
        checkAbort(options.signal);
        if (r.converged) break;
      }
    };
    // Channel weights from the CMA-ES optimum with the initial states fitted (a cheap
    // states-only pass: it keeps the 0.1 rad/s velocity-estimate error out of the weights).
    await refine(3, "initial states", true);
    reestimate();
    const maxIt = options.lm?.maxIterations ?? 12;
    await refine(maxIt, "refine");
    const before = sigma;
    reestimate();
    const changed = (["theta", "alpha", "current"] as const).some((c) => Math.abs(Math.log(sigma[c] / before[c])) > 0.1);
    if (changed) await refine(Math.max(1, Math.ceil(maxIt / 2)), "reweighted refine");
    const lmSeconds = (performance.now() - tLm) / 1000;

    const simRows = sim.simulationRows();
    const dof = Math.max(1, simRows - P - segments.length * STATE_SIZE);

    // --- Covariance and identifiability at the optimum (central differences with a doubled
    // step: rounding noise in the quotients reads as information, see BlockProblem.central).
    const tCheck = performance.now();
    const info = blockInformation({ ...problem, stepP: 2 * LM_STEP }, x, s);
    lmEvaluations += info.evaluations;
    // Residual variance, inflated by (1 + rho) / (1 - rho) for lag-one autocorrelation rho
    // of the residuals: correlated residuals (model error, on real data) carry less
    // independent information than their count suggests.
    const rho = sim.residualAutocorrelation(info.residuals);
    const inflation = rho > 0 ? Math.min(100, (1 + rho) / (1 - rho)) : 1;
    const variance = (sim.simulationCost(info.residuals) / dof) * inflation;
    const values = coords.physical(x);
    const specs: CoordinateSpec[] = coords.defs.map((d) => {
      const v = values[d.symbol]!;
      // Beyond a factor e^20 a "standard deviation" only says the data does not determine the value.
      const rel = (sd: number) => (sd * d.step > 20 ? Infinity : Math.expm1(sd * d.step));
      return d.space === "log"
        ? { name: d.symbol, judge: rel, toPhysical: (sd) => v * rel(sd) }
        : { name: d.symbol, judge: (sd) => (sd * d.step) / Math.max(Math.abs(v), d.significance), toPhysical: (sd) => sd * d.step };
    });
    // Directions that would pass as identified but are weak: measure their curvature directly
    // (curvature-check.ts), each side with the initial states refitted.
    const refitCost = (xx: Float64Array) => {
      const r = blockLevenbergMarquardt(statesOnly, xx, s, { maxIterations: 2, relTol: 1e-4 });
      lmEvaluations += r.evaluations;
      return r.cost;
    };
    const c0 = refitCost(x);
    /** Mean cost rise at x +- delta v (search coordinates), states refitted; undefined past a bound or where the simulation diverges. */
    const meanRise = (v: ArrayLike<number>, delta: number): number | undefined => {
      const xp = Float64Array.from(x, (xi, i) => xi + delta * v[i]!);
      const xm = Float64Array.from(x, (xi, i) => xi - delta * v[i]!);
      for (let i = 0; i < P; i++) if (xp[i]! < coords.lower[i]! || xp[i]! > coords.upper[i]! || xm[i]! < coords.lower[i]! || xm[i]! > coords.upper[i]!) return undefined;
      try {
        return (refitCost(xp) + refitCost(xm) - 2 * c0) / 2;
      } catch {
        return undefined; // the simulation diverged out there: no measurement along this direction
      }
    };
    /**
     * Mean cost rise with coordinate `index` held at x +- t dx[index]: the others start where
     * the quadratic model puts their conditional best (x +- t dx) and are refitted with the
     * initial states (one iteration each side: from there it finds most of what the model missed).
     */
    const profileRise = (index: number, dx: Float64Array, t: number): number | undefined => {
      const others: BlockProblem = { ...problem, fixed: new Set([index]) };
      let sum = 0;
      for (const sign of [1, -1]) {
        const start = Float64Array.from(x, (xi, j) => xi + sign * t * dx[j]!);
        for (let j = 0; j < P; j++) if (start[j]! < coords.lower[j]! || start[j]! > coords.upper[j]!) return undefined;
        try {
          const st = blockLevenbergMarquardt(statesOnly, start, s, { maxIterations: 2, relTol: 1e-4 });
          const r = blockLevenbergMarquardt(others, st.p, st.s, { maxIterations: 1 });
          lmEvaluations += st.evaluations + r.evaluations;
          sum += r.cost - c0;
        } catch {
          return undefined; // diverged out there
        }
      }
      return sum / 2;
    };
    const G = coords.reportJacobian(x);
    const checked = checkWeakDirections(
      info.information,
      P,
      variance,
      (v, sdAlong) => Math.max(...specs.map((c, i) => c.judge(Math.abs(v.reduce((a, vj, j) => a + G[i * P + j]! * vj, 0)) * sdAlong))),
      meanRise,
      { minWeakness: threshold / 5, maxWeakness: threshold, maxChecks: 4 },
    );
    for (const c of checked.checks) log(`sysid: weak direction check: curvature ${c.predicted.toExponential(2)} from the Jacobian, ${c.measured.toExponential(2)} measured`);
    // Judge in report coordinates (one per symbol); the search used Dr + km^2/Rm for Dr. When
    // Dr sits at its lower bound (the back-EMF explains all the arm's damping) the map is
    // singular there: judge in search coordinates and report Dr as undetermined.
    const infoReport = coords.informationInReport(x, checked.information);
    const scatterReport = infoReport ? coords.informationInReport(x, info.scoreScatter) : info.scoreScatter;
    const ident = analyzeIdentifiability(infoReport ?? checked.information, specs, variance, threshold, {
      scoreScatter: scatterReport,
      profile: {
        measure: (index, dy, t) => {
          // Dr's search coordinate is the total arm damping: holding it would not hold Dr.
          if (infoReport && coords.defs[index]!.symbol === "Dr") return undefined;
          const dx = infoReport ? coords.searchStep(x, dy) : dy;
          return dx && profileRise(index, dx, t);
        },
        // Each check costs about four Levenberg-Marquardt iterations: only the nearest calls.
        minJudged: threshold / 4,
        maxChecks: 3,
      },
    });
    log(`sysid: segment scatter / information standard deviation: ${Object.entries(ident.scatterRatio).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
    for (const c of ident.profileChecks) log(`sysid: profile check of ${c.name}: cost rise ${c.predicted.toFixed(1)} from the information, ${c.measured.toFixed(1)} measured`);
    if (!infoReport) {
      log("sysid: Dr is at its lower bound; it is reported as not determined");
      ident.stddev.Dr = Infinity;
      ident.judged.Dr = Infinity;
      ident.identifiable.Dr = false;
    }
    const checkSeconds = (performance.now() - tCheck) / 1000;

    // --- Costs from the measured starts (comparable between nominal and fitted).
    const meanCost = (xx: ArrayLike<number>, st: Float64Array) => {
      buf.fill(0);
      sim.residuals(coords.table(xx), sigma, buf, st);
      return sim.simulationCost(buf) / simRows;
    };
    const costNominal = meanCost(new Float64Array(P), sim.measured);
    const costFitted = meanCost(x, sim.measured);
    const costWithStates = meanCost(x, statesOf(s));

    const targets: Record<string, number> = {};
    const targetStddev: Record<string, number> = {};
    const symbols: Record<string, string> = {};
    const pinned: Record<string, string[]> = {};
    const stddev: Record<string, number> = {};
    const identifiable: Record<string, boolean> = {};
    const judged: Record<string, number> = {};
    for (const d of coords.defs) {
      const v = values[d.symbol]!;
      symbols[d.symbol] = d.target;
      if (d.pins.length) pinned[d.symbol] = [...d.pins];
      targets[d.target] = rig.toTable(d.symbol, v, coords.base);
      stddev[d.symbol] = ident.stddev[d.symbol]!;
      identifiable[d.symbol] = ident.identifiable[d.symbol]!;
      judged[d.symbol] = ident.judged[d.symbol]!;
      // Every symbol -> table map is linear in the value, so the standard deviation maps by the slope.
      const slope = rig.toTable(d.symbol, v + 1e-3 * Math.max(Math.abs(v), 1e-9), coords.base) - targets[d.target]!;
      targetStddev[d.target] = Math.abs(slope / (1e-3 * Math.max(Math.abs(v), 1e-9))) * stddev[d.symbol]!;
    }
    const totalSeconds = (performance.now() - started) / 1000;
    log(`sysid: done in ${totalSeconds.toFixed(1)} s; cost ${costNominal.toExponential(3)} -> ${costFitted.toExponential(3)} (with fitted states ${costWithStates.toExponential(3)})`);
    return {
      rig: rig.name,
      values,
      stddev,
      identifiable,
      judged,
      scatterRatio: { ...ident.scatterRatio },
      targets,
      targetStddev,
      symbols,
      fixed: { ...(options.fixed ?? {}) },
      pinned,
      nullDirections: ident.nullDirections,
      directionChecks: checked.checks,
      profileChecks: ident.profileChecks,
      cost: { nominal: costNominal, fitted: costFitted, fittedWithStates: costWithStates },
      sigmas: sigma,
      residualAutocorrelation: rho,
      covarianceInflation: inflation,
      segments: { count: segments.length, seconds: segmentSeconds, fit: [0, nFit], heldOut: nFit < n ? [nFit, n] : null },
      cmaes,
      lm: { iterations: lmIterations, evaluations: lmEvaluations, converged: lmConverged },
      timing: { totalSeconds, cmaesSeconds, lmSeconds, identifiabilitySeconds: checkSeconds, simulatedSeconds: simulatedSteps * dataset.controlDt },
    };
  } finally {
    sim.dispose();
  }
}
