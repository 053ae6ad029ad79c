/**
 * A subscription that keeps only the newest message and when it arrived, the
 * shape a control loop wants: read the latest state each tick, and know how
 * stale it is.
 */
import type { MessageTypeName, MessageTypes } from "./messages.js";
import type { Qos } from "./qos.js";
import type { MessageInfo, Ros2Transport, Subscription } from "./transport.js";

export interface Received<T> {
  message: T;
  info: MessageInfo;
  /** 1 for the first message received, then 2, 3, ... */
  seq: number;
}

interface Waiter<T> {
  resolve(r: Received<T>): void;
  reject(e: Error): void;
}

export class LatestMessage<T> {
  private last: Received<T> | undefined;
  private waiters = new Set<Waiter<T>>();
  private readonly subscription: Subscription;

  constructor(transport: Ros2Transport, topic: string, type: MessageTypeName, qos?: Partial<Qos>) {
    let seq = 0;
    this.subscription = transport.createSubscription(topic, type, qos, (message, info) => {
      const r = { message: message as T, info, seq: ++seq };
      this.last = r;
      for (const w of [...this.waiters]) w.resolve(r);
    });
  }

  static subscribe<K extends MessageTypeName>(transport: Ros2Transport, topic: string, type: K, qos?: Partial<Qos>): LatestMessage<MessageTypes[K]> {
    return new LatestMessage<MessageTypes[K]>(transport, topic, type, qos);
  }

  get topic(): string {
    return this.subscription.topic;
  }

  /** The newest message, or undefined before the first one. */
  get latest(): Received<T> | undefined {
    return this.last;
  }

  /** Milliseconds since the newest message reached JS (Infinity before the first). */
  ageMs(now = performance.now()): number {
    return this.last ? now - this.last.info.receivedAt : Number.POSITIVE_INFINITY;
  }

  /** Resolves with the next message to arrive; rejects after timeoutMs, when signal aborts, or on dispose(). */
  next(timeoutMs: number, signal?: AbortSignal): Promise<Received<T>> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter<T> = {
        resolve: (r) => (settle(), resolve(r)),
        reject: (e) => (settle(), reject(e)),
      };
      const onAbort = () => waiter.reject(new Error(`ros2: waiting for ${this.topic} was aborted`));
      const timer = setTimeout(() => waiter.reject(new Error(`ros2: no message on ${this.topic} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.add(waiter);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  matchedCount(): number {
    return this.subscription.matchedCount();
  }

  dispose(): void {
    this.subscription.dispose();
    for (const w of [...this.waiters]) w.reject(new Error(`ros2: the subscription on ${this.topic} was disposed`));
  }
}
