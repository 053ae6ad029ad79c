import test from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { ProtoWriter } from "../../policies/onnx/protobuf-writer.js";
import { ProtoReader, ProtoDecodeError } from "../../policies/onnx/protobuf-reader.js";
import { exportPolicyOnnx, DEFAULT_OPSET } from "../../policies/onnx/export-policy.js";
import { inspectOnnxModel } from "../../policies/onnx/inspect-model.js";
import { randomPolicyParts } from "../../policies/onnx/random-parts.js";
import { NetworkSpecError } from "../../policies/onnx/check-network.js";
import type { PolicyParts } from "../../policies/onnx/policy-parts.js";

// The ONNX subset the exporter writes, transcribed from the field list of the
// official onnx/onnx.proto (proto2). Decoding with an independent protobuf
// implementation checks our encoder's framing and field numbers.
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4;
  optional TensorProto t = 5; repeated float floats = 7; repeated int64 ints = 8; optional int32 type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3;
  optional string op_type = 4; repeated AttributeProto attribute = 5; optional string domain = 7;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1; optional string producer_name = 2; optional string producer_version = 3;
  optional GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; repeated ValueInfoProto value_info = 13;
}
message TensorProto { repeated int64 dims = 1; optional int32 data_type = 2; optional string name = 8; optional bytes raw_data = 9; }
message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  optional Tensor tensor_type = 1;
}
`;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
const ModelType = root.lookupType("onnx.ModelProto");

interface Dim { dim_value?: number; dim_param?: string }
interface ValueInfo { name: string; type: { tensor_type: { elem_type: number; shape: { dim: Dim[] } } } }
interface Tensor { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }
interface Node { op_type: string; input: string[]; output: string[]; attribute?: { name: string; type: number; i?: number; f?: number }[] }
interface Model {
  ir_version: number;
  producer_name: string;
  opset_import: { domain?: string; version: number }[];
  metadata_props: { key: string; value: string }[];
  graph: { name: string; node: Node[]; initializer: Tensor[]; input: ValueInfo[]; output: ValueInfo[] };
}

function decode(bytes: Uint8Array): Model {
  return ModelType.toObject(ModelType.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Model;
}

const shapeOf = (v: ValueInfo) => v.type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value);

test("varints, fixed32 floats and packed fields match the protobuf encoding", () => {
  const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString("hex");
  assert.equal(hex(new ProtoWriter().varint(0)), "00");
  assert.equal(hex(new ProtoWriter().varint(300)), "ac02");
  assert.equal(hex(new ProtoWriter().varint(2 ** 40)), "808080808020");
  assert.equal(hex(new ProtoWriter().varint(-1)), "ffffffffffffffffff01"); // int64 −1 sign-extends to 10 bytes
  assert.equal(hex(new ProtoWriter().int(3, 150)), "189601");
  assert.equal(hex(new ProtoWriter().float(2, 1)), "150000803f");
  assert.equal(hex(new ProtoWriter().string(2, "hi")), "12026869");
  assert.equal(hex(new ProtoWriter().packedInts(1, [1, 300])), "0a0301ac02");
  assert.equal(hex(new ProtoWriter().packedFloats(7, [1, -2])), "3a080000803f000000c0");
  const r = new ProtoReader(new ProtoWriter().int(1, -5).int(2, 2 ** 40).finish());
  assert.equal(r.next()!.varint, -5);
  assert.equal(r.next()!.varint, 2 ** 40);
  assert.equal(r.next(), undefined);
});

test("the reader refuses truncated and malformed input, naming the byte", () => {
  const whole = new ProtoWriter().string(2, "hello").finish();
  assert.throws(() => new ProtoReader(whole.subarray(0, 4)).next(), (e: unknown) => e instanceof ProtoDecodeError && /truncated/.test(e.message) && e.offset === 2);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x0b)).next(), /invalid wire type 3/);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x08, 0x80)).next(), /truncated varint/);
});

test("an exported UP-OSI GRU policy decodes with protobufjs: header, interface, initializer shapes", () => {
  const parts = randomPolicyParts(
    { obsSize: 5, actSize: 2, normalizeObs: true, osi: { outSize: 3, hidden: [8], recurrent: { kind: "gru", size: 6 } }, actor: { hidden: [16], recurrent: { kind: "lstm", size: 12 } } },
    7,
  );
  const bytes = exportPolicyOnnx(parts, { actionBound: { kind: "tanh", low: [-1, -2], high: [1, 2] }, metadata: { "s2r.run": "r1" } });
  const m = decode(bytes);
  assert.equal(m.ir_version, 8);
  assert.equal(m.producer_name, "s2r");
  assert.deepEqual(m.opset_import.map((o) => [o.domain ?? "", o.version]), [["", DEFAULT_OPSET]]);
  const meta = new Map(m.metadata_props.map((p) => [p.key, p.value]));
  assert.equal(meta.get("s2r.run"), "r1");
  const layout = JSON.parse(meta.get("s2r.layout")!);
  assert.deepEqual(layout.segments, [
    { owner: "actor", kind: "lstm", hidden: 12, hOffset: 0, cOffset: 0 },
    { owner: "osi", kind: "gru", hidden: 6, hOffset: 12 },
  ]);

  const g = m.graph;
  assert.deepEqual(g.input.map((v) => [v.name, shapeOf(v)]), [["obs", ["batch", 5]], ["h_in", ["batch", 18]], ["c_in", ["batch", 12]]]);
  assert.deepEqual(g.output.map((v) => [v.name, shapeOf(v)]), [["action", ["batch", 2]], ["osi", ["batch", 3]], ["h_out", ["batch", 18]], ["c_out", ["batch", 12]]]);
  for (const v of [...g.input, ...g.output]) assert.equal(v.type.tensor_type.elem_type, 1);

  // Every layer's weights are present with the shape network-spec gives them, as little-endian float32.
  const init = new Map(g.initializer.map((t) => [t.name, t]));
  const actorLstm = parts.actor.layers.find((l) => l.kind === "lstm")!;
  assert.equal(actorLstm.kind, "lstm");
  const wIh = init.get("actor_2_lstm_wIh")!;
  assert.deepEqual(wIh.dims, [48, 16]); // [4H, in]: the LSTM reads the 16-wide ELU block
  assert.equal(wIh.data_type, 1);
  const view = new DataView(wIh.raw_data.buffer, wIh.raw_data.byteOffset, wIh.raw_data.byteLength);
  if (actorLstm.kind === "lstm") assert.equal(view.getFloat32(4 * 17, true), actorLstm.wIh[17]);
  assert.deepEqual(init.get("actor_0_linear_w")!.dims, [16, 8]); // UP-OSI: actor input = 5 obs + 3 OSI
  for (const t of g.initializer) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    assert.equal(t.raw_data.byteLength, n * (t.data_type === 7 ? 8 : 4), `initializer ${t.name} size`);
  }
  assert.deepEqual(init.get("osi_2_gru_wHh")!.dims, [18, 6]);
  assert.deepEqual(init.get("obs_norm_0_normalize_mean")!.dims, [5]);

  // Nodes use only primitive ops, and every node input is defined before use.
  const ops = new Set(g.node.map((n) => n.op_type));
  for (const op of ops) assert.ok(["Gemm", "Add", "Sub", "Mul", "Div", "Sigmoid", "Tanh", "Elu", "Clip", "Slice", "Concat", "Min", "Max", "Identity"].includes(op), op);
  assert.ok(!ops.has("GRU") && !ops.has("LSTM"));
  const defined = new Set([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  for (const n of g.node) {
    for (const i of n.input) assert.ok(defined.has(i), `node ${n.op_type} reads ${i} before it is defined`);
    for (const o of n.output) defined.add(o);
  }
  for (const o of g.output) assert.ok(defined.has(o.name));
  const gemm = g.node.find((n) => n.op_type === "Gemm")!;
  assert.deepEqual(gemm.attribute!.map((a) => [a.name, a.type, a.i]), [["transB", 2, 1]]);

  // The runtime's own header reader agrees with protobufjs.
  const header = inspectOnnxModel(bytes);
  assert.equal(header.irVersion, 8);
  assert.equal(header.opsets.get(""), DEFAULT_OPSET);
  assert.deepEqual(header.inputs.map((v) => [v.name, v.shape]), g.input.map((v) => [v.name, shapeOf(v)]));
  assert.deepEqual(header.outputs.map((v) => v.name), ["action", "osi", "h_out", "c_out"]);
  assert.equal(header.initializerNames.size, g.initializer.length);
});

test("the IR version follows the opset, and a plain MLP has no state inputs", () => {
  const parts = randomPolicyParts({ obsSize: 3, actSize: 1, actor: { hidden: [4] } }, 1);
  for (const [opset, ir] of [[13, 7], [17, 8], [19, 9], [21, 10]] as const) {
    const m = decode(exportPolicyOnnx(parts, { opset }));
    assert.equal(m.ir_version, ir);
    assert.equal(m.opset_import[0]!.version, opset);
    assert.deepEqual(m.graph.input.map((v) => v.name), ["obs"]);
    assert.deepEqual(m.graph.output.map((v) => v.name), ["action"]);
  }
});

test("bad parts are refused with the part, layer and field named", () => {
  const good = randomPolicyParts({ obsSize: 4, actSize: 1, actor: { hidden: [8], recurrent: { kind: "gru", size: 5 } } }, 2);
  const clone = (): PolicyParts => ({ ...good, actor: { layers: good.actor.layers.map((l) => ({ ...l })) } });

  const wrongIn = clone();
  (wrongIn.actor.layers[0] as { inFeatures: number }).inFeatures = 3;
  assert.throws(() => exportPolicyOnnx(wrongIn), (e: unknown) => e instanceof NetworkSpecError && /actor\.layers\[0\] \(linear\): inFeatures is 3 but the incoming size is 4/.test(e.message));

  const shortW = clone();
  const gru = shortW.actor.layers[2] as { wHh: Float32Array };
  gru.wHh = gru.wHh.subarray(1);
  assert.throws(() => exportPolicyOnnx(shortW), /actor\.layers\[2\] \(gru\): wHh \[15, 5\] has 74 values, expected 75/);

  const twoRnn = clone();
  const first = good.actor.layers[2]!;
  assert.equal(first.kind, "gru");
  if (first.kind === "gru") twoRnn.actor.layers.splice(3, 0, { ...first, inFeatures: 5, wIh: first.wHh });
  assert.throws(() => exportPolicyOnnx(twoRnn), /actor\.layers\[3\] \(gru\): a second recurrent layer/);

  assert.throws(() => exportPolicyOnnx(good, { opset: 7 }), /opset 7 is not supported by the exporter \(supported: 13\.\.21\)/);
  assert.throws(() => exportPolicyOnnx(good, { actionBound: { kind: "clip", low: [-1, -1], high: [1, 1] } }), /actionBound\.low must have 1 values/);
  assert.throws(() => exportPolicyOnnx(good, { actionBound: { kind: "clip", low: [1], high: [-1] } }), /action 0 needs finite low < high/);
  const badOsi: PolicyParts = { ...good, osi: { network: { layers: [] } } };
  assert.throws(() => exportPolicyOnnx(badOsi), /osi: has no layers/);
});
