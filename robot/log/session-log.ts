/**
 * The MCAP log of one robot session (deploy, calibrate, sysid, finetune...):
 * joint states, commands, policy outputs, loop timing and events on ROS 2
 * typed channels that Foxglove opens directly, plus any channel a caller
 * defines with its own ros2msg schema.
 *
 * Logging from a control loop costs one CDR encode and a copy into the open
 * chunk; no I/O happens on that path. Every flush interval (default 0.5 s, so
 * a crash loses less than a second) the chunk is sealed and written and synced
 * in the background. While messages keep coming, the sealing is done by the
 * logging call that finds it due: a control loop logs right after its write,
 * so the seal (a fraction of a millisecond, more when the JIT or GC steps in)
 * falls in the loop's slack. A timer seals only a log that has gone quiet; a
 * timer that fired at any moment would land in the middle of a bus read.
 * close() writes the summary and footer; if the process exits without it, an
 * 'exit' handler finishes the file synchronously.
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { CdrEncodeError, createCodec, type MessageCodec } from "./cdr-codec.js";
import { DurableMcapWriter, type DurableMcapWriterStats } from "./durable-mcap-writer.js";
import { parseRos2Msg } from "./ros2msg.js";
import {
  FLOAT64_MULTI_ARRAY_SCHEMA,
  JOINT_STATE_SCHEMA,
  LOG_LEVELS,
  LOG_SCHEMA,
  LOOP_TIMING_SCHEMA,
  POLICY_STEP_SCHEMA,
  rosTime,
  type EventLevel,
  type LogSchema,
} from "./schemas.js";

/** The kinds s2r itself writes; other lowercase names are accepted for new tools. */
export const SESSION_KINDS = ["deploy", "calibrate", "sysid", "finetune"] as const;
export type SessionKind = (typeof SESSION_KINDS)[number] | (string & {});

/** Names of the metadata records every session log holds. */
export const SESSION_RECORD = "s2r.session";
export const USER_METADATA_RECORD = "s2r.metadata";
export const SESSION_END_RECORD = "s2r.session_end";

export const TOPICS = {
  jointStates: "/joint_states",
  commands: "/commands",
  policy: "/policy",
  timing: "/timing",
  events: "/events",
} as const;

export interface SessionLogOptions {
  session: SessionKind;
  /** Free-form facts about the run (policy file, rig, git commit...). */
  metadata?: Record<string, string>;
  /** How often buffered messages are written and synced; at most 1000 ms. Default 500. */
  flushIntervalMs?: number;
  /** Clock for messages logged without an explicit time, in ns since the Unix epoch. Default: wall clock at creation advanced by the monotonic clock. */
  now?: () => bigint;
  /** Finish the file from a process 'exit' handler if close() was not called. Default true. */
  closeOnExit?: boolean;
  /** Told about background write failures (the data stays buffered and is retried). */
  onError?: (error: Error) => void;
  /** Replace an existing file. Default false: a session log is never clobbered by accident. */
  overwrite?: boolean;
}

export type NumberArray = readonly number[] | Float64Array;

export interface JointStateSample {
  name: readonly string[];
  /** rad */
  position: NumberArray;
  /** rad/s */
  velocity: NumberArray;
  /** N m (may be empty when not measured) */
  effort: NumberArray;
}

export interface PolicySample {
  observation: NumberArray;
  action: NumberArray;
  /** NaN when the network has no value head. */
  value: number;
  osiNames: readonly string[];
  osiEstimate: NumberArray;
}

export interface LoopTimingSample {
  cycle: number;
  periodMs: number;
  targetPeriodMs: number;
  readMs: number;
  /** Camera perception, ms (default NaN: no camera). */
  visionMs?: number;
  inferMs: number;
  writeMs: number;
  deadlineMissed: boolean;
  /** Wake-up lateness, ms (default NaN: not measured). */
  wakeLateMs?: number;
  /** Time since the previous fresh state, ms (default NaN). */
  staleMs?: number;
  /** What made a late cycle late (default ""). */
  lateCause?: string;
}

export interface SessionLogStats extends DurableMcapWriterStats {
  /** Encode + buffer time of the most recent message, in microseconds. */
  lastAppendMicros: number;
}

/** A channel of a session log; write() encodes the value by the channel's schema (field names as in the .msg). */
export class LogChannel<T extends object = Record<string, unknown>> {
  /** @internal */
  constructor(
    private readonly log: SessionLog,
    readonly topic: string,
    readonly schema: LogSchema,
    /** @internal */ readonly id: number,
    private readonly codec: MessageCodec,
  ) {}

  /** `time`: ns since the Unix epoch; default now. */
  write(value: T, time?: bigint): void {
    let data: Uint8Array;
    try {
      data = this.codec.encode(value);
    } catch (e) {
      if (e instanceof CdrEncodeError) throw new Error(`session log ${this.topic} (${this.schema.name}): field ${e.fieldPath}: ${e.problem}`);
      throw e;
    }
    this.log._append(this.id, data, time);
  }
}

