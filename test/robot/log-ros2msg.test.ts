import test from "node:test";
import assert from "node:assert/strict";
import { concatMsgDefinitions, MSG_SEPARATOR, parseRos2Msg } from "../../robot/log/ros2msg.js";
import { FLOAT64_MULTI_ARRAY_SCHEMA, JOINT_STATE_SCHEMA, LOG_SCHEMA, LOOP_TIMING_SCHEMA, POLICY_STEP_SCHEMA } from "../../robot/log/schemas.js";

const fieldsOf = (schema: { name: string; definition: string }, type?: string) => {
  const defs = parseRos2Msg(schema.name, schema.definition);
  return defs.types.get(type ?? defs.root)!.fields.map((f) => `${f.type}${f.array === "sequence" ? "[]" : f.array === "fixed" ? `[${f.arrayLength}]` : ""} ${f.name}`);
};

test("the standard schemas parse with all their dependencies, in the layout Foxglove expects", () => {
  assert.deepEqual(fieldsOf(JOINT_STATE_SCHEMA), ["std_msgs/Header header", "string[] name", "float64[] position", "float64[] velocity", "float64[] effort"]);
  assert.deepEqual(fieldsOf(JOINT_STATE_SCHEMA, "std_msgs/Header"), ["builtin_interfaces/Time stamp", "string frame_id"]);
  assert.deepEqual(fieldsOf(JOINT_STATE_SCHEMA, "builtin_interfaces/Time"), ["int32 sec", "uint32 nanosec"]);
  assert.deepEqual(fieldsOf(FLOAT64_MULTI_ARRAY_SCHEMA), ["std_msgs/MultiArrayLayout layout", "float64[] data"]);
  assert.deepEqual(fieldsOf(FLOAT64_MULTI_ARRAY_SCHEMA, "std_msgs/MultiArrayLayout"), ["std_msgs/MultiArrayDimension[] dim", "uint32 data_offset"]);
  assert.deepEqual(fieldsOf(FLOAT64_MULTI_ARRAY_SCHEMA, "std_msgs/MultiArrayDimension"), ["string label", "uint32 size", "uint32 stride"]);
  assert.deepEqual(fieldsOf(LOG_SCHEMA), ["builtin_interfaces/Time stamp", "uint8 level", "string name", "string msg", "string file", "string function", "uint32 line"]);
  assert.deepEqual(
    parseRos2Msg(LOG_SCHEMA.name, LOG_SCHEMA.definition).types.get("rcl_interfaces/Log")!.constants.map((c) => `${c.name}=${c.value}`),
    ["DEBUG=10", "INFO=20", "WARN=30", "ERROR=40", "FATAL=50"],
  );
  assert.deepEqual(fieldsOf(POLICY_STEP_SCHEMA), ["builtin_interfaces/Time stamp", "float64[] observation", "float64[] action", "float64 value", "string[] osi_names", "float64[] osi_estimate"]);
  assert.deepEqual(fieldsOf(LOOP_TIMING_SCHEMA), [
    "builtin_interfaces/Time stamp",
    "uint32 cycle",
    "float64 period_ms",
    "float64 target_period_ms",
    "float64 read_ms",
    "float64 infer_ms",
    "float64 write_ms",
    "bool deadline_missed",
    "float64 wake_late_ms",
    "float64 stale_ms",
    "string late_cause",
    "float64 vision_ms",
  ]);
  // Dependencies are delimited by exactly 80 '=' and "MSG: pkg/Type".
  for (const s of [JOINT_STATE_SCHEMA, FLOAT64_MULTI_ARRAY_SCHEMA, LOG_SCHEMA, POLICY_STEP_SCHEMA, LOOP_TIMING_SCHEMA]) {
    for (const m of s.definition.matchAll(/^(=+)\n(MSG: .*)$/gm)) {
      assert.equal(m[1]!.length, 80);
      assert.match(m[2]!, /^MSG: [a-z_]+\/[A-Za-z]+$/);
    }
  }
  assert.match(JOINT_STATE_SCHEMA.definition, new RegExp(`\n${MSG_SEPARATOR}\nMSG: std_msgs/Header\n`));
});

test("message syntax: arrays, bounds, defaults, constants, comments, relative names", () => {
  const text = concatMsgDefinitions(
    `# comment line
int32[4] fixed      # trailing comment
string<=8[<=3] tags
uint8 mode 3        # default value
Point[] points
string NAME="a # not a comment"
float64 PI_ISH = 3.14 # comment
pkg_b/Other other`,
    [
      ["pkg_a/msg/Point", "float64 x\nfloat64 y"],
      ["pkg_b/Other", "bool flag"],
    ],
  );
  const defs = parseRos2Msg("pkg_a/msg/Thing", text);
  assert.equal(defs.root, "pkg_a/Thing");
  const t = defs.types.get("pkg_a/Thing")!;
  assert.deepEqual(
    t.fields.map((f) => [f.name, f.type, f.array, f.arrayLength ?? f.arrayBound ?? null, f.stringBound ?? null]),
    [
      ["fixed", "int32", "fixed", 4, null],
      ["tags", "string", "sequence", 3, 8],
      ["mode", "uint8", "none", null, null],
      ["points", "pkg_a/Point", "sequence", null, null],
      ["other", "pkg_b/Other", "none", null, null],
    ],
  );
  assert.deepEqual(t.constants, [
    { name: "NAME", type: "string", value: "a # not a comment" },
    { name: "PI_ISH", type: "float64", value: "3.14" },
  ]);
});

test("bad schemas are errors naming the schema, type and line", () => {
  assert.throws(() => parseRos2Msg("a/msg/B", "Missing thing"), /schema a\/msg\/B: a\/B\.thing has type a\/Missing, which is not defined/);
  assert.throws(() => parseRos2Msg("a/msg/B", "int32 x\nint32 x"), /type a\/B, line 2: x is declared twice/);
  assert.throws(() => parseRos2Msg("a/msg/B", "int32"), /type a\/B, line 1: cannot parse "int32"/);
  assert.throws(() => parseRos2Msg("a/msg/B", "int32[<=] x"), /line 1: cannot parse the type|needs a bound/);
  assert.throws(() => parseRos2Msg("a/msg/B", "wstring w"), /wstring fields are not supported/);
  assert.throws(() => parseRos2Msg("a/msg/B", `int32 x\n${MSG_SEPARATOR}\nnot a header`), /line 3: expected "MSG: pkg\/Type" after the separator/);
  assert.throws(() => parseRos2Msg("a/msg/B", `C c\n${MSG_SEPARATOR}\nMSG: a/C\nB b`), /a\/B contains itself|type a\/B contains itself/);
  assert.throws(() => parseRos2Msg("nopackage", "int32 x"), /is not a package\/Type name/);
});
