/**
 * Streaming reader for session logs that also reads files whose writer never
 * finished (process killed, power lost): it walks the records from the start
 * instead of trusting the summary at the end, and reports where and why the
 * file stopped short rather than failing.
 */
import { createReadStream, statSync } from "node:fs";
import { McapStreamReader, type TypedMcapRecord } from "@mcap/core";
import { createCodec, type MessageCodec } from "./cdr-codec.js";
import { parseRos2Msg } from "./ros2msg.js";
import { SESSION_END_RECORD, SESSION_RECORD, USER_METADATA_RECORD } from "./session-log.js";

export interface LoggedChannel {
  id: number;
  topic: string;
  schemaName: string;
  schemaEncoding: string;
  messageEncoding: string;
  /** The schema text (ros2msg definitions for s2r logs). */
  schemaText: string;
  /** The schema bytes as stored (binary for protobuf FileDescriptorSets). */
  schemaData: Uint8Array;
  metadata: Record<string, string>;
  messageCount: number;
  firstLogTime: bigint | undefined;
  lastLogTime: bigint | undefined;
}

export interface LoggedMessage {
  channel: LoggedChannel;
  topic: string;
  sequence: number;
  /** ns since the Unix epoch */
  logTime: bigint;
  publishTime: bigint;
  /** The encoded message (CDR for s2r logs). */
  data: Uint8Array;
  /** Decodes `data` by the channel's ros2msg schema; throws for other encodings. */
  decode(): Record<string, unknown>;
}

export interface SessionLogContents {
  file: string;
  bytes: number;
  profile: string;
  library: string;
  /** Session kind from the s2r.session record; undefined for MCAP files s2r did not write. */
  session: string | undefined;
  startedAt: bigint | undefined;
  /** From the end-of-session record, present only when close() ran. */
  endedAt: bigint | undefined;
  /** The caller's metadata given to SessionLog.create. */
  metadata: Record<string, string>;
  /** Every metadata record by name. */
  records: Record<string, Record<string, string>>;
  channels: LoggedChannel[];
  messageCount: number;
  startTime: bigint | undefined;
  endTime: bigint | undefined;
  /** The footer and closing magic were read. */
  closedCleanly: boolean;
  truncated: boolean;
  /** Why the file is truncated, and where. */
  truncation: string | undefined;
}

export interface ReadSessionLogOptions {
  /** Only pass messages of these topics to onMessage (all are still counted). */
  topics?: readonly string[];
  /** Called for each message in file order; may be async. */
  onMessage?: (message: LoggedMessage) => void | Promise<void>;
}

