/**
 * The transport-neutral face of ROS 2 in s2r: publishers and subscriptions of
 * the message types in messages.ts, with ROS 2 QoS. Two implementations:
 * rclnodejs where ROS 2 is sourced, and a Cyclone DDS addon that speaks ROS 2's
 * DDS conventions without ROS installed (see open.ts for the choice).
 */
import type { MessageInput, MessageTypeName, MessageTypes } from "./messages.js";
import type { Qos } from "./qos.js";

export type TransportName = "rclnodejs" | "cyclone";

export interface Publisher<T> {
  /** Fully qualified ROS name, e.g. "/joint_states". */
  readonly topic: string;
  /** Sends one message. Bad fields throw a TypeError naming the type and field; missing fields are zero / empty. */
  publish(message: MessageInput<T>): void;
  /** Subscriptions currently matched (discovered, with compatible QoS). */
  matchedCount(): number;
  dispose(): void;
}

export interface MessageInfo {
  /** performance.now() when the message reached JS, ms. */
  receivedAt: number;
  /** The publisher's source timestamp, ms since the Unix epoch (NaN where the transport does not report it). */
  sourceTime: number;
}

export type SubscriptionCallback<T> = (message: T, info: MessageInfo) => void;

export interface Subscription {
  readonly topic: string;
  /** Publishers currently matched. */
  matchedCount(): number;
  dispose(): void;
}

/**
 * An open connection to the ROS 2 graph. Open subscriptions keep the
 * process alive (like listening sockets) until they, or the transport, are
 * disposed; dispose() closes every endpoint created from this transport.
 */
export interface Ros2Transport {
  readonly name: TransportName;
  /** ROS_DOMAIN_ID in use. */
  readonly domainId: number;
  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos?: Partial<Qos>): Publisher<MessageTypes[K]>;
  createSubscription<K extends MessageTypeName>(topic: string, type: K, qos: Partial<Qos> | undefined, callback: SubscriptionCallback<MessageTypes[K]>): Subscription;
  dispose(): void;
}

/** Thrown when an endpoint or transport is used after dispose(). */
export function disposedError(what: string): Error {
  return new Error(`ros2: ${what} was used after dispose()`);
}
