/**
 * In-memory Transport to a VirtualBus: what the host writes is handed to the
 * devices at once and their answers come back after the bus's response delay,
 * asynchronously as from a real port. `faults` lets a test or the emulator
 * drop or corrupt answers; disconnect() behaves like an unplugged adapter.
 */

import { DxlPortLostError } from "./errors.js";
import type { Transport } from "./transport.js";
import type { VirtualBus } from "./virtual-bus.js";

export interface VirtualTransportOptions {
  /** Milliseconds for the devices' clocks. Default performance.now(). */
  clock?: () => number;
  /** Shown in messages. Default "virtual bus". */
  path?: string;
  /** Sees each status packet before delivery (with a running count); returns the bytes to deliver, or null to drop it. */
  faults?: (status: Uint8Array, index: number) => Uint8Array | null;
}

export class VirtualTransport implements Transport {
  readonly path: string;
  private readonly clock: () => number;
  private readonly faults: VirtualTransportOptions["faults"];
  private readonly dataListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly lostListeners = new Set<(e: DxlPortLostError) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private statusCount = 0;
  private gone: DxlPortLostError | undefined;

  constructor(
    readonly bus: VirtualBus,
    options: VirtualTransportOptions = {},
  ) {
    this.path = options.path ?? "virtual bus";
    this.clock = options.clock ?? (() => performance.now());
    this.faults = options.faults;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.gone) throw this.gone;
    const answers: Uint8Array[] = [];
    for (const status of this.bus.receive(bytes, this.clock())) {
      const delivered = this.faults ? this.faults(status, this.statusCount) : status;
      this.statusCount++;
      if (delivered) answers.push(delivered);
    }
    if (answers.length === 0) return;
    const total = answers.reduce((n, a) => n + a.length, 0);
    const wire = new Uint8Array(total);
    let o = 0;
    for (const a of answers) {
      wire.set(a, o);
      o += a.length;
    }
    const deliver = () => {
      if (!this.gone) for (const l of this.dataListeners) l(wire);
    };
    if (this.bus.responseDelayMs <= 0) {
      // Still asynchronous, as from a port, but without a timer's ~1 ms granularity.
      const immediate = setImmediate(() => {
        this.immediates.delete(immediate);
        deliver();
      });
      this.immediates.add(immediate);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      deliver();
    }, this.bus.responseDelayMs);
    this.timers.add(timer);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onLost(listener: (error: DxlPortLostError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Simulates the device disappearing: `lost` fires, later writes fail. */
  disconnect(reason = "device disconnected"): void {
    if (this.gone) return;
    this.gone = new DxlPortLostError(this.path, reason);
    this.cancelTimers();
    for (const l of this.lostListeners) l(this.gone);
  }

  async close(): Promise<void> {
    this.gone ??= new DxlPortLostError(this.path, undefined, true);
    this.cancelTimers();
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const i of this.immediates) clearImmediate(i);
    this.timers.clear();
    this.immediates.clear();
  }
}
