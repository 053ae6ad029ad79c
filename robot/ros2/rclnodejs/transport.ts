/**
 * Ros2Transport over rclnodejs, for machines where ROS 2 is installed and
 * sourced. rclnodejs is an optional dependency, imported only here and only
 * when this transport is opened; its API is used as documented for 0.2x-1.x:
 * Context, init(context, argv), new Node(name, namespace, context), Node.spin(),
 * Node.createPublisher(type, topic, {qos}), Node.createSubscription(type,
 * topic, {qos, enableTypedArray}, cb), QoS(history, depth, reliability,
 * durability), destroy*, shutdown(context).
 *
 * It runs a real ROS node ("s2r_<pid>"), so it shows in `ros2 node list`.
 */
import { checkMessageType, type Image, type JointState, type MessageInput, type MessageTypeName, type MessageTypes } from "../messages.js";
import { fullyQualifiedTopic } from "../names.js";
import { resolveQos, type Qos } from "../qos.js";
import { resolveDomainId } from "../domain.js";
import { disposedError, type Publisher, type Ros2Transport, type Subscription, type SubscriptionCallback } from "../transport.js";

/* The parts of rclnodejs used here (it ships its own typings, but it is not installed where s2r is built). */
interface RclQoS {
  readonly __brand?: "QoS";
}
interface RclPublisher {
  publish(message: unknown): void;
}
type RclSubscription = object;
interface RclNode {
  spin(timeout?: number): void;
  createPublisher(type: string, topic: string, options: { qos: RclQoS }): RclPublisher;
  createSubscription(type: string, topic: string, options: { qos: RclQoS; enableTypedArray: boolean }, callback: (msg: unknown) => void): RclSubscription;
  destroyPublisher(p: RclPublisher): void;
  destroySubscription(s: RclSubscription): void;
  countPublishers(topic: string): number;
  countSubscribers(topic: string): number;
  destroy(): void;
}
interface Rclnodejs {
  /** 1.x takes the domain id (a bigint); older versions ignore the argument and read ROS_DOMAIN_ID. */
  Context: new (domainId?: bigint) => object;
  init(context?: object, argv?: string[]): Promise<void>;
  Node: new (name: string, namespace?: string, context?: object) => RclNode;
  shutdown(context?: object): void;
  QoS: {
    new (history: number, depth: number, reliability: number, durability: number): RclQoS;
    HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: number };
    ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: number; RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number };
    DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: number; RMW_QOS_POLICY_DURABILITY_VOLATILE: number };
  };
}

export const RCLNODEJS_INSTALL_HINT = "source /opt/ros/humble/setup.bash (or your distro's setup script), then `npm install rclnodejs` in the s2r folder";
/** When ROS 2 is already sourced, only the package is missing (it builds against the sourced ROS 2). */
export const RCLNODEJS_PACKAGE_HINT = "`npm install rclnodejs` in the s2r folder, in this shell where ROS 2 is sourced";

/** True when a ROS 2 environment looks sourced in this shell (setup.bash sets both variables). */
export function ros2Sourced(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.ROS_DISTRO || env.AMENT_PREFIX_PATH);
}

/** Imports rclnodejs; throws an error saying what to do when it cannot. */
export async function importRclnodejs(): Promise<Rclnodejs> {
  if (!ros2Sourced()) throw new Error(`ros2: rclnodejs needs a sourced ROS 2 environment (neither ROS_DISTRO nor AMENT_PREFIX_PATH is set); ${RCLNODEJS_INSTALL_HINT}`);
  // A variable specifier keeps TypeScript from resolving a module that is optional.
  const specifier = "rclnodejs";
  let mod: { default?: Rclnodejs } & Partial<Rclnodejs>;
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    throw new Error(`ros2: rclnodejs does not load (${(e as Error).message.split("\n")[0]}); ${RCLNODEJS_PACKAGE_HINT}`);
  }
  return (mod.default ?? mod) as Rclnodejs;
}

export async function openRclnodejsTransport(opts: { domainId?: number } = {}): Promise<RclnodejsTransport> {
  const domainId = resolveDomainId(opts.domainId);
  const rcl = await importRclnodejs();
  // Older rclnodejs versions take the domain only from the environment when the context is initialised.
  if (opts.domainId !== undefined) process.env.ROS_DOMAIN_ID = String(domainId);
  const context = new rcl.Context(BigInt(domainId));
  await rcl.init(context, []);
  try {
    const node = new rcl.Node(`s2r_${process.pid}`, "", context);
    node.spin();
    return new RclnodejsTransport(rcl, context, node, domainId);
  } catch (e) {
    rcl.shutdown(context);
    throw e;
  }
}

