/**
 * A deployment session: episodes of the rig's task, each started from rest
 * (optional homing, then torque off until every joint hangs still), run by
 * the control loop, and judged by the task's success rule. Any fault or an
 * interrupt ends the session: torque off first, then the log is closed, then
 * the result says why.
 */

import { BusSilenceError, HardwareError, type HardwareInterface } from "../hardware/interface.js";
import type { SessionLog } from "../log/session-log.js";
import type { Intervention } from "../safety.js";
import type { RigConfig } from "../rigs/rig-config.js";
import { deactivateProblemsOf, runControlLoop, type LoopPerception, type LoopPolicy, type LoopResult, type StopReason, type Ticker } from "./control-loop.js";
import { createEpisodeScorer } from "./episode-scorer.js";
import type { PolicyBinding } from "./policy-binding.js";
import { implausiblePositions, rigSafetyLayer } from "./rig-safety.js";
import { homeJoint, waitUntilStill } from "./settle.js";
import { warmingTimer, type WarmablePolicy } from "./warm-policy.js";
import { warmUp } from "./warm-up.js";

export interface DeploySessionOptions {
  hardware: HardwareInterface;
  /** With warm(), the loop keeps it warm while it would sleep (robot/control/warm-policy.ts). */
  policy: LoopPolicy & { warm?(): void };
  binding: PolicyBinding;
  rig: RigConfig;
  /** Closed by the session before it returns. */
  log: SessionLog;
  episodes: number;
  episodeSeconds: number;
  signal?: AbortSignal;
  /** Joints seen through a camera (CameraPerception): their estimates replace the encoders in the observation. close() (its camera log's pending frames) runs before the session log closes. */
  perception?: LoopPerception & { close?(): Promise<void> };
  /** Makes the tickers of the loop, homing and settle wait; default real time (PeriodicTimer). */
  ticker?: (periodSec: number) => Ticker;
  /** Skip homing and the settle wait (e.g. a simulated robot that starts at rest). */
  skipSettle?: boolean;
  onEpisode?: (report: EpisodeReport) => void;
  /** Status lines for the person at the rig ("waiting for the pendulum to hang still"). */
  onStatus?: (line: string) => void;
}

export interface EpisodeReport {
  /** 1-based. */
  episode: number;
  success: boolean;
  reason: StopReason;
  message: string;
  /** Episode time run, s. */
  seconds: number;
  cycles: number;
  /** Largest |command| written per actuator, in the command unit. */
  peakCommand: number[];
  commandUnit: string;
  deadlineMisses: number;
  /** Late cycles by cause, longest stale state, read retries. */
  deadlineStats: LoopResult["deadlineStats"];
  interventions: Record<Intervention, number>;
  timingMicros: LoopResult["timingMicros"];
  /** The task's figures (e.g. secondsUpright, bestHoldSeconds, stopContact). */
  metrics: Record<string, number>;
  /** Time spent waiting for the rig to come to rest before the episode, s. */
  settleSeconds: number;
}

export type SessionStopReason = StopReason | "settle_timeout" | "refused";

export interface DeploySessionResult {
  episodes: EpisodeReport[];
  /** "completed" when every episode ran. */
  reason: SessionStopReason;
  fault: boolean;
  message: string;
}