export async function readSessionLog(file: string, options: ReadSessionLogOptions = {}): Promise<SessionLogContents> {
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch (e) {
    throw new Error(`session log ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: SessionLogContents = {
    file,
    bytes,
    profile: "",
    library: "",
    session: undefined,
    startedAt: undefined,
    endedAt: undefined,
    metadata: {},
    records: {},
    channels: [],
    messageCount: 0,
    startTime: undefined,
    endTime: undefined,
    closedCleanly: false,
    truncated: false,
    truncation: undefined,
  };
  const schemas = new Map<number, { name: string; encoding: string; text: string; data: Uint8Array }>();
  const channels = new Map<number, LoggedChannel>();
  const codecs = new Map<number, MessageCodec>();
  const wanted = options.topics ? new Set(options.topics) : undefined;
  const onMessage = options.onMessage;

  const codecFor = (ch: LoggedChannel): MessageCodec => {
    let c = codecs.get(ch.id);
    if (!c) {
      if (ch.schemaEncoding !== "ros2msg" || ch.messageEncoding !== "cdr") {
        throw new Error(`session log ${file}: ${ch.topic} uses ${ch.schemaEncoding}/${ch.messageEncoding}; only ros2msg/cdr can be decoded`);
      }
      c = createCodec(parseRos2Msg(ch.schemaName, ch.schemaText));
      codecs.set(ch.id, c);
    }
    return c;
  };

  const reader = new McapStreamReader({ validateCrcs: true });
  let appended = 0;
  let sawHeader = false;
  let stop = false;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      reader.append(buf);
      appended += buf.length;
      for (;;) {
        let record: TypedMcapRecord | undefined;
        try {
          record = reader.nextRecord();
        } catch (e) {
          if (!sawHeader) throw new Error(`session log ${file}: not an MCAP file (${(e as Error).message})`);
          out.truncation = `unreadable data at byte ${appended - reader.bytesRemaining()} of ${bytes}: ${(e as Error).message}`;
          stop = true;
          break;
        }
        if (!record) break;
        switch (record.type) {
          case "Header":
            sawHeader = true;
            out.profile = record.profile;
            out.library = record.library;
            break;
          case "Schema":
            schemas.set(record.id, { name: record.name, encoding: record.encoding, text: new TextDecoder().decode(record.data), data: record.data });
            break;
          case "Channel": {
            if (channels.has(record.id)) break; // repeated in the summary
            const s = schemas.get(record.schemaId);
            const ch: LoggedChannel = {
              id: record.id,
              topic: record.topic,
              schemaName: s?.name ?? "",
              schemaEncoding: s?.encoding ?? "",
              messageEncoding: record.messageEncoding,
              schemaText: s?.text ?? "",
              schemaData: s?.data ?? new Uint8Array(0),
              metadata: Object.fromEntries(record.metadata),
              messageCount: 0,
              firstLogTime: undefined,
              lastLogTime: undefined,
            };
            channels.set(record.id, ch);
            out.channels.push(ch);
            break;
          }
          case "Message": {
            const ch = channels.get(record.channelId);
            if (!ch) {
              out.truncation = `message on unknown channel ${record.channelId} at byte ${appended - reader.bytesRemaining()}`;
              stop = true;
              break;
            }
            ch.messageCount++;
            ch.firstLogTime ??= record.logTime;
            ch.lastLogTime = record.logTime;
            out.messageCount++;
            if (out.startTime === undefined || record.logTime < out.startTime) out.startTime = record.logTime;
            if (out.endTime === undefined || record.logTime > out.endTime) out.endTime = record.logTime;
            if (onMessage && (!wanted || wanted.has(ch.topic))) {
              const data = record.data;
              const r = onMessage({
                channel: ch,
                topic: ch.topic,
                sequence: record.sequence,
                logTime: record.logTime,
                publishTime: record.publishTime,
                data,
                decode: () => codecFor(ch).decode(data),
              });
              if (r instanceof Promise) await r;
            }
            break;
          }
          case "Metadata":
            out.records[record.name] = Object.fromEntries(record.metadata);
            break;
          case "Footer":
            out.closedCleanly = true;
            break;
          case "Unknown":
            if (record.opcode === 0) {
              // Zeros: space the file system allocated but the writer never filled.
              out.truncation = `zero bytes from byte ${appended - reader.bytesRemaining() - record.data.length - 9} (the writer stopped mid-write)`;
              stop = true;
            }
            break;
          default:
            break;
        }
        if (stop) break;
      }
      if (stop) break;
    }
  } finally {
    stream.destroy();
  }
  if (!sawHeader) throw new Error(`session log ${file}: not an MCAP file (no header in ${bytes} bytes)`);
  out.closedCleanly = out.closedCleanly && reader.done();
  if (!out.closedCleanly && !out.truncation) {
    const partial = reader.bytesRemaining();
    out.truncation =
      partial > 0
        ? `the file ends inside a record (${partial} bytes of it at the end were not readable); the writer did not finish`
        : "the file ends without a footer; the writer did not finish";
  }
  out.truncated = !out.closedCleanly;

  const session = out.records[SESSION_RECORD];
  out.session = session?.kind;
  out.startedAt = parseNs(session?.started_at_ns);
  out.endedAt = parseNs(out.records[SESSION_END_RECORD]?.ended_at_ns);
  out.metadata = out.records[USER_METADATA_RECORD] ?? {};
  return out;
}

function parseNs(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return BigInt(s);
}