interface Endpoint {
  dispose(): void;
}

export class RclnodejsTransport implements Ros2Transport {
  readonly name = "rclnodejs" as const;
  private readonly endpoints = new Set<Endpoint>();
  private disposed = false;

  constructor(
    private readonly rcl: Rclnodejs,
    private readonly context: object,
    private readonly node: RclNode,
    readonly domainId: number,
  ) {}

  createPublisher<K extends MessageTypeName>(topic: string, type: K, qos?: Partial<Qos>): Publisher<MessageTypes[K]> {
    const { full, rq } = this.prepare(topic, type, qos);
    const node = this.node;
    const endpoints = this.endpoints;
    const inner = node.createPublisher(type, full, { qos: rq });
    let open = true;
    const pub: Publisher<MessageTypes[K]> & Endpoint = {
      topic: full,
      publish(message: MessageInput<MessageTypes[K]>) {
        if (!open) throw disposedError(`the publisher on ${full}`);
        inner.publish(message);
      },
      // rcl counts the graph's subscriptions on the topic (QoS-compatible or not).
      matchedCount: () => node.countSubscribers(full),
      dispose() {
        if (!open) return;
        open = false;
        endpoints.delete(pub);
        node.destroyPublisher(inner);
      },
    };
    endpoints.add(pub);
    return pub;
  }

  createSubscription<K extends MessageTypeName>(topic: string, type: K, qos: Partial<Qos> | undefined, callback: SubscriptionCallback<MessageTypes[K]>): Subscription {
    if (typeof callback !== "function") throw new TypeError(`ros2: the subscription callback for ${topic} must be a function`);
    const { full, rq } = this.prepare(topic, type, qos);
    const node = this.node;
    const endpoints = this.endpoints;
    const inner = node.createSubscription(type, full, { qos: rq, enableTypedArray: false }, (msg) =>
      callback(normalize(type, msg) as MessageTypes[K], { receivedAt: performance.now(), sourceTime: Number.NaN }),
    );
    let open = true;
    const sub: Subscription & Endpoint = {
      topic: full,
      matchedCount: () => node.countPublishers(full),
      dispose() {
        if (!open) return;
        open = false;
        endpoints.delete(sub);
        node.destroySubscription(inner);
      },
    };
    endpoints.add(sub);
    return sub;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of [...this.endpoints]) e.dispose();
    this.node.destroy();
    this.rcl.shutdown(this.context);
  }

  private prepare(topic: string, type: string, qos: Partial<Qos> | undefined): { full: string; rq: RclQoS } {
    if (this.disposed) throw disposedError("the rclnodejs transport");
    checkMessageType(type);
    const full = fullyQualifiedTopic(topic);
    const q = resolveQos(qos, `qos[${topic}]`);
    const P = this.rcl.QoS;
    const rq = new P(
      P.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
      q.depth,
      q.reliability === "reliable" ? P.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE : P.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
      q.durability === "transient_local" ? P.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL : P.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
    );
    return { full, rq };
  }
}

/** rclnodejs may hand back typed arrays or plain arrays depending on version and field; give the shapes messages.ts promises. */
function normalize(type: MessageTypeName, msg: unknown): unknown {
  const toNumbers = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : Array.from((v as ArrayLike<number> | undefined) ?? []));
  if (type === "sensor_msgs/msg/JointState") {
    const m = msg as JointState;
    return { ...m, name: Array.from(m.name ?? []), position: toNumbers(m.position), velocity: toNumbers(m.velocity), effort: toNumbers(m.effort) };
  }
  if (type === "sensor_msgs/msg/Image" || type === "sensor_msgs/msg/CompressedImage") {
    const m = msg as Image;
    return { ...m, data: m.data instanceof Uint8Array ? m.data : Uint8Array.from((m.data as ArrayLike<number> | undefined) ?? []) };
  }
  if (type === "sensor_msgs/msg/CameraInfo") {
    const m = msg as MessageTypes["sensor_msgs/msg/CameraInfo"];
    return { ...m, d: toNumbers(m.d), k: toNumbers(m.k), r: toNumbers(m.r), p: toNumbers(m.p) };
  }
  const m = msg as MessageTypes["std_msgs/msg/Float64MultiArray"];
  return { ...m, data: toNumbers(m.data) };
}
