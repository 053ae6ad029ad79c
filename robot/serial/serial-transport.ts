/**
 * Transport over a real serial port (USB adapter such as a U2D2, or a pty)
 * using the `serialport` package. Bytes are passed through as they arrive (no
 * parser buffering here); on Linux the port is put in low-latency mode when
 * the driver allows it. The USB adapter's own latency timer (16 ms by default
 * on FTDI chips) is outside our control: set it to 1 ms in
 * /sys/bus/usb-serial/devices/<tty>/latency_timer.
 *
 * A vanished port (adapter unplugged, pty closed) is detected from the
 * stream's `close` event with `disconnected`, or from read/write errors, and
 * reported once as DxlPortLostError.
 */

import { stat } from "node:fs/promises";
import { SerialPort } from "serialport";
import { DxlPortLostError } from "../dynamixel/errors.js";
import type { Transport } from "../dynamixel/transport.js";

export interface SerialTransportOptions {
  /** Default 1 000 000 (the rig's bus speed). */
  baudRate?: number;
}

const PRESENCE_CHECK_MS = 500;

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

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
    readonly baudRate: number,
    /** Whether the driver accepted low-latency mode (ptys and some drivers do not). */
    readonly lowLatency: boolean,
  ) {
    port.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      for (const l of this.dataListeners) l(bytes);
    });
    port.on("close", (err?: Error & { disconnected?: boolean }) => {
      if (!this.closing) this.markLost(err?.message ?? "port closed");
    });
    port.on("error", (err: Error) => this.markLost(err.message));
    this.watchHangUp();
    this.presenceCheck = setInterval(() => this.checkPresence(), PRESENCE_CHECK_MS);
    this.presenceCheck.unref();
  }

  /**
   * On a pty (and some USB drivers) a vanished peer makes read() return 0
   * instead of failing, and the serialport stream keeps re-reading without
   * ever reporting it. The binding's poller can wait for the hang-up itself;
   * it is not part of serialport's typed API, hence the guarded access.
   */
  private watchHangUp(): void {
    const poller = (this.port as unknown as { port?: { poller?: { once(event: "disconnect", cb: (err: (Error & { canceled?: boolean }) | null) => void): void } } }).port?.poller;
    poller?.once("disconnect", (err) => {
      if (!err?.canceled) this.markLost(err?.message ?? "hang-up: the device end was closed");
    });
  }

  static async open(path: string, options: SerialTransportOptions = {}): Promise<SerialTransport> {
    const baudRate = options.baudRate ?? 1_000_000;
    if (!Number.isInteger(baudRate) || baudRate <= 0) throw new RangeError(`baud rate must be a positive integer, got ${options.baudRate}`);
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new SerialPortOpenError(path, err.message)) : resolve())));
    const lowLatency = await new Promise<boolean>((resolve) => {
      // `lowLatency` is a Linux-only set() flag the generic typings do not list.
      port.set({ lowLatency: true } as Parameters<SerialPort["set"]>[0], (err) => resolve(!err));
    });
    return new SerialTransport(port, path, baudRate, lowLatency);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), (err) => {
        if (!err) return resolve();
        this.markLost(err.message);
        reject(this.gone ?? new DxlPortLostError(this.path, err.message));
      });
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
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
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
    for (const l of this.lostListeners) l(this.gone);
  }
}

/** Opens `path` as a Dynamixel bus transport (default 1 Mbaud). */
export function openSerialTransport(path: string, options: SerialTransportOptions = {}): Promise<SerialTransport> {
  return SerialTransport.open(path, options);
}
