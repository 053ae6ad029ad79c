/**
 * An MCAP writer for logs that must survive a crash and must not stall a
 * control loop. Records are built synchronously in memory with @mcap/core's
 * record and chunk builders; finished chunks are written to the file in the
 * background by positional writes followed by fdatasync, so a killed process
 * leaves a readable file that ends at the last sealed chunk.
 *
 * Every queued block knows its file offset, which makes writing it idempotent:
 * closeSync() (for exit handlers, where no callback will ever run) rewrites
 * whatever the background writer may not have finished, then the summary and
 * footer, all synchronously.
 *
 * @mcap/core's McapWriter is not used because its methods are async all the
 * way down, so nothing can be completed from a process 'exit' handler.
 */
import { close, closeSync, fdatasync, fdatasyncSync, openSync, write, writeSync } from "node:fs";
import { McapChunkBuilder, McapRecordBuilder, Opcode, type McapTypes } from "@mcap/core";
import { crc32, crc32Final, crc32Update, CRC32_INIT } from "./crc32.js";

export interface DurableMcapWriterOptions {
  /** MCAP header profile, e.g. "ros2". */
  profile: string;
  library: string;
  /** Seal the open chunk once it holds this many bytes, whatever the flush timer says. */
  maxChunkBytes?: number;
  /** Called once per background write failure; the data stays queued and is retried. */
  onError?: (error: Error) => void;
  /** Replace an existing file; otherwise an existing file is an error. */
  overwrite?: boolean;
}

export interface DurableMcapWriterStats {
  messages: number;
  chunks: number;
  /** Bytes handed to the file (in the page cache at least). */
  bytesWritten: number;
  /** Bytes known to be on the storage device. */
  bytesSynced: number;
  /** Bytes sealed but not yet written. */
  bytesQueued: number;
  /** Messages in the open chunk (lost if the process is killed now). */
  openChunkMessages: number;
}

