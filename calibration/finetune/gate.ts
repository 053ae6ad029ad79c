/**
 * The fine-tune session's last word: does the candidate policy replace the
 * incumbent on this robot? Robot episodes are few (4 or so each), so the
 * decision is made on posterior evidence, not on point estimates: a candidate
 * that happened to succeed once more than the incumbent is not yet better.
 *
 * - Any safety trip in the candidate's episodes rejects it outright.
 * - Success rates: with uniform priors the rates have Beta(1 + s, 1 + f)
 *   posteriors; the candidate is accepted when P(candidate's rate > the
 *   incumbent's) >= confidence.
 * - When the two observed success rates are equal, the return decides: the
 *   candidate is accepted when the one-sided lower confidence bound (Welch)
 *   of its mean return minus the incumbent's is above zero.
 * - Otherwise the incumbent stays: "tie" when neither is credibly better,
 *   "reject" when the incumbent is credibly better or the candidate tripped.
 *
 * So a robot the incumbent already masters keeps the incumbent (or takes a
 * candidate that is as successful and credibly better on return): never a
 * regression that the episodes could have shown.
 */
import { probBetaGreater, studentTQuantile } from "../../common/stats.js";

export interface GateEpisode {
  success: boolean;
  /** The task's return of the episode (or any score where higher is better). */
  return: number;
  /** A safety limit stopped it (hard-stop guard, deadline limits, hardware fault). */
  safetyTrip?: boolean;
}

export interface GateSide {
  episodes: number;
  successes: number;
  successRate: number;
  meanReturn: number;
  safetyTrips: number;
}

export interface GateDecision {
  verdict: "accept" | "reject" | "tie";
  /** True only for "accept". */
  accept: boolean;
  /** One line for people. */
  reason: string;
  candidate: GateSide;
  incumbent: GateSide;
  /** P(candidate's success rate > incumbent's) under the Beta posteriors. */
  probSuccessBetter: number;
  /** One-sided lower bound of mean return difference (candidate - incumbent) at the confidence, when computed. */
  returnDifferenceLowerBound?: number;
}

export interface GateOptions {
  /** Posterior probability / one-sided confidence required to accept; default 0.9. */
  confidence?: number;
}

function side(eps: readonly GateEpisode[]): GateSide {
  const successes = eps.filter((e) => e.success).length;
  const meanReturn = eps.length ? eps.reduce((a, e) => a + e.return, 0) / eps.length : NaN;
  return { episodes: eps.length, successes, successRate: eps.length ? successes / eps.length : NaN, meanReturn, safetyTrips: eps.filter((e) => e.safetyTrip).length };
}

function variance(xs: readonly number[], mean: number): number {
  return xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
}

/** One-sided lower confidence bound of mean(a) - mean(b) (Welch's t, Welch-Satterthwaite degrees of freedom). */
export function welchLowerBound(a: readonly number[], b: readonly number[], confidence: number): number {
  if (a.length < 2 || b.length < 2) return -Infinity;
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  const va = variance(a, ma) / a.length;
  const vb = variance(b, mb) / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return ma - mb;
  const dof = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return ma - mb - studentTQuantile(confidence, dof) * se;
}

export function decideGate(incumbent: readonly GateEpisode[], candidate: readonly GateEpisode[], options: GateOptions = {}): GateDecision {
  const confidence = options.confidence ?? 0.9;
  if (!(confidence > 0.5 && confidence < 1)) throw new RangeError(`gate confidence must be in (0.5, 1), got ${confidence}`);
  for (const [name, eps] of [["incumbent", incumbent], ["candidate", candidate]] as const) {
    eps.forEach((e, i) => {
      if (!Number.isFinite(e.return)) throw new RangeError(`gate: ${name} episode ${i + 1} has a non-finite return (${e.return})`);
    });
  }
  const c = side(candidate);
  const inc = side(incumbent);
  const base = { candidate: c, incumbent: inc };
  const pct = (s: GateSide) => `${s.successes}/${s.episodes}`;
  if (c.episodes === 0) return { ...base, verdict: "reject", accept: false, probSuccessBetter: 0, reason: "the candidate ran no episode on the robot" };
  if (c.safetyTrips > 0) {
    return { ...base, verdict: "reject", accept: false, probSuccessBetter: 0, reason: `a safety limit stopped ${c.safetyTrips} of the candidate's ${c.episodes} episodes` };
  }
  const pBetter = probBetaGreater(1 + c.successes, 1 + c.episodes - c.successes, 1 + inc.successes, 1 + inc.episodes - inc.successes);
  if (pBetter >= confidence) {
    return { ...base, verdict: "accept", accept: true, probSuccessBetter: pBetter, reason: `candidate succeeded in ${pct(c)} episodes against the incumbent's ${pct(inc)}: P(better) = ${pBetter.toFixed(3)} >= ${confidence}` };
  }
  if (inc.episodes > 0 && c.successRate === inc.successRate) {
    const lb = welchLowerBound(candidate.map((e) => e.return), incumbent.map((e) => e.return), confidence);
    if (lb > 0) {
      return {
        ...base, verdict: "accept", accept: true, probSuccessBetter: pBetter, returnDifferenceLowerBound: lb,
        reason: `equal success (${pct(c)} and ${pct(inc)}); the candidate's return is higher by at least ${lb.toPrecision(3)} at ${confidence} confidence`,
      };
    }
    return { ...base, verdict: "tie", accept: false, probSuccessBetter: pBetter, returnDifferenceLowerBound: lb, reason: `equal success (${pct(c)} and ${pct(inc)}) and no credible gain in return: the incumbent stays` };
  }
  const pWorse = 1 - pBetter;
  if (pWorse >= confidence) {
    return { ...base, verdict: "reject", accept: false, probSuccessBetter: pBetter, reason: `candidate succeeded in ${pct(c)} episodes against the incumbent's ${pct(inc)}: the incumbent is better (P = ${pWorse.toFixed(3)})` };
  }
  return { ...base, verdict: "tie", accept: false, probSuccessBetter: pBetter, reason: `candidate ${pct(c)} against incumbent ${pct(inc)}: P(better) = ${pBetter.toFixed(3)} < ${confidence}, not enough evidence; the incumbent stays` };
}
