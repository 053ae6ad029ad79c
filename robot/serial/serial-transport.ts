/**
 * Transport over a real serial port (USB adapter such as a U2D2, or a pty).
 *
 * It uses serialport's native binding for what needs native code (opening
 * with termios settings and a lock, an fd poller) and moves the bytes itself,
 * on the event-loop thread: when the poller reports the fd readable, it drains
 * it with non-blocking reads into one reused buffer; a write goes straight to
 * the non-blocking fd. serialport's stream instead reads and writes through
 * libuv's thread pool (a hand-off to another thread and back per read and per
 * write) and allocates a 64 KB buffer per read: on a loaded 2-core machine
 * those hand-offs and the garbage were the tail of a bus round trip (see
 * bench/loop.ts). On Linux the port is put in low-latency mode when the driver
 * allows it. The USB adapter's own latency timer (16 ms by default on FTDI
 * chips) is outside our control: set it to 1 ms in
 * /sys/bus/usb-serial/devices/<tty>/latency_timer.
 *
 * A vanished port (adapter unplugged, pty closed) is detected by the poller's
 * hang-up event, by read/write errors, or by the device node disappearing,
 * and reported once as DxlPortLostError.
 */

import { readSync, writeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { autoDetect, type LinuxPortBinding } from "@serialport/bindings-cpp";
import { DxlPortLostError } from "../dynamixel/errors.js";
import type { Transport } from "../dynamixel/transport.js";

export interface SerialTransportOptions {
  /** Default 1 000 000 (the rig's bus speed). */
  baudRate?: number;
}

const PRESENCE_CHECK_MS = 500;
/** Bytes taken per read() call; a Dynamixel status packet is far smaller, and a larger burst just takes several reads. */
const READ_CHUNK = 4096;

/** What this transport uses of a port binding: the fd and its poller (Linux and macOS bindings have both). */
type PolledPort = Pick<LinuxPortBinding, "fd" | "poller" | "close" | "set" | "isOpen">;

export class SerialPortOpenError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    const hint = /permission denied|EACCES/i.test(reason)
      ? " (add yourself to the dialout group, or check the device's permissions)"
      : /no such file|ENOENT/i.test(reason)
        ? " (is the adapter plugged in? `ls /dev/serial/by-id/` lists serial adapters)"
        : /lock/i.test(reason)
          ? " (another program has the port open)"
          : "";
    super(`cannot open serial port ${path}: ${reason}${hint}`);
    this.name = "SerialPortOpenError";
  }
}

export class SerialTransport implements Transport {
  private readonly dataListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly lostListeners = new Set<(e: DxlPortLostError) => void>();
  private gone: DxlPortLostError | undefined;
  private closing = false;
  private readonly presenceCheck: NodeJS.Timeout;
  private readonly readBuffer = Buffer.allocUnsafe(READ_CHUNK);
  /** Writes waiting for the fd to take more bytes (rare: the kernel's tty buffer is full). */
  private backlog: { bytes: Uint8Array; resolve: () => void; reject: (e: Error) => void }[] = [];

  private constructor(
    private readonly port: PolledPort,
    private readonly fd: number,
    readonly path: string,
    readonly baudRate: number,
    /** Whether the driver accepted low-latency mode (ptys and some drivers do not). */
    readonly lowLatency: boolean,
  ) {
    this.watchHangUp();
    this.armRead();
    this.presenceCheck = setInterval(() => this.checkPresence(), PRESENCE_CHECK_MS);
    this.presenceCheck.unref();
  }

