/**
 * Ros2Transport over the Cyclone DDS addon: one DDS participant per transport,
 * one DDS topic + writer or reader per endpoint, with ROS 2's naming
 * ("rt/" topics, "pkg::msg::dds_::Type_" types) and QoS, so ROS 2 nodes using
 * rmw_cyclonedds_cpp (and other RMWs on the same domain) see these endpoints.
 *
 * It is not a ROS node: `ros2 topic list/echo/pub` see its topics, while
 * `ros2 node list` does not list it.
 */
import { checkMessageType, type MessageInput, type MessageTypeName, type MessageTypes } from "../messages.js";
import { ddsTopicName, fullyQualifiedTopic } from "../names.js";
import { resolveQos, type Qos } from "../qos.js";
import { resolveDomainId } from "../domain.js";
import { disposedError, type Publisher, type Ros2Transport, type Subscription, type SubscriptionCallback } from "../transport.js";
import { loadCycloneAddon, type CycloneAddon } from "./native.js";

export interface CycloneTransportOptions {
  /** Default: ROS_DOMAIN_ID, else 0. */
  domainId?: number;
}

/** Throws with what to install when the addon is unavailable. */
export function openCycloneTransport(opts: CycloneTransportOptions = {}): CycloneTransport {
  const domainId = resolveDomainId(opts.domainId);
  const load = loadCycloneAddon();
  if (!load.ok) throw new Error(`ros2: the Cyclone DDS transport is unavailable: ${load.reason}; ${load.install}`);
  return new CycloneTransport(load.addon, domainId);
}

interface Endpoint {
  dispose(): void;
}

export class CycloneTransport implements Ros2Transport {
  readonly name = "cyclone" as const;
  private readonly participant: number;
  private readonly endpoints = new Set<Endpoint>();
  private disposed = false;

  constructor(
    private readonly addon: CycloneAddon,
    readonly domainId: number,
  ) {
    this.participant = addon.createParticipant(domainId);
  }

  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos?: Partial<Qos>): Publisher<MessageTypes[K]> {
    const { full, q } = this.prepare(topic, type, qos);
    const handle = this.addon.createWriter(this.participant, ddsTopicName(full), type, q.reliability === "reliable", q.durability === "transient_local", q.depth);
    const addon = this.addon;
    const endpoints = this.endpoints;
    let open = true;
    const pub: Publisher<MessageTypes[K]> & Endpoint = {
      topic: full,
      publish(message: MessageInput<MessageTypes[K]>) {
        if (!open) throw disposedError(`the publisher on ${full}`);
        addon.write(handle, message);
      },
      matchedCount() {
        if (!open) throw disposedError(`the publisher on ${full}`);
        return addon.matchedCount(handle);
      },
      dispose() {
        if (!open) return;
        open = false;
        endpoints.delete(pub);
        addon.dispose(handle);
      },
    };
    endpoints.add(pub);
    return pub;
  }

  createSubscription<K extends MessageTypeName>(topic: string, type: K, qos: Partial<Qos> | undefined, callback: SubscriptionCallback<MessageTypes[K]>): Subscription {
    if (typeof callback !== "function") throw new TypeError(`ros2: the subscription callback for ${topic} must be a function`);
    const { full, q } = this.prepare(topic, type, qos);
    const handle = this.addon.createReader(
      this.participant,
      ddsTopicName(full),
      type,
      q.reliability === "reliable",
      q.durability === "transient_local",
      q.depth,
      (message, sourceTime) => callback(message as MessageTypes[K], { receivedAt: performance.now(), sourceTime }),
    );
    const addon = this.addon;
    const endpoints = this.endpoints;
    let open = true;
    const sub: Subscription & Endpoint = {
      topic: full,
      matchedCount() {
        if (!open) throw disposedError(`the subscription on ${full}`);
        return addon.matchedCount(handle);
      },
      dispose() {
        if (!open) return;
        open = false;
        endpoints.delete(sub);
        addon.dispose(handle);
      },
    };
    endpoints.add(sub);
    return sub;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of [...this.endpoints]) e.dispose();
    this.addon.dispose(this.participant);
  }

  private prepare(topic: string, type: string, qos: Partial<Qos> | undefined): { full: string; q: Qos } {
    if (this.disposed) throw disposedError("the Cyclone DDS transport");
    checkMessageType(type);
    return { full: fullyQualifiedTopic(topic), q: resolveQos(qos, `qos[${topic}]`) };
  }
}