export async function runDeploySession(o: DeploySessionOptions): Promise<DeploySessionResult> {
  const hw = o.hardware;
  const { binding, rig, log } = o;
  const period = binding.periodSec;
  const ticker: (periodSec: number) => Ticker | undefined = o.ticker ?? (() => undefined);
  // A policy with warm() is kept warm in the time the loop sleeps (robot/control/warm-policy.ts).
  const warmable = o.policy.warm ? (o.policy as WarmablePolicy) : undefined;
  const loopTicker = (periodSec: number): Ticker | undefined => ticker(periodSec) ?? (warmable ? warmingTimer(periodSec, warmable) : undefined);
  const safety = rigSafetyLayer(rig, hw.jointNames, hw.commandNames);
  const scorer = createEpisodeScorer(rig.task, binding.taskConfig, hw.jointNames, rig);
  const maxCycles = Math.max(1, Math.round(o.episodeSeconds / period));
  const status = o.onStatus ?? (() => {});
  const episodes: EpisodeReport[] = [];
  let reason: SessionStopReason = "completed";
  let fault = false;
  let message = `${o.episodes} episode${o.episodes === 1 ? "" : "s"} run`;

  const deadlines = rig.safety.deadlines.deploy;
  /** Homing and settling before episode `ep`: why the session must stop, or how long settling took. */
  const prepare = async (ep: number): Promise<{ reason: SessionStopReason; fault: boolean; message: string } | { settleSeconds: number }> => {
    let settleSeconds = 0;
    const before = await hw.read();
    const bad = implausiblePositions(rig, hw.jointNames, before.position);
    if (bad) {
      log.event("error", `episode ${ep}: refused to start: ${bad}`);
      return { reason: "refused", fault: true, message: bad };
    }
    if (!o.skipSettle) {
      const home = rig.episodes.home;
      if (home) {
        status(`episode ${ep}: bringing ${home.joint} back to ${home.target}`);
        const h = await homeJoint(hw, { home, safety, pollHz: rig.episodes.settle.pollHz, signal: o.signal, ticker: ticker(1 / rig.episodes.settle.pollHz), readRetryForSec: deadlines.staleStateSec });
        if (h.interrupted) {
          return { reason: "interrupted", fault: false, message: "interrupted while homing" };
        }
        log.event(h.reached ? "info" : "warn", `episode ${ep}: homing ${h.reached ? "reached" : "did not reach"} ${home.joint} = ${home.target} (error ${h.error.toFixed(3)} rad, ${h.seconds.toFixed(1)} s)`);
      }
      status(`episode ${ep}: torque off, waiting for the joints to hang still (steady the pendulum by hand to speed this up)`);
      const s = await waitUntilStill(hw, { settle: rig.episodes.settle, signal: o.signal, ticker: ticker(1 / rig.episodes.settle.pollHz) });
      settleSeconds = s.seconds;
      if (s.interrupted) {
        return { reason: "interrupted", fault: false, message: "interrupted while waiting for the rig to come to rest" };
      }
      if (!s.still) {
        const message = `the joints did not come to rest within ${rig.episodes.settle.timeoutSeconds} s before episode ${ep}`;
        log.event("error", message);
        return { reason: "settle_timeout", fault: true, message };
      }
      const after = await hw.read();
      const moved = implausiblePositions(rig, hw.jointNames, after.position);
      if (moved) {
        log.event("error", `episode ${ep}: refused to start: ${moved}`);
        return { reason: "refused", fault: true, message: moved };
      }
    }
    return { settleSeconds };
  };

  /**
   * Before the first episode, the loop's work untimed with torque off (read,
   * observation, policy step, safety filter; no write), so episode 1's first
   * timed cycle does not pay for V8 compiling it (warm-up.ts). The loop
   * resets the policy and the observation when it starts.
   */
  let warmed = false;
  const warmUpLoop = async () => {
    const obs = new Float32Array(binding.observation.size);
    const noAction = new Float32Array(binding.actions.size);
    const clipped = new Float32Array(binding.actions.size);
    const command = new Float64Array(binding.actions.size);
    const safe = new Float64Array(binding.actions.size);
    await warmUp({
      hardware: hw,
      periodSec: period,
      ticker: loopTicker(period),
      retryForSec: deadlines.staleStateSec,
      log,
      label: "deploy",
      signal: o.signal,
      body: (frame) => {
        binding.observation.build(frame.position, noAction, obs);
        binding.actions.apply(o.policy.step(obs).action, clipped, command);
        safety.filter(command, frame.position, frame.velocity, safe, 0);
      },
    });
  };

  log.event("info", `deploy on ${hw.name}: ${o.episodes} episode(s) of ${o.episodeSeconds} s at ${(1 / period).toFixed(1)} Hz`);
  try {
    let recoveries = 0;
    for (let ep = 1; ep <= o.episodes; ep++) {
      if (o.signal?.aborted) {
        reason = "interrupted";
        message = "interrupted between episodes";
        break;
      }
      // The bus falling silent while homing or settling costs a recovery, not the session: torque off, pause, this episode again.
      let prepared;
      try {
        prepared = await prepare(ep);
      } catch (e) {
        if (!(e instanceof BusSilenceError) || recoveries >= deadlines.recoveries) throw e;
        recoveries++;
        await hw.deactivate();
        log.event("warn", `episode ${ep}: ${e.message} while preparing; torque off, preparing again (recovery ${recoveries} of ${deadlines.recoveries})`);
        status(`episode ${ep}: the bus fell silent while preparing; preparing again (recovery ${recoveries} of ${deadlines.recoveries})`);
        await new Promise((r) => setTimeout(r, RECOVERY_PAUSE_MS));
        ep--;
        continue;
      }
      if ("reason" in prepared) {
        ({ reason, fault, message } = prepared);
        break;
      }
      const settleSeconds = prepared.settleSeconds;
      if (!warmed) {
        await warmUpLoop();
        warmed = true;
      }
      scorer.reset();
      log.event("info", `episode ${ep} started`);
      await hw.activate();
      const r = await runControlLoop({
        hardware: hw,
        policy: o.policy,
        observation: binding.observation,
        actions: binding.actions,
        safety,
        log,
        periodSec: period,
        maxCycles,
        deadlines,
        ticker: loopTicker(period),
        signal: o.signal,
        osi: binding.osi,
        label: `episode ${ep}`,
        perception: o.perception,
        onCycle: (c) => scorer.update(c.frame.position, c.frame.velocity, period, c.time),
      });
      const ranToEnd = r.reason === "completed" || r.reason === "task_ended";
      // A timing fault (late-cycle limit, bus silent) ends this episode, not the session, while the rig's deploy recoveries last.
      const timingFault = r.reason === "deadline_limit" || (r.reason === "hardware_error" && r.error instanceof BusSilenceError);
      const recovering = timingFault && recoveries < deadlines.recoveries;
      if (recovering) {
        recoveries++;
        r.deadlineStats.recoveries++;
      }
      const report: EpisodeReport = {
        episode: ep,
        success: ranToEnd && scorer.success(),
        reason: r.reason,
        message: r.message,
        seconds: r.cycles * period,
        cycles: r.cycles,
        peakCommand: r.peakCommand,
        commandUnit: hw.commandUnit,
        deadlineMisses: r.deadlineMisses,
        deadlineStats: r.deadlineStats,
        interventions: r.interventions,
        timingMicros: r.timingMicros,
        metrics: scorer.metrics(),
        settleSeconds,
      };
      episodes.push(report);
      log.event(report.success ? "info" : "warn", `episode ${ep}: ${report.success ? "success" : "no success"} (${r.reason}); ${JSON.stringify(report.metrics)}`);
      o.onEpisode?.(report);
      if (recovering) {
        log.event("warn", `episode ${ep}: ${r.message}; torque is off, going on with the next episode (recovery ${recoveries} of ${deadlines.recoveries})`);
        status(`episode ${ep}: ${r.reason}: ${r.message}; going on with the next episode (recovery ${recoveries} of ${deadlines.recoveries})`);
        continue;
      }
      if (r.fault || r.reason === "interrupted") {
        reason = r.reason;
        fault = r.fault;
        message = `episode ${ep}: ${r.message}`;
        break;
      }
    }
  } catch (e) {
    // Outside the control loop (activation, homing, settle reads): torque off first.
    await hw.deactivate();
    reason = e instanceof HardwareError ? "hardware_error" : "error";
    fault = true;
    message = (e as Error)?.message ?? String(e);
    const problems = deactivateProblemsOf(hw);
    if (problems.length) message += `; torque off not confirmed: ${problems.join("; ")}`;
    try {
      log.event("error", `deploy stopped: ${message}`);
    } catch {
      /* the reason is returned anyway */
    }
  }
  try {
    log.event(fault ? "error" : "info", `deploy session ended (${reason}): ${message}`);
  } catch {
    /* closing below still tries to save what was logged */
  }
  try {
    await o.perception?.close?.();
  } catch (e) {
    message += `; camera log: ${(e as Error).message}`;
  }
  try {
    await log.close();
  } catch (e) {
    // Torque is already off; say what of the log is lost instead of throwing past the result.
    fault = true;
    message += `; ${(e as Error).message}`;
  }
  return { episodes, reason, fault, message };
}

/** Pause between torque off and preparing again after the bus fell silent: lets a stalled bus path drain. */
const RECOVERY_PAUSE_MS = 200;