  static async open(path: string, options: SerialTransportOptions = {}): Promise<SerialTransport> {
    const baudRate = options.baudRate ?? 1_000_000;
    if (!Number.isInteger(baudRate) || baudRate <= 0) throw new RangeError(`baud rate must be a positive integer, got ${options.baudRate}`);
    if (process.platform === "win32") throw new SerialPortOpenError(path, "s2r's serial transport needs a POSIX serial port (Linux or macOS)");
    let port: PolledPort;
    try {
      port = (await autoDetect().open({ path, baudRate, lock: true })) as unknown as PolledPort;
    } catch (e) {
      throw new SerialPortOpenError(path, (e as Error).message);
    }
    if (port.fd === null || !port.poller) throw new SerialPortOpenError(path, "the serial binding gave no file descriptor to poll");
    // DTR/RTS asserted as serialport's stream does; lowLatency is Linux-only (ptys refuse it).
    const lowLatency = await port.set({ brk: false, cts: false, dsr: false, dtr: true, rts: true, lowLatency: true }).then(
      () => true,
      () => false,
    );
    return new SerialTransport(port, port.fd, path, baudRate, lowLatency);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.backlog.length > 0) return new Promise((resolve, reject) => this.backlog.push({ bytes, resolve, reject }));
    let done: number;
    try {
      done = this.writeSome(bytes);
    } catch (e) {
      return Promise.reject(this.failWith(e));
    }
    if (done === bytes.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.backlog.push({ bytes: bytes.subarray(done), resolve, reject });
      this.port.poller.once("writable", (err) => this.onWritable(err));
    });
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onLost(listener: (error: DxlPortLostError) => void): () => void {
    this.lostListeners.add(listener);
    const lost = this.gone;
    if (lost && !lost.closedHere) queueMicrotask(() => listener(lost)); // subscribed after the loss
    return () => this.lostListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.presenceCheck);
    this.gone ??= new DxlPortLostError(this.path, undefined, true);
    this.rejectBacklog(this.gone);
    if (!this.port.isOpen) return;
    await this.port.close().catch(() => undefined);
  }

  // Internals ----------------------------------------------------------------

  /** Waits for the fd to become readable, then drains it. */
  private armRead(): void {
    if (this.gone || this.closing) return;
    this.port.poller.once("readable", (err) => {
      if (err) {
        if (!(err as Error & { canceled?: boolean }).canceled) this.markLost(err.message);
        return;
      }
      this.drain();
      this.armRead();
    });
  }

  private drain(): void {
    const buf = this.readBuffer;
    for (;;) {
      if (this.gone || this.closing) return;
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR") return;
        this.markLost((e as Error).message);
        return;
      }
      // A readable tty that gives 0 bytes has hung up (the peer end of a pty closed).
      if (n === 0) return this.markLost("hang-up: the device end was closed");
      // Listeners get their own copy: a packet parser may keep the bytes beyond this call.
      const bytes = new Uint8Array(buf.subarray(0, n));
      for (const l of this.dataListeners) l(bytes);
      if (n < buf.length) return;
    }
  }

  /** Bytes the fd took now (non-blocking), possibly fewer than given. */
  private writeSome(bytes: Uint8Array): number {
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") return done;
        if (code === "EINTR") continue;
        throw e;
      }
    }
    return done;
  }

  private onWritable(err: Error | null): void {
    if (err) {
      this.rejectBacklog(this.failWith(err));
      return;
    }
    while (this.backlog.length > 0) {
      const head = this.backlog[0]!;
      let done: number;
      try {
        done = this.writeSome(head.bytes);
      } catch (e) {
        this.rejectBacklog(this.failWith(e));
        return;
      }
      if (done < head.bytes.length) {
        head.bytes = head.bytes.subarray(done);
        this.port.poller.once("writable", (e) => this.onWritable(e));
        return;
      }
      this.backlog.shift();
      head.resolve();
    }
  }

  private rejectBacklog(e: Error): void {
    const waiting = this.backlog;
    this.backlog = [];
    for (const w of waiting) w.reject(e);
  }

  /** Marks the port lost after a failed write and returns the error to reject with. */
  private failWith(e: unknown): DxlPortLostError {
    this.markLost((e as Error)?.message ?? String(e));
    return this.gone ?? new DxlPortLostError(this.path, String(e));
  }

  /**
   * On a pty (and some USB drivers) a vanished peer may never fail a read;
   * the poller can wait for the hang-up itself.
   */
  private watchHangUp(): void {
    this.port.poller.once("disconnect", (err) => {
      if (!(err as (Error & { canceled?: boolean }) | null)?.canceled) this.markLost(err?.message ?? "hang-up: the device end was closed");
    });
  }

  /** Last resort: a USB adapter's device node disappears when it is unplugged. */
  private checkPresence(): void {
    stat(this.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") this.markLost(`${this.path} no longer exists`);
    });
  }

  private markLost(reason: string): void {
    clearInterval(this.presenceCheck);
    if (this.gone || this.closing) return;
    this.gone = new DxlPortLostError(this.path, reason);
    this.rejectBacklog(this.gone);
    for (const l of this.lostListeners) l(this.gone);
  }
}

/** Opens `path` as a Dynamixel bus transport (default 1 Mbaud). */
export function openSerialTransport(path: string, options: SerialTransportOptions = {}): Promise<SerialTransport> {
  return SerialTransport.open(path, options);
}