export class SessionLog {
  readonly file: string;
  readonly session: SessionKind;
  readonly now: () => bigint;
  readonly startedAt: bigint;
  #writer: DurableMcapWriter;
  #channels = new Map<string, LogChannel<object>>();
  #flushIntervalMs: number;
  #lastSeal = performance.now();
  #lastAppendAt = -Infinity;
  #timer: NodeJS.Timeout;
  #onExit: (() => void) | undefined;
  #lastAppendMicros = 0;
  #closeStarted = false;

  private constructor(file: string, options: SessionLogOptions, writer: DurableMcapWriter) {
    this.file = file;
    this.session = options.session;
    this.#writer = writer;
    this.#flushIntervalMs = options.flushIntervalMs ?? 500;
    this.now = options.now ?? monotonicWallClock();
    this.startedAt = this.now();
    // Quiet for half an interval, checked every half interval: data waits at most one interval.
    this.#timer = setInterval(() => {
      if (performance.now() - this.#lastAppendAt >= this.#flushIntervalMs / 2) this.#sealAndFlush();
    }, this.#flushIntervalMs / 2);
    this.#timer.unref();
    if (options.closeOnExit !== false) {
      this.#onExit = () => {
        try {
          this.closeSync();
        } catch (e) {
          process.stderr.write(`${(e as Error).message}\n`);
        }
      };
      process.on("exit", this.#onExit);
    }
  }

  /** Creates the file (and its folder) and writes the header and session metadata. */
  static create(file: string, options: SessionLogOptions): SessionLog {
    validateOptions(file, options);
    const path = resolve(file);
    mkdirSync(dirname(path), { recursive: true });
    const writer = DurableMcapWriter.open(path, { profile: "ros2", library: "s2r session log", onError: options.onError, overwrite: options.overwrite });
    const log = new SessionLog(path, options, writer);
    writer.addMetadata(
      SESSION_RECORD,
      new Map([
        ["kind", options.session],
        ["started_at", isoFromNs(log.startedAt)],
        ["started_at_ns", String(log.startedAt)],
        ["host", hostname()],
        ["pid", String(process.pid)],
        ["node", process.version],
      ]),
    );
    writer.addMetadata(USER_METADATA_RECORD, new Map(Object.entries(options.metadata ?? {})));
    return log;
  }