interface Block {
  offset: number;
  bytes: Uint8Array;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class DurableMcapWriter {
  readonly file: string;
  #fd: number;
  #fdOpen = true;
  /** Set by closeSync: in-flight callbacks must no longer touch the queue. */
  #abandoned = false;
  #finishing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #onError: ((e: Error) => void) | undefined;
  #maxChunkBytes: number;

  #records = new McapRecordBuilder();
  #chunk = new McapChunkBuilder({ useMessageIndex: true });
  /** CRC of the open chunk's first #chunkHashed bytes, kept up to date per message so a seal does not hash megabytes of camera frames at once. */
  #chunkCrc = CRC32_INIT;
  #chunkHashed = 0;
  #queue: Block[] = [];
  #end = 0;
  #written = 0;
  #synced = 0;
  #writing = false;
  #syncing = false;
  #waiters: Waiter[] = [];
  #error: Error | undefined;

  #schemas: McapTypes.Schema[] = [];
  #channels: McapTypes.Channel[] = [];
  #sequence: number[] = [];
  #channelCounts: number[] = [];
  #chunkIndexes: McapTypes.ChunkIndex[] = [];
  #metadataIndexes: McapTypes.MetadataIndex[] = [];
  #messageCount = 0;
  #startTime = 0n;
  #endTime = 0n;
  #metadataCount = 0;

  private constructor(file: string, fd: number, options: DurableMcapWriterOptions) {
    this.file = file;
    this.#fd = fd;
    this.#onError = options.onError;
    // 1 MB: sealing copies the chunk a few times on the logging thread, about 1 ms per MB here, so camera logs seal often and small.
    this.#maxChunkBytes = options.maxChunkBytes ?? 1024 * 1024;
  }

  /** Creates `file` and writes the MCAP magic and header synchronously. */
  static open(file: string, options: DurableMcapWriterOptions): DurableMcapWriter {
    let fd: number;
    try {
      fd = openSync(file, options.overwrite ? "w" : "wx");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new Error(`session log ${file}: the file already exists (choose another name, or pass overwrite: true to replace it)`);
      throw new Error(`session log ${file}: cannot create the file: ${code ?? (e as Error).message}`);
    }
    const w = new DurableMcapWriter(file, fd, options);
    // Let the JIT compile the checksum now rather than during the first seal, which runs on the control loop's thread.
    const warm = new Uint8Array(1 << 16);
    for (let i = 0; i < 4; i++) crc32(warm);
    w.#records.writeMagic();
    w.#records.writeHeader({ profile: options.profile, library: options.library });
    const head = w.#takeRecords();
    try {
      writeAllSync(fd, head, 0);
    } catch (e) {
      closeSync(fd);
      throw new Error(`session log ${file}: cannot write the header: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    w.#end = w.#written = head.length;
    return w;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): DurableMcapWriterStats {
    return {
      messages: this.#messageCount,
      chunks: this.#chunkIndexes.length,
      bytesWritten: this.#written,
      bytesSynced: this.#synced,
      bytesQueued: this.#end - this.#written,
      openChunkMessages: this.#chunk.numMessages,
    };
  }

  addSchema(name: string, encoding: string, data: Uint8Array): number {
    this.#checkOpen();
    if (this.#schemas.length >= 0xffff) throw new Error(`session log ${this.file}: too many schemas`);
    const schema = { id: this.#schemas.length + 1, name, encoding, data };
    this.#schemas.push(schema);
    this.#records.writeSchema(schema);
    this.#enqueue(this.#takeRecords());
    return schema.id;
  }

  addChannel(topic: string, schemaId: number, messageEncoding: string, metadata: ReadonlyMap<string, string> = new Map()): number {
    this.#checkOpen();
    if (this.#channels.length >= 0xffff) throw new Error(`session log ${this.file}: too many channels`);
    const channel = { id: this.#channels.length, schemaId, topic, messageEncoding, metadata: new Map(metadata) };
    this.#channels.push(channel);
    this.#sequence.push(0);
    this.#channelCounts.push(0);
    this.#records.writeChannel(channel);
    this.#enqueue(this.#takeRecords());
    return channel.id;
  }

  addMetadata(name: string, metadata: ReadonlyMap<string, string>): void {
    this.#checkOpen();
    const offset = this.#end;
    const length = this.#records.writeMetadata({ name, metadata: new Map(metadata) });
    this.#metadataIndexes.push({ offset: BigInt(offset), length, name });
    this.#metadataCount++;
    this.#enqueue(this.#takeRecords());
  }

  /** Adds a message to the open chunk: memory only, no I/O. Times are nanoseconds since the Unix epoch. */
  addMessage(channelId: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    this.#checkOpen();
    const seq = this.#sequence[channelId];
    if (seq === undefined) throw new Error(`session log ${this.file}: no channel with id ${channelId}`);
    this.#sequence[channelId] = (seq + 1) >>> 0;
    this.#chunk.addMessage({ channelId, sequence: seq, logTime, publishTime, data });
    this.#hashMessageRecord(channelId, seq, logTime, publishTime, data);
    this.#channelCounts[channelId]!++;
    if (this.#messageCount === 0 || logTime < this.#startTime) this.#startTime = logTime;
    if (this.#messageCount === 0 || logTime > this.#endTime) this.#endTime = logTime;
    this.#messageCount++;
    if (this.#chunk.byteLength >= this.#maxChunkBytes) this.sealChunk();
  }

  /**
   * Adds one Message record (MCAP spec: opcode 0x05, uint64 length, then
   * channel_id u16, sequence u32, log_time u64, publish_time u64, data) to
   * the open chunk's running CRC, from the values rather than from the
   * builder's buffer, whose accessor copies the whole chunk.
   */
  #hashMessageRecord(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    const head = this.#recordHead;
    const v = new DataView(head.buffer);
    v.setUint8(0, Opcode.MESSAGE);
    v.setBigUint64(1, BigInt(2 + 4 + 8 + 8 + data.byteLength), true);
    v.setUint16(9, channelId, true);
    v.setUint32(11, sequence, true);
    v.setBigUint64(15, logTime, true);
    v.setBigUint64(23, publishTime, true);
    this.#chunkCrc = crc32Update(crc32Update(this.#chunkCrc, head), data);
    this.#chunkHashed += head.byteLength + data.byteLength;
  }

  #recordHead = new Uint8Array(31);

  /** Closes the open chunk and queues it (with its message indexes) for the background writer. */
  sealChunk(): void {
    const chunk = this.#chunk;
    if (chunk.numMessages === 0) return;
    // The builder's accessor returns a copy: the one copy of the records a seal makes.
    const records = chunk.buffer;
    if (this.#records.length > 0) this.#enqueue(this.#takeRecords());
    const chunkStart = this.#end;
    // The running CRC covers exactly the records when only messages went into the chunk; otherwise hash them here.
    const crc = this.#chunkHashed === records.byteLength ? crc32Final(this.#chunkCrc) : crc32(records);
    // The Chunk record's head is written here and its records queued as they are, rather than
    // copied into the record builder and copied out again (camera frames make chunks of megabytes).
    const head = chunkRecordHead(chunk.messageStartTime, chunk.messageEndTime, records.byteLength, crc);
    this.#enqueue(head);
    this.#enqueue(records);
    const chunkLength = BigInt(head.byteLength + records.byteLength);
    const messageIndexStart = BigInt(chunkStart) + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of chunk.indices) {
      messageIndexOffsets.set(index.channelId, messageIndexStart + messageIndexLength);
      messageIndexLength += this.#records.writeMessageIndex(index);
    }
    this.#chunkIndexes.push({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset: BigInt(chunkStart),
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression: "",
      compressedSize: BigInt(records.byteLength),
      uncompressedSize: BigInt(records.byteLength),
    });
    chunk.reset();
    this.#chunkCrc = CRC32_INIT;
    this.#chunkHashed = 0;
    this.#enqueue(this.#takeRecords());
  }

  /** Seals the open chunk, writes everything queued and waits for fdatasync. */
  flush(): Promise<void> {
    if (this.#closed) return this.#error ? Promise.reject(this.#error) : Promise.resolve();
    if (!this.#finishing) this.sealChunk();
    return this.#waitSynced();
  }

  /** Seals, writes the summary and footer, syncs and closes. Falls back to closeSync if a background write failed. */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = (async () => {
      if (this.#closed) return;
      this.#queueSummary();
      try {
        await this.#waitSynced();
      } catch {
        // Retry everything synchronously: it either lands or throws saying how much was lost.
        this.closeSync();
        return;
      }
      if (this.#closed) return; // closeSync ran meanwhile (exit handler)
      this.#closed = true;
      await new Promise<void>((resolve, reject) => {
        this.#fdOpen = false;
        close(this.#fd, (e) => (e ? reject(new Error(`session log ${this.file}: close failed: ${e.code ?? e.message}`)) : resolve()));
      });
    })();
    return this.#closePromise;
  }

  /**
   * Finishes the file without returning to the event loop: for process 'exit'
   * handlers and error paths. Idempotent.
   */
  closeSync(): void {
    if (this.#closed) return;
    this.#queueSummary();
    this.#abandoned = true;
    this.#closed = true;
    const pending = this.#end - this.#written;
    try {
      for (const block of this.#queue) writeAllSync(this.#fd, block.bytes, block.offset);
      fdatasyncSync(this.#fd);
    } catch (e) {
      const err = new Error(`session log ${this.file}: could not write the last ${pending} bytes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the file ends at the last complete chunk`);
      this.#error ??= err;
      this.#settleWaiters(err);
      this.#closeFdWhenPossible();
      throw err;
    }
    this.#queue = [];
    this.#written = this.#synced = this.#end;
    this.#settleWaiters();
    this.#closeFdWhenPossible();
  }

  #checkOpen(): void {
    if (this.#finishing || this.#closed) throw new Error(`session log ${this.file}: already closed`);
  }

  #takeRecords(): Uint8Array {
    // The builder reuses its buffer, so queued bytes must be a copy; its accessor makes one.
    const bytes = this.#records.buffer;
    this.#records.reset();
    return bytes;
  }

  #enqueue(bytes: Uint8Array): void {
    this.#queue.push({ offset: this.#end, bytes });
    this.#end += bytes.length;
    this.#pump();
  }

  #waitSynced(): Promise<void> {
    const target = this.#end;
    if (this.#synced >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ target, resolve, reject });
      this.#pump();
    });
  }

  /** One write or one fdatasync in flight at a time; writes go in file order. */
  #pump(): void {
    if (this.#abandoned || !this.#fdOpen || this.#writing || this.#syncing) return;
    const head = this.#queue[0];
    if (head) {
      this.#writing = true;
      write(this.#fd, head.bytes, 0, head.bytes.length, head.offset, (err, n) => {
        this.#writing = false;
        if (this.#abandoned) return this.#closeFdWhenPossible();
        if (err) return this.#fail(err);
        if (n < head.bytes.length) {
          head.bytes = head.bytes.subarray(n);
          head.offset += n;
        } else this.#queue.shift();
        this.#written = this.#queue[0]?.offset ?? this.#end;
        this.#pump();
      });
      return;
    }
    if (!this.#waiters.some((w) => w.target > this.#synced)) return;
    this.#syncing = true;
    const target = this.#written;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (this.#abandoned) return this.#closeFdWhenPossible();
      if (err) return this.#fail(err);
      this.#synced = Math.max(this.#synced, target);
      this.#settleWaiters();
      this.#pump();
    });
  }

  #fail(err: NodeJS.ErrnoException): void {
    const e = new Error(`session log ${this.file}: background write failed (${err.code ?? err.message}); ${this.#end - this.#written} bytes are kept in memory and retried`);
    this.#error ??= e;
    this.#settleWaiters(e);
    this.#onError?.(e);
  }

  #settleWaiters(error?: Error): void {
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (error) w.reject(error);
      else if (w.target <= this.#synced) w.resolve();
      else keep.push(w);
    }
    this.#waiters = keep;
  }

  #closeFdWhenPossible(): void {
    if (!this.#fdOpen) return;
    if (this.#writing || this.#syncing) {
      // Closing now could let the fd number be reused by another file while a
      // queued threadpool write still targets it; that write's callback closes it instead.
      return;
    }
    this.#fdOpen = false;
    try {
      closeSync(this.#fd);
    } catch {
      /* already unusable; nothing left to save */
    }
  }

  #queueSummary(): void {
    if (this.#finishing) return;
    this.sealChunk();
    this.#finishing = true;
    const rb = this.#records;
    rb.writeDataEnd({ dataSectionCrc: 0 }); // 0 = not computed: chunk CRCs already cover the messages
    this.#enqueue(this.#takeRecords());

    const summaryStart = this.#end;
    const groups: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, writeAll: () => bigint) => {
      const start = BigInt(summaryStart + rb.length);
      const length = writeAll();
      if (length > 0n) groups.push({ groupOpcode: opcode, groupStart: start, groupLength: length });
    };
    group(Opcode.SCHEMA, () => this.#schemas.reduce((n, s) => n + rb.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => this.#channels.reduce((n, c) => n + rb.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () =>
      rb.writeStatistics({
        messageCount: BigInt(this.#messageCount),
        schemaCount: this.#schemas.length,
        channelCount: this.#channels.length,
        attachmentCount: 0,
        metadataCount: this.#metadataCount,
        chunkCount: this.#chunkIndexes.length,
        messageStartTime: this.#startTime,
        messageEndTime: this.#endTime,
        channelMessageCounts: new Map(this.#channelCounts.map((n, id) => [id, BigInt(n)])),
      }),
    );
    group(Opcode.METADATA_INDEX, () => this.#metadataIndexes.reduce((n, m) => n + rb.writeMetadataIndex(m), 0n));
    group(Opcode.CHUNK_INDEX, () => this.#chunkIndexes.reduce((n, c) => n + rb.writeChunkIndex(c), 0n));
    const summaryOffsetStart = BigInt(summaryStart + rb.length);
    for (const g of groups) rb.writeSummaryOffset(g);

    // The footer's CRC covers the summary section and the footer up to (not including) the CRC itself.
    const footerPrefix = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerPrefix.setUint8(0, Opcode.FOOTER);
    footerPrefix.setBigUint64(1, 20n, true);
    footerPrefix.setBigUint64(9, BigInt(summaryStart), true);
    footerPrefix.setBigUint64(17, summaryOffsetStart, true);
    let crc = crc32Update(CRC32_INIT, rb.buffer);
    crc = crc32Final(crc32Update(crc, new Uint8Array(footerPrefix.buffer)));
    rb.writeFooter({ summaryStart: BigInt(summaryStart), summaryOffsetStart, summaryCrc: crc });
    rb.writeMagic();
    this.#enqueue(this.#takeRecords());
  }
}

/**
 * Opcode, record length and the fields before `records` of an uncompressed
 * MCAP Chunk record: message_start_time u64, message_end_time u64,
 * uncompressed_size u64, uncompressed_crc u32, compression string (u32
 * length + bytes, empty), records length u64.
 */
function chunkRecordHead(start: bigint, end: bigint, recordsLength: number, crc: number): Uint8Array {
  const head = new Uint8Array(1 + 8 + 8 + 8 + 8 + 4 + 4 + 8);
  const v = new DataView(head.buffer);
  v.setUint8(0, Opcode.CHUNK);
  v.setBigUint64(1, BigInt(head.byteLength - 9 + recordsLength), true);
  v.setBigUint64(9, start, true);
  v.setBigUint64(17, end, true);
  v.setBigUint64(25, BigInt(recordsLength), true);
  v.setUint32(33, crc, true);
  v.setUint32(37, 0, true);
  v.setBigUint64(41, BigInt(recordsLength), true);
  return head;
}

function writeAllSync(fd: number, bytes: Uint8Array, offset: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
}
