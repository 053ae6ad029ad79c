/**
 * Quality of service in ROS 2's terms, the subset s2r uses: reliability,
 * durability and keep-last history depth. Both transports map it one to one
 * (Cyclone: DDS reliability / durability / history; rclnodejs: rmw QoS).
 */
import { int, obj, oneOf, type Infer } from "../../common/schema.js";

export const qosSchema = obj({
  reliability: oneOf(["reliable", "best_effort"] as const, "reliable", "reliable: resend until acknowledged; best_effort: send once"),
  durability: oneOf(["volatile", "transient_local"] as const, "volatile", "transient_local: late subscribers get the last `depth` messages"),
  depth: int(10, { min: 1, max: 100000, description: "keep-last history depth" }),
});

export type Qos = Infer<typeof qosSchema>;

/** ROS 2's default profile (rmw_qos_profile_default): reliable, volatile, keep last 10. */
export const DEFAULT_QOS: Readonly<Qos> = Object.freeze(qosSchema.defaults());

/** ROS 2's sensor-data profile: best effort, volatile, keep last 5. */
export const SENSOR_DATA_QOS: Readonly<Qos> = Object.freeze({ reliability: "best_effort", durability: "volatile", depth: 5 });

/** Fills defaults and validates; errors name the field, e.g. "qos.depth: expected an integer >= 1 <= 100000, got 0". */
export function resolveQos(qos: Partial<Qos> | undefined, path = "qos"): Qos {
  return qosSchema.parse(qos ?? {}, path);
}