  get stats(): SessionLogStats {
    return { ...this.#writer.stats, lastAppendMicros: this.#lastAppendMicros };
  }

  /** The first background write failure, if any. */
  get error(): Error | undefined {
    return this.#writer.error;
  }

  get closed(): boolean {
    return this.#writer.closed;
  }

  /**
   * Registers a channel with a ros2msg schema (`definition` holds the type and
   * all its dependencies). Registering the same topic again with the same
   * schema returns the existing channel.
   */
  channel<T extends object = Record<string, unknown>>(topic: string, schema: LogSchema, metadata: Record<string, string> = {}): LogChannel<T> {
    const existing = this.#channels.get(topic);
    if (existing) {
      if (existing.schema.name !== schema.name || existing.schema.definition !== schema.definition) {
        throw new Error(`session log ${this.file}: topic ${topic} is already logged with schema ${existing.schema.name}`);
      }
      return existing as unknown as LogChannel<T>;
    }
    if (!/^\/[A-Za-z0-9_~{}/]*$/.test(topic) || topic.endsWith("/") || topic.includes("//")) {
      throw new Error(`session log ${this.file}: ${JSON.stringify(topic)} is not a ROS 2 topic name (expected e.g. "/sysid/samples")`);
    }
    const codec = createCodec(parseRos2Msg(schema.name, schema.definition));
    const schemaId = this.#writer.addSchema(schema.name, "ros2msg", new TextEncoder().encode(schema.definition));
    const id = this.#writer.addChannel(topic, schemaId, "cdr", new Map(Object.entries(metadata)));
    const channel = new LogChannel<T>(this, topic, schema, id, codec);
    this.#channels.set(topic, channel as unknown as LogChannel<object>);
    return channel;
  }

  jointState(sample: JointStateSample, time?: bigint): void {
    const t = time ?? this.now();
    this.channel(TOPICS.jointStates, JOINT_STATE_SCHEMA).write(
      { header: { stamp: rosTime(t), frame_id: "" }, name: sample.name, position: sample.position, velocity: sample.velocity, effort: sample.effort },
      t,
    );
  }

  /** Actuator commands as std_msgs/Float64MultiArray, e.g. [volts]. */
  command(data: NumberArray, time?: bigint): void {
    this.channel(TOPICS.commands, FLOAT64_MULTI_ARRAY_SCHEMA).write({ layout: { dim: [], data_offset: 0 }, data }, time);
  }

  policy(sample: PolicySample, time?: bigint): void {
    const t = time ?? this.now();
    this.channel(TOPICS.policy, POLICY_STEP_SCHEMA).write(
      { stamp: rosTime(t), observation: sample.observation, action: sample.action, value: sample.value, osi_names: sample.osiNames, osi_estimate: sample.osiEstimate },
      t,
    );
  }

  timing(sample: LoopTimingSample, time?: bigint): void {
    const t = time ?? this.now();
    this.channel(TOPICS.timing, LOOP_TIMING_SCHEMA).write(
      {
        stamp: rosTime(t),
        cycle: sample.cycle,
        period_ms: sample.periodMs,
        target_period_ms: sample.targetPeriodMs,
        read_ms: sample.readMs,
        infer_ms: sample.inferMs,
        write_ms: sample.writeMs,
        deadline_missed: sample.deadlineMissed,
        wake_late_ms: sample.wakeLateMs ?? NaN,
        stale_ms: sample.staleMs ?? NaN,
        late_cause: sample.lateCause ?? "",
        vision_ms: sample.visionMs ?? NaN,
      },
      t,
    );
  }

  /** Start/stop, errors, torque off...: rcl_interfaces/Log on /events. `name` says who (default: the session kind). */
  event(level: EventLevel, msg: string, options: { name?: string; time?: bigint } = {}): void {
    const levelValue = LOG_LEVELS[level];
    if (levelValue === undefined) throw new Error(`session log ${this.file}: unknown event level ${JSON.stringify(level)} (expected ${Object.keys(LOG_LEVELS).join(", ")})`);
    const t = options.time ?? this.now();
    this.channel(TOPICS.events, LOG_SCHEMA).write(
      { stamp: rosTime(t), level: levelValue, name: options.name ?? this.session, msg, file: "", function: "", line: 0 },
      t,
    );
  }

  /** Writes and syncs everything logged so far. */
  flush(): Promise<void> {
    this.#lastSeal = performance.now();
    return this.#writer.flush();
  }

  /** Writes the end-of-session record, the summary and the footer; resolves once they are on disk. */
  async close(): Promise<void> {
    if (this.#beginClose()) this.#writer.addMetadata(SESSION_END_RECORD, this.#endRecord());
    try {
      await this.#writer.close();
    } finally {
      // Only now: if the process exits while close() is still writing, the exit hook finishes the file.
      this.#removeExitHook();
    }
  }

  /** close() without the event loop, for exit handlers and error paths. */
  closeSync(): void {
    if (this.#beginClose()) this.#writer.addMetadata(SESSION_END_RECORD, this.#endRecord());
    try {
      this.#writer.closeSync();
    } finally {
      this.#removeExitHook();
    }
  }

  /** @internal used by LogChannel.write */
  _append(channelId: number, data: Uint8Array, time: bigint | undefined): void {
    const start = performance.now();
    const t = time ?? this.now();
    this.#writer.addMessage(channelId, t, t, data);
    // While messages come, the call that finds the seal due does it (see the header).
    if (start - this.#lastSeal >= this.#flushIntervalMs) this.#sealAndFlush();
    this.#lastAppendAt = performance.now();
    this.#lastAppendMicros = (this.#lastAppendAt - start) * 1000;
  }

  #sealAndFlush(): void {
    if (this.#writer.closed) return;
    this.#lastSeal = performance.now();
    // Failures are reported through onError and the error getter; the data stays queued.
    this.#writer.flush().catch(() => {});
  }

  /** True the first time: stops the flush timer. */
  #beginClose(): boolean {
    clearInterval(this.#timer);
    if (this.#closeStarted || this.#writer.closed) return false;
    this.#closeStarted = true;
    return true;
  }

  #removeExitHook(): void {
    if (this.#onExit) {
      process.off("exit", this.#onExit);
      this.#onExit = undefined;
    }
  }

  #endRecord(): Map<string, string> {
    const end = this.now();
    return new Map([
      ["ended_at", isoFromNs(end)],
      ["ended_at_ns", String(end)],
      ["messages", String(this.#writer.stats.messages)],
    ]);
  }
}

function validateOptions(file: string, options: SessionLogOptions): void {
  if (typeof file !== "string" || file === "") throw new Error("session log: file name is empty");
  if (typeof options?.session !== "string" || !/^[a-z][a-z0-9_-]*$/.test(options.session)) {
    throw new Error(`session log ${file}: session must be a lowercase name such as ${SESSION_KINDS.join(", ")}; got ${JSON.stringify(options?.session)}`);
  }
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (typeof v !== "string") throw new Error(`session log ${file}: metadata.${k} must be a string, got ${typeof v}`);
  }
  const f = options.flushIntervalMs;
  if (f !== undefined && !(Number.isFinite(f) && f > 0 && f <= 1000)) {
    throw new Error(`session log ${file}: flushIntervalMs must be in (0, 1000] so a crash loses at most a second; got ${f}`);
  }
}

function monotonicWallClock(): () => bigint {
  const wall0 = BigInt(Date.now()) * 1_000_000n;
  const mono0 = process.hrtime.bigint();
  return () => wall0 + (process.hrtime.bigint() - mono0);
}

export function isoFromNs(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
