/**
 * Serves a VirtualBus on a serial port (normally the device end of a
 * createPtyPair()), so that host code, the CLI included, talks to virtual
 * devices through a real serial stack. No physics: present values are
 * whatever the owner sets on the devices.
 */

import { SerialTransport, type SerialTransportOptions } from "../serial/serial-transport.js";
import type { VirtualBus } from "./virtual-bus.js";

export interface ServeVirtualBusOptions extends SerialTransportOptions {
  /** Milliseconds for the devices' clocks. Default performance.now(). */
  clock?: () => number;
  /** How often the devices' clocks advance between packets (Bus Watchdog, Realtime Tick). Default 5 ms. */
  tickIntervalMs?: number;
}

export interface VirtualBusServer {
  readonly path: string;
  /** Resolves when the port goes away (closed here or vanished). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export async function serveVirtualBus(path: string, bus: VirtualBus, options: ServeVirtualBusOptions = {}): Promise<VirtualBusServer> {
  const clock = options.clock ?? (() => performance.now());
  const transport = await SerialTransport.open(path, options);
  const pending = new Set<NodeJS.Timeout>();
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const ticker = setInterval(() => bus.tick(clock()), options.tickIntervalMs ?? 5);

  const send = (answers: Uint8Array[]) => {
    for (const a of answers) transport.write(a).catch(() => undefined); // a vanished port is reported through onLost
  };
  transport.onData((bytes) => {
    const answers = bus.receive(bytes, clock());
    if (answers.length === 0) return;
    if (bus.responseDelayMs <= 0) return send(answers);
    const t = setTimeout(() => {
      pending.delete(t);
      send(answers);
    }, bus.responseDelayMs);
    pending.add(t);
  });
  const stop = () => {
    clearInterval(ticker);
    for (const t of pending) clearTimeout(t);
    pending.clear();
    resolveEnded();
  };
  transport.onLost(stop);
  return {
    path,
    ended,
    async close() {
      stop();
      await transport.close();
    },
  };
}
