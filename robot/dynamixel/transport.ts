/**
 * What DynamixelBus needs from a byte pipe: the serial port adapter
 * (robot/serial/serial-transport.ts) and the in-memory link to a VirtualBus
 * (virtual-transport.ts) both provide it.
 */

import type { DxlPortLostError } from "./errors.js";

export interface Transport {
  /** Port path (or a description of the link), used in messages. */
  readonly path: string;
  /** Resolves once the bytes are handed to the OS (or the peer); rejects with DxlPortLostError if the port is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Received bytes, in order, in whatever pieces they arrive. Returns the unsubscribe function. */
  onData(listener: (bytes: Uint8Array) => void): () => void;
  /** Called once if the device disappears (unplugged adapter, closed pty). Returns the unsubscribe function. */
  onLost(listener: (error: DxlPortLostError) => void): () => void;
  /** Releases the port; idempotent. Does not report `lost`. */
  close(): Promise<void>;
}
