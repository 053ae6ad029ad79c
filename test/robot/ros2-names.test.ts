import { test } from "node:test";
import assert from "node:assert/strict";
import { ddsTopicName, fullyQualifiedTopic, TopicNameError } from "../../robot/ros2/names.js";
import { checkMessageType, ddsTypeName, float64MultiArray, MESSAGE_TYPE_NAMES, timeFromMs, timeToMs } from "../../robot/ros2/messages.js";
import { DEFAULT_QOS, resolveQos } from "../../robot/ros2/qos.js";
import { resolveDomainId } from "../../robot/ros2/domain.js";
import { ConfigError } from "../../common/schema.js";
import { openRos2Transport, probeRos2Transports } from "../../robot/ros2/open.js";

test("ROS topic names map to DDS topics with the rt prefix; relative names are taken from the root", () => {
  assert.equal(ddsTopicName("/joint_states"), "rt/joint_states");
  assert.equal(ddsTopicName("joint_states"), "rt/joint_states");
  assert.equal(ddsTopicName("/arm_voltage_controller/commands"), "rt/arm_voltage_controller/commands");
  assert.equal(fullyQualifiedTopic("a/b_2/C"), "/a/b_2/C");
});

test("invalid topic names are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["/", /names no topic/],
    ["/joint_states/", /must not end with \//],
    ["/a//b", /must not contain \/\//],
    ["/a__b", /repeated underscores/],
    ["/2d", /part "2d" must be letters, digits and underscores, not starting with a digit/],
    ["/a/b-c", /part "b-c"/],
    ["~/private", /substitutions/],
    ["/{node}/x", /substitutions/],
    ["/" + "a".repeat(247), /248 characters long; the limit is 247/],
  ];
  for (const [name, why] of cases) {
    assert.throws(() => fullyQualifiedTopic(name), (e: unknown) => e instanceof TopicNameError && why.test(e.message) && e.message.includes(JSON.stringify(name)), name);
  }
});

test("message types map to the DDS type names ROS 2 middleware announces", () => {
  assert.equal(ddsTypeName("sensor_msgs/msg/JointState"), "sensor_msgs::msg::dds_::JointState_");
  assert.equal(ddsTypeName("std_msgs/msg/Float64MultiArray"), "std_msgs::msg::dds_::Float64MultiArray_");
  assert.equal(ddsTypeName("sensor_msgs/msg/Image"), "sensor_msgs::msg::dds_::Image_");
  assert.equal(ddsTypeName("sensor_msgs/msg/CameraInfo"), "sensor_msgs::msg::dds_::CameraInfo_");
  assert.equal(MESSAGE_TYPE_NAMES.length, 5);
  assert.throws(() => checkMessageType("geometry_msgs/msg/Twist"), /unsupported message type "geometry_msgs\/msg\/Twist"; supported: sensor_msgs\/msg\/JointState/);
});

test("QoS defaults to ROS 2's default profile and rejects bad fields by name", () => {
  assert.deepEqual(DEFAULT_QOS, { reliability: "reliable", durability: "volatile", depth: 10 });
  assert.deepEqual(resolveQos(undefined), DEFAULT_QOS);
  assert.deepEqual(resolveQos({ reliability: "best_effort", depth: 1 }), { reliability: "best_effort", durability: "volatile", depth: 1 });
  assert.throws(() => resolveQos({ depth: 0 }, "qos[/joint_states]"), (e: unknown) => e instanceof ConfigError && e.message.startsWith("qos[/joint_states].depth: expected an integer >= 1"));
  assert.throws(() => resolveQos({ durability: "transient" as never }), /qos\.durability: expected one of "volatile", "transient_local", got "transient"/);
  assert.throws(() => resolveQos({ history: "keep_all" } as never), /qos\.history: unknown field/);
});

test("the domain comes from ROS_DOMAIN_ID (unset or empty = 0) and is range-checked", () => {
  assert.equal(resolveDomainId(undefined, {}), 0);
  assert.equal(resolveDomainId(undefined, { ROS_DOMAIN_ID: "" }), 0);
  assert.equal(resolveDomainId(undefined, { ROS_DOMAIN_ID: "42" }), 42);
  assert.equal(resolveDomainId(7, { ROS_DOMAIN_ID: "42" }), 7);
  assert.throws(() => resolveDomainId(undefined, { ROS_DOMAIN_ID: "abc" }), /ROS_DOMAIN_ID="abc" is not a valid domain id; expected an integer in \[0, 232\]/);
  assert.throws(() => resolveDomainId(233, {}), /domainId is not a valid domain id/);
});

test("ROS times convert to and from epoch milliseconds", () => {
  assert.deepEqual(timeFromMs(1700000000123.456), { sec: 1700000000, nanosec: 123456000 });
  assert.deepEqual(timeFromMs(0), { sec: 0, nanosec: 0 });
  assert.equal(timeToMs({ sec: 12, nanosec: 500000000 }), 12500);
  assert.deepEqual(float64MultiArray([1.5]), { layout: { dim: [], data_offset: 0 }, data: [1.5] });
});

test("without a sourced ROS 2, rclnodejs is reported unavailable with what to do", async () => {
  const saved = { d: process.env.ROS_DISTRO, a: process.env.AMENT_PREFIX_PATH };
  delete process.env.ROS_DISTRO;
  delete process.env.AMENT_PREFIX_PATH;
  try {
    const rcl = (await probeRos2Transports()).find((p) => p.name === "rclnodejs")!;
    assert.equal(rcl.available, false);
    assert.match(rcl.detail, /no ROS 2 environment is sourced/);
    assert.match(rcl.install!, /source \/opt\/ros\/humble\/setup\.bash/);
    assert.match(rcl.install!, /npm install rclnodejs/);
  } finally {
    if (saved.d !== undefined) process.env.ROS_DISTRO = saved.d;
    if (saved.a !== undefined) process.env.AMENT_PREFIX_PATH = saved.a;
  }
});

test("openRos2Transport rejects an unknown preference by name", async () => {
  await assert.rejects(openRos2Transport({ prefer: "fastdds" as never }), /prefer must be "rclnodejs" or "cyclone", got "fastdds"/);
});
