/**
 * A `s2r sysid record` log (MCAP) read back into the sysid core's dataset.
 *
 * Between the excitation phase's "started" and "done" events, each cycle
 * logged a /joint_states message (read time; calibrated angles; the motor
 * current as the arm's effort) and then a /commands message (the volts
 * written after the safety layer). Sample k is such a pair: t[k] is the
 * joint state's log time, volts[k] the command written right after it. A
 * joint state without its command (the write failed) is dropped; the gap in
 * time then ends a shooting segment in the fit. A log cut short (crash,
 * Ctrl-C) gives the samples up to where it stops.
 */
import { ConfigError } from "../../common/schema.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { TOPICS } from "../../robot/log/session-log.js";
import { validateDataset, type SysidDataset } from "../sysid/dataset.js";
import { EXCITATION_PHASE, type SysidChannels } from "./sysid-channels.js";

export interface SysidLog {
  dataset: SysidDataset;
  /** The log's metadata (rig, calibration, excitation settings...). */
  metadata: Record<string, string>;
  /** Rig named in the metadata. */
  rig: string | undefined;
  /** Joint states in the excitation without a command after them. */
  droppedSamples: number;
  /** The excitation ran to its end (its "done" event is in the log). */
  complete: boolean;
  /** Why the file stops short, when it does. */
  truncation: string | undefined;
}

export async function readSysidLog(file: string, ch: SysidChannels): Promise<SysidLog> {
  const t: number[] = [];
  const volts: number[] = [];
  const theta: number[] = [];
  const alpha: number[] = [];
  const current: number[] = [];
  let inside = false;
  let started = false;
  let complete = false;
  let dropped = 0;
  let pending: { time: bigint; theta: number; alpha: number; current: number } | undefined;
  let t0: bigint | undefined;
  let indices: { theta: number; alpha: number } | undefined;
  const contents = await readSessionLog(file, {
    topics: [TOPICS.events, TOPICS.jointStates, TOPICS.commands],
    onMessage: (m) => {
      if (m.topic === TOPICS.events) {
        const msg = String(m.decode().msg);
        if (msg.startsWith(`${EXCITATION_PHASE}: started`)) {
          // Started again after a recovery: the samples before are an incomplete run; the fit takes the last.
          for (const a of [t, volts, theta, alpha, current]) a.length = 0;
          pending = undefined;
          t0 = undefined;
          dropped = 0;
          complete = false;
          inside = true;
          started = true;
        } else if (msg.startsWith(`${EXCITATION_PHASE}: done`)) {
          inside = false;
          complete = true;
        }
        return;
      }
      if (!inside) return;
      if (m.topic === TOPICS.jointStates) {
        if (pending) dropped++;
        const js = m.decode() as { name: string[]; position: ArrayLike<number>; effort: ArrayLike<number> };
        if (!indices) {
          indices = { theta: js.name.indexOf(ch.theta), alpha: js.name.indexOf(ch.alpha) };
          if (indices.theta < 0 || indices.alpha < 0) throw new ConfigError(TOPICS.jointStates, `the joint states name [${js.name.join(", ")}]; the fit needs ${ch.theta} and ${ch.alpha}`, file);
        }
        pending = { time: m.logTime, theta: js.position[indices.theta]!, alpha: js.position[indices.alpha]!, current: js.effort.length ? js.effort[indices.theta]! : NaN };
        return;
      }
      // A command: it belongs to the joint state just before it.
      if (!pending) return;
      const data = (m.decode() as { data: ArrayLike<number> }).data;
      t0 ??= pending.time;
      t.push(Number(pending.time - t0) / 1e9);
      volts.push(data[0]!);
      theta.push(pending.theta);
      alpha.push(pending.alpha);
      current.push(pending.current);
      pending = undefined;
    },
  });
  if (contents.session !== "sysid") throw new ConfigError("", `this is a ${contents.session ?? "non-s2r"} session log, not a s2r sysid record log`, file);
  if (!started) throw new ConfigError("", `no "${EXCITATION_PHASE}" phase in this log: the record stopped before the excitation began`, file);
  if (t.length < 2) throw new ConfigError("", `only ${t.length} excitation sample(s) in this log: nothing to fit`, file);
  const controlDt = Number(contents.metadata.control_dt ?? ch.controlDt);
  if (Math.abs(controlDt - ch.controlDt) > 1e-9) throw new ConfigError("metadata.control_dt", `the record ran at ${controlDt} s, the fit's simulator steps at ${ch.controlDt} s`, file);
  const dataset: SysidDataset = {
    t: Float64Array.from(t),
    volts: Float64Array.from(volts),
    theta: Float64Array.from(theta),
    alpha: Float64Array.from(alpha),
    controlDt,
  };
  // The current is used only when every sample has one (a rig that reports no current gives angles only).
  if (current.every((x) => Number.isFinite(x))) dataset.current = Float64Array.from(current);
  validateDataset(dataset, file);
  return { dataset, metadata: contents.metadata, rig: contents.metadata.rig, droppedSamples: dropped + (pending ? 1 : 0), complete, truncation: contents.truncation };
}
