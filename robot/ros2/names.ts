/**
 * ROS 2 topic names and their DDS form. s2r endpoints belong to no ROS node
 * namespace, so a relative name is taken from the root ("joint_states" is
 * "/joint_states"), and the node-relative forms ("~/x", "{node}") are refused.
 * On the wire, a ROS topic "/a/b" is the DDS topic "rt/a/b".
 */

const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class TopicNameError extends Error {
  constructor(
    readonly topic: string,
    problem: string,
  ) {
    super(`ros2: invalid topic name ${JSON.stringify(topic)}: ${problem}`);
    this.name = "TopicNameError";
  }
}

/** The fully qualified ROS name ("/joint_states"), or a TopicNameError saying what is wrong. */
export function fullyQualifiedTopic(topic: string): string {
  if (typeof topic !== "string" || topic.length === 0) throw new TopicNameError(String(topic), "it is empty");
  if (topic.includes("~") || topic.includes("{") || topic.includes("}")) {
    throw new TopicNameError(topic, "substitutions (~, {}) need a ROS node namespace; give the absolute name, e.g. /joint_states");
  }
  const full = topic.startsWith("/") ? topic : "/" + topic;
  if (full === "/") throw new TopicNameError(topic, "it names no topic");
  if (full.endsWith("/")) throw new TopicNameError(topic, "it must not end with /");
  if (full.includes("//")) throw new TopicNameError(topic, "it must not contain //");
  if (full.includes("__")) throw new TopicNameError(topic, "it must not contain repeated underscores (__)");
  for (const token of full.slice(1).split("/")) {
    if (!TOKEN.test(token)) {
      throw new TopicNameError(topic, `part ${JSON.stringify(token)} must be letters, digits and underscores, not starting with a digit`);
    }
  }
  // rmw's limit for a fully qualified topic name (RMW_TOPIC_MAX_NAME_LENGTH).
  if (full.length > 247) throw new TopicNameError(topic, `it is ${full.length} characters long; the limit is 247`);
  return full;
}

/** "/joint_states" (or "joint_states") -> "rt/joint_states". */
export function ddsTopicName(topic: string): string {
  return "rt" + fullyQualifiedTopic(topic);
}
