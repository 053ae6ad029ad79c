/**
 * Several VirtualDevices on one wire. Bytes the host sends go in; the status
 * packets the devices would put on the wire come out, in the order real
 * devices answer: the listed order for Sync Read and Bulk Read, ID order for a
 * broadcast Ping. Pure: the owner supplies the time and moves the bytes
 * (serve-virtual-bus.ts over a pty, virtual-transport.ts in memory, or the
 * emulator), honouring responseDelayMs.
 */

import { parseBulkReadParams, parseSyncReadParams, ParamsError } from "./instruction-params.js";
import { PacketParser } from "./parser.js";
import { BROADCAST_ID, Instruction, type Packet } from "./protocol.js";
import type { VirtualDevice } from "./virtual-device.js";

export interface VirtualBusOptions {
  /** How long after the instruction packet the answers appear (the transport applies it). Default 0. */
  responseDelayMs?: number;
}

export interface VirtualBusStats {
  instructionPackets: number;
  crcErrors: number;
  garbageBytes: number;
  statusPackets: number;
}

export class VirtualBus {
  readonly devices: readonly VirtualDevice[];
  readonly responseDelayMs: number;
  readonly stats: VirtualBusStats = { instructionPackets: 0, crcErrors: 0, garbageBytes: 0, statusPackets: 0 };
  private readonly parser = new PacketParser();

  constructor(devices: readonly VirtualDevice[], options: VirtualBusOptions = {}) {
    this.devices = [...devices];
    this.responseDelayMs = options.responseDelayMs ?? 0;
    if (!(this.responseDelayMs >= 0)) throw new RangeError(`VirtualBus responseDelayMs must be >= 0, got ${options.responseDelayMs}`);
  }

  /** The device currently answering to `id` (IDs can be changed by the host). */
  device(id: number): VirtualDevice | undefined {
    return this.devices.find((d) => d.id === id);
  }

  /** Feeds bytes from the host; returns the status packets put on the wire, in order. */
  receive(bytes: Uint8Array, nowMs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const event of this.parser.push(bytes)) {
      if (event.kind === "garbage") this.stats.garbageBytes += event.bytes.length;
      else if (event.kind === "crc-error") {
        this.stats.crcErrors++;
        for (const d of this.devices) {
          const answer = d.handleCorrupt(event.id, nowMs);
          if (answer) out.push(answer);
        }
      } else if (event.kind === "packet" && event.packet.instruction !== Instruction.Status) {
        // Status packets on the wire are other devices' answers (or our own echo): devices ignore them.
        this.stats.instructionPackets++;
        for (const d of this.devices) d.noteBusActivity(nowMs);
        for (const d of this.answerOrder(event.packet)) {
          const answer = d.handle(event.packet, nowMs);
          if (answer) out.push(answer);
        }
      }
    }
    this.stats.statusPackets += out.length;
    return out;
  }

  /** Advances every device's clock (Bus Watchdog, Realtime Tick). */
  tick(nowMs: number): void {
    for (const d of this.devices) d.tick(nowMs);
  }

  private answerOrder(packet: Packet): VirtualDevice[] {
    if (packet.id !== BROADCAST_ID) return this.devices.filter((d) => d.id === packet.id);
    try {
      if (packet.instruction === Instruction.SyncRead) return this.inListedOrder(parseSyncReadParams(packet.params).ids);
      if (packet.instruction === Instruction.BulkRead) return this.inListedOrder(parseBulkReadParams(packet.params).map((e) => e.id));
    } catch (e) {
      if (!(e instanceof ParamsError)) throw e;
    }
    return [...this.devices].sort((a, b) => a.id - b.id);
  }

  private inListedOrder(ids: number[]): VirtualDevice[] {
    const listed = ids.flatMap((id) => this.devices.filter((d) => d.id === id));
    // Devices not listed still see the packet (they stay silent), e.g. to keep their own state consistent.
    return [...listed, ...this.devices.filter((d) => !listed.includes(d))];
  }
}
