/**
 * Serves an EmulatedRig on a pseudo-terminal: socat makes a pty whose slave
 * is `link` (the path given to `s2r emulate --link`), so host code opens it
 * exactly as it would open /dev/ttyUSB0; the emulator answers through socat's
 * stdin and stdout (emulator-pty.ts). The plant advances on every event-loop
 * turn (a 1 ms interval) and before every answer.
 *
 * With `latency`, each answer leaves after a delay drawn from it (bus-latency.ts),
 * in order: what a USB adapter does to a real bus.
 *
 * Closing stops socat: the pty vanishes, like unplugging the adapter, and
 * socat removes the link. If the emulator process dies, socat follows it.
 */

import { lstat, readlink, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import type { Transport } from "../dynamixel/transport.js";
import type { EmulatedRig } from "./emulated-rig.js";
import { createEmulatorPty } from "./emulator-pty.js";
import type { BusLatency } from "./bus-latency.js";
import type { ReplyCorruption } from "./reply-faults.js";

export interface EmulatorServerOptions {
  /** Path the host opens (socat's link to the pty's slave end). A pty has no baud rate: bytes pass at once. */
  link: string;
  /** Milliseconds clock. Default performance.now. */
  clock?: () => number;
  /** Told about failures inside the serving loop (e.g. a diverging simulation); serving stops. */
  onError?: (e: Error) => void;
  /** Reply delays of a real bus; absent: answers leave at once. */
  latency?: BusLatency;
  /** A burst of answers with a bad CRC (reply-faults.ts); armed by the caller at the first torque enable. */
  corruption?: ReplyCorruption;
}

export interface ReplyDelayStats {
  replies: number;
  /** Sum and largest of the delays added, ms. */
  totalMs: number;
  maxMs: number;
}

export interface EmulatorServer {
  readonly link: string;
  /** Process id of the pty relay (socat), whose scheduling matters as much as the emulator's. */
  readonly relayPid: number;
  /** Resolves when serving ends (close(), socat gone, or an error). */
  readonly ended: Promise<void>;
  /** Delays added to the answers (all zero without latency). */
  readonly delays: ReplyDelayStats;
  close(): Promise<void>;
}

/** Refuses a link path that exists and is not a stale link left by a killed emulator. */
async function claimLink(link: string): Promise<void> {
  let info;
  try {
    info = await lstat(link);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (info.isSymbolicLink()) {
    const alive = await stat(link).then(
      () => true,
      () => false,
    );
    // Its pty is gone: left by an emulator that was killed (its socat may be removing it right now).
    if (!alive) return unlink(link).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
    throw new Error(`${link} already points at a live terminal (${await readlink(link)}): another emulator is serving it`);
  }
  throw new Error(`${link} exists and is not a link made by s2r emulate; choose another --link path`);
}

export async function serveEmulator(rig: EmulatedRig, o: EmulatorServerOptions): Promise<EmulatorServer> {
  const link = resolve(o.link);
  const clock = o.clock ?? (() => performance.now());
  await claimLink(link);
  const pair = await createEmulatorPty(link);
  const transport: Transport = pair.device;
  try {
    await Promise.race([
      pair.relaying,
      pair.exited.then(() => Promise.reject(new Error("socat exited before it started relaying"))),
      new Promise((_, reject) => setTimeout(() => reject(new Error("socat did not start relaying within 5 s")), 5000).unref()),
    ]);
  } catch (e) {
    await pair.close();
    throw e;
  }
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  let stopping: Promise<void> | undefined;
  const fail = (e: unknown) => {
    o.onError?.(e instanceof Error ? e : new Error(String(e)));
    void stop();
  };
  const delays: ReplyDelayStats = { replies: 0, totalMs: 0, maxMs: 0 };
  const send = (out: Uint8Array) => void transport.write(out).catch(() => undefined); // a vanished port is reported through onLost
  let lastSendAt = -Infinity;
  transport.onData((bytes) => {
    try {
      const now = clock();
      const answers = rig.receive(bytes, now);
      if (answers.length === 0) return;
      const joined = answers.length === 1 ? answers[0]! : concat(answers);
      const out = o.corruption ? o.corruption.apply(joined, now) : joined;
      if (!o.latency) return send(out);
      // Answers keep their order: one never overtakes an earlier, slower one.
      const at = Math.max(now + o.latency.nextMs(), lastSendAt);
      lastSendAt = at;
      delays.replies++;
      delays.totalMs += at - now;
      delays.maxMs = Math.max(delays.maxMs, at - now);
      void waitUntil(at, clock).then(() => stopping === undefined && send(out));
    } catch (e) {
      fail(e);
    }
  });
  rig.advanceTo(clock());
  const turn = setInterval(() => {
    try {
      rig.tick(clock());
    } catch (e) {
      fail(e);
    }
  }, 1);
  // Every caller (close(), a lost port, socat exiting) waits for the same, complete shutdown.
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(turn);
      await transport.close();
      await pair.close(); // socat removes the link as it exits
      resolveEnded();
    })());
  transport.onLost(() => void stop());
  void pair.exited.then(() => stop());
  return { link, relayPid: pair.pid, ended, delays, close: stop };
}

/**
 * Resolves at `at` (clock ms): a timer for the bulk (event-loop timers have
 * 1 ms granularity and wake late), then event-loop turns to the exact time.
 */
async function waitUntil(at: number, clock: () => number): Promise<void> {
  const coarse = at - clock() - 1;
  if (coarse > 0) await new Promise((r) => setTimeout(r, coarse));
  while (clock() < at) await new Promise((r) => setImmediate(r));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
