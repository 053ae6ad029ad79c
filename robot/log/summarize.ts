/**
 * What a session did, from its log: kind and metadata, when and how long,
 * message counts and rates per channel, events, and control-loop timing.
 * Backs `s2r log summary`.
 */
import { decodeImageMessage, isImageChannel } from "./image-messages.js";
import { readSessionLog, type LoggedMessage } from "./read-session-log.js";
import { levelName, LOG_LEVELS } from "./schemas.js";
import { isoFromNs, TOPICS } from "./session-log.js";

export interface SummaryEvent {
  time: string;
  /** Seconds since the session started. */
  offsetSeconds: number;
  level: string;
  name: string;
  msg: string;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface TimingSummary {
  cycles: number;
  periodMs: Percentiles;
  targetPeriodMs: number;
  /** |period - target| */
  jitterMs: Percentiles;
  readMs: Percentiles;
  /** Camera perception (logs with a camera; NaN figures otherwise). */
  visionMs: Percentiles;
  inferMs: Percentiles;
  writeMs: Percentiles;
  deadlineMisses: number;
  deadlineMissFraction: number;
  /** Late cycles by cause (logs that record it: LoopTiming late_cause). */
  lateCauses: Record<string, number>;
  /** Longest time without a fresh state, ms (NaN when the log does not record stale_ms). */
  longestStaleMs: number;
}

export interface SessionSummary {
  file: string;
  bytes: number;
  session: string | undefined;
  metadata: Record<string, string>;
  closedCleanly: boolean;
  truncated: boolean;
  truncation: string | undefined;
  start: string | undefined;
  end: string | undefined;
  durationSeconds: number | undefined;
  messages: number;
  channels: Array<{ topic: string; type: string; messages: number; rateHz: number | undefined }>;
  events: {
    total: number;
    byLevel: Record<string, number>;
    /** Every event when there are at most `maxEvents`; otherwise only errors and fatals. */
    listed: SummaryEvent[];
    /** Events (errors, when over the limit) not listed. */
    notListed: number;
  };
  timing: TimingSummary | undefined;
  /** Camera channels: rate and the first frame's size and encoding (after decompression for compressed images). */
  images: ImageChannelSummary[];
}

export interface ImageChannelSummary {
  topic: string;
  type: string;
  frames: number;
  rateHz: number | undefined;
  width: number | undefined;
  height: number | undefined;
  encoding: string | undefined;
  /** Why the first frame could not be read, if it could not. */
  problem?: string;
}

export interface SummarizeOptions {
  /** List every event up to this many; above it, list only errors. Default 20. */
  maxEvents?: number;
  /** At most this many errors are listed. Default 100. */
  maxErrors?: number;
}

export async function summarizeSessionLog(file: string, options: SummarizeOptions = {}): Promise<SessionSummary> {
  const maxEvents = options.maxEvents ?? 20;
  const maxErrors = options.maxErrors ?? 100;
  const firstEvents: Array<{ t: bigint; v: Record<string, unknown> }> = [];
  const errors: Array<{ t: bigint; v: Record<string, unknown> }> = [];
  let errorCount = 0;
  const byLevel: Record<string, number> = {};
  let eventCount = 0;
  const period: number[] = [];
  const jitter: number[] = [];
  const read: number[] = [];
  const infer: number[] = [];
  const vision: number[] = [];
  const write: number[] = [];
  let target = NaN;
  let cycles = 0;
  let misses = 0;
  const firstFrames = new Map<string, { width?: number; height?: number; encoding?: string; problem?: string }>();
  const lateCauses: Record<string, number> = {};
  let longestStale = NaN;

  const onMessage = (m: LoggedMessage) => {
    if (isImageChannel(m.channel)) {
      if (!firstFrames.has(m.topic)) {
        try {
          const { image } = decodeImageMessage(m);
          firstFrames.set(m.topic, { width: image.width, height: image.height, encoding: image.encoding });
        } catch (e) {
          firstFrames.set(m.topic, { problem: (e as Error).message });
        }
      }
    } else if (m.topic === TOPICS.events && m.channel.schemaName === "rcl_interfaces/msg/Log") {
      const v = m.decode();
      eventCount++;
      const level = levelName(Number(v.level));
      byLevel[level] = (byLevel[level] ?? 0) + 1;
      if (firstEvents.length <= maxEvents) firstEvents.push({ t: m.logTime, v });
      if (Number(v.level) >= LOG_LEVELS.error) {
        errorCount++;
        if (errors.length < maxErrors) errors.push({ t: m.logTime, v });
      }
    } else if (m.topic === TOPICS.timing && m.channel.schemaName === "s2r_msgs/msg/LoopTiming") {
      const v = m.decode() as { cycle: number; period_ms: number; target_period_ms: number; read_ms: number; infer_ms: number; write_ms: number; deadline_missed: boolean; late_cause?: string; stale_ms?: number; vision_ms?: number };
      if (v.late_cause) lateCauses[v.late_cause] = (lateCauses[v.late_cause] ?? 0) + 1;
      if (v.stale_ms !== undefined && Number.isFinite(v.stale_ms) && !(v.stale_ms <= longestStale)) longestStale = v.stale_ms;
      cycles++;
      if (v.deadline_missed) misses++;
      if (Number.isFinite(v.target_period_ms)) target = v.target_period_ms;
      // The first cycle has no predecessor, so its period says nothing about jitter.
      if (v.cycle > 0 && Number.isFinite(v.period_ms)) {
        period.push(v.period_ms);
        if (Number.isFinite(v.target_period_ms)) jitter.push(Math.abs(v.period_ms - v.target_period_ms));
      }
      if (Number.isFinite(v.read_ms)) read.push(v.read_ms);
      if (v.vision_ms !== undefined && Number.isFinite(v.vision_ms)) vision.push(v.vision_ms);
      if (Number.isFinite(v.infer_ms)) infer.push(v.infer_ms);
      if (Number.isFinite(v.write_ms)) write.push(v.write_ms);
    }
  };
  // No topic filter: image channels are found by their schema.
  const log = await readSessionLog(file, { onMessage });

  const startNs = log.startedAt ?? log.startTime;
  const endNs = log.endedAt ?? log.endTime;
  const event = ({ t, v }: { t: bigint; v: Record<string, unknown> }): SummaryEvent => ({
    time: isoFromNs(t),
    offsetSeconds: startNs === undefined ? 0 : Number(t - startNs) / 1e9,
    level: levelName(Number(v.level)),
    name: String(v.name),
    msg: String(v.msg),
  });
  const listAll = eventCount <= maxEvents;
  return {
    file: log.file,
    bytes: log.bytes,
    session: log.session,
    metadata: log.metadata,
    closedCleanly: log.closedCleanly,
    truncated: log.truncated,
    truncation: log.truncation,
    start: startNs === undefined ? undefined : isoFromNs(startNs),
    end: endNs === undefined ? undefined : isoFromNs(endNs),
    durationSeconds: startNs === undefined || endNs === undefined ? undefined : Number(endNs - startNs) / 1e9,
    messages: log.messageCount,
    channels: log.channels.map((c) => ({ topic: c.topic, type: c.schemaName, messages: c.messageCount, rateHz: channelRate(c) })),
    images: log.channels.filter(isImageChannel).map((c) => {
      const f = firstFrames.get(c.topic) ?? {};
      const out: ImageChannelSummary = { topic: c.topic, type: c.schemaName, frames: c.messageCount, rateHz: channelRate(c), width: f.width, height: f.height, encoding: f.encoding };
      if (f.problem) out.problem = f.problem;
      return out;
    }),
    events: {
      total: eventCount,
      byLevel,
      listed: (listAll ? firstEvents : errors).map(event),
      notListed: listAll ? 0 : errorCount - errors.length,
    },
    timing:
      cycles === 0
        ? undefined
        : {
            cycles,
            periodMs: percentiles(period),
            targetPeriodMs: target,
            jitterMs: percentiles(jitter),
            readMs: percentiles(read),
            visionMs: percentiles(vision),
            inferMs: percentiles(infer),
            writeMs: percentiles(write),
            deadlineMisses: misses,
            deadlineMissFraction: misses / cycles,
            lateCauses,
            longestStaleMs: longestStale,
          },
  };
}

function channelRate(c: { firstLogTime: bigint | undefined; lastLogTime: bigint | undefined; messageCount: number }): number | undefined {
  const span = c.firstLogTime === undefined || c.lastLogTime === undefined ? 0 : Number(c.lastLogTime - c.firstLogTime) / 1e9;
  // n messages span n-1 intervals.
  return c.messageCount > 1 && span > 0 ? (c.messageCount - 1) / span : undefined;
}

/** Nearest-rank percentiles; NaN for no data. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(values).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

function ms(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(3)} ms` : "n/a";
}

function pct(p: Percentiles): string {
  return `p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)}`;
}

export function formatSessionSummary(s: SessionSummary): string {
  const lines: string[] = [];
  const state = s.closedCleanly ? "closed cleanly" : `TRUNCATED: ${s.truncation ?? "no footer"}`;
  lines.push(`${s.file} (${(s.bytes / 1024).toFixed(1)} KiB)`);
  lines.push(`session: ${s.session ?? "(not an s2r session log)"}, ${state}`);
  const meta = Object.entries(s.metadata);
  if (meta.length) {
    lines.push("metadata:");
    const w = Math.max(...meta.map(([k]) => k.length));
    for (const [k, v] of meta) lines.push(`  ${k.padEnd(w)}  ${v}`);
  }
  lines.push(`start:    ${s.start ?? "n/a"}`);
  lines.push(`end:      ${s.end ?? "n/a"}${s.closedCleanly ? "" : " (last message before the file was cut)"}`);
  lines.push(`duration: ${s.durationSeconds === undefined ? "n/a" : `${s.durationSeconds.toFixed(3)} s`}`);
  lines.push("");
  lines.push(`channels (${s.messages} messages):`);
  const rows = s.channels.map((c) => [c.topic, c.type, String(c.messages), c.rateHz === undefined ? "-" : `${c.rateHz.toFixed(1)} Hz`]);
  rows.unshift(["topic", "type", "messages", "rate"]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) lines.push(`  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padStart(widths[2]!)}  ${r[3]!.padStart(widths[3]!)}`);
  if (s.images.length) {
    lines.push("");
    lines.push("images:");
    for (const im of s.images) {
      const size = im.width === undefined ? (im.problem ? `unreadable: ${im.problem}` : "no frames") : `${im.width}x${im.height} ${im.encoding}`;
      lines.push(`  ${im.topic}  ${im.frames} frames  ${im.rateHz === undefined ? "-" : `${im.rateHz.toFixed(1)} Hz`}  ${size}`);
    }
  }
  lines.push("");
  const ev = s.events;
  if (ev.total === 0) lines.push("events: none");
  else {
    const counts = Object.entries(ev.byLevel)
      .map(([l, n]) => `${n} ${l}`)
      .join(", ");
    const allListed = ev.listed.length === ev.total;
    lines.push(`events (${ev.total}: ${counts})${allListed ? ":" : ev.listed.length ? "; errors:" : ""}`);
    for (const e of ev.listed) lines.push(`  ${`+${e.offsetSeconds.toFixed(3)}s`.padStart(10)}  ${e.level.toUpperCase().padEnd(5)}  ${e.name}: ${e.msg}`);
    if (ev.notListed > 0) lines.push(`  ... and ${ev.notListed} more errors`);
  }
  if (s.timing) {
    const t = s.timing;
    lines.push("");
    lines.push(`loop timing (${t.cycles} cycles, target period ${ms(t.targetPeriodMs)}):`);
    lines.push(`  period  ${pct(t.periodMs)}`);
    lines.push(`  jitter  ${pct(t.jitterMs)}`);
    lines.push(`  read    ${pct(t.readMs)}`);
    if (Number.isFinite(t.visionMs.p50)) lines.push(`  vision  ${pct(t.visionMs)}`);
    lines.push(`  infer   ${pct(t.inferMs)}`);
    lines.push(`  write   ${pct(t.writeMs)}`);
    const causes = Object.entries(t.lateCauses).map(([k, n]) => `${k} ${n}`);
    lines.push(`  deadline misses: ${t.deadlineMisses} (${(t.deadlineMissFraction * 100).toFixed(2)} %)${causes.length ? `; causes: ${causes.join(", ")}` : ""}`);
    if (Number.isFinite(t.longestStaleMs)) lines.push(`  longest without a fresh state: ${ms(t.longestStaleMs)}`);
  }
  return lines.join("\n") + "\n";
}

/** JSON-safe form (bigints are already strings; NaN becomes null). */
export function summaryToJson(s: SessionSummary): string {
  return JSON.stringify(s, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}
