/**
 * The subset of the ONNX protobuf schema the policy exporter writes, as plain
 * TypeScript values plus their encoders.
 *
 * Field numbers are those of the official onnx/onnx.proto (proto2, package
 * `onnx`); each encoder cites them next to the field. Fields we never write
 * (doc strings, sparse tensors, training info, segments, external data) are
 * left out.
 */

import { ProtoWriter } from "./protobuf-writer.js";

/** TensorProto.DataType values used here (onnx.proto: FLOAT = 1, UINT8 = 2, INT64 = 7). */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType (onnx.proto: FLOAT=1, INT=2, STRING=3, TENSOR=4, FLOATS=6, INTS=7). */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  /** Row-major, fixed-width little-endian element bytes. */
  rawData: Uint8Array;
}

export type AttributeProto =
  | { name: string; type: "float"; f: number }
  | { name: string; type: "int"; i: number }
  | { name: string; type: "string"; s: string }
  | { name: string; type: "tensor"; t: TensorProto }
  | { name: string; type: "floats"; floats: number[] }
  | { name: string; type: "ints"; ints: number[] };

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Empty / absent means the default ONNX domain. */
  domain?: string;
  attributes?: AttributeProto[];
}

/** A tensor dimension: a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export interface ValueInfoProto {
  name: string;
  elemType: DataTypeCode;
  shape: Dim[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImports: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  graph: GraphProto;
  metadata?: Record<string, string>;
}

/** Little-endian float32 bytes for TensorProto.raw_data. */
export function floatRawData(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Little-endian int64 bytes for TensorProto.raw_data. */
export function int64RawData(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

export function encodeTensor(w: ProtoWriter, t: TensorProto): void {
  w.packedInts(1, t.dims); // repeated int64 dims = 1 (packed is accepted for repeated scalars in proto2 parsers)
  w.int(2, t.dataType); // optional int32 data_type = 2
  w.string(8, t.name); // optional string name = 8
  w.bytes(9, t.rawData); // optional bytes raw_data = 9
}

export function encodeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name); // optional string name = 1
  switch (a.type) {
    case "float":
      w.float(2, a.f); // optional float f = 2
      w.int(20, AttributeType.FLOAT); // optional AttributeType type = 20
      break;
    case "int":
      w.int(3, a.i); // optional int64 i = 3
      w.int(20, AttributeType.INT);
      break;
    case "string":
      w.string(4, a.s); // optional bytes s = 4
      w.int(20, AttributeType.STRING);
      break;
    case "tensor":
      w.message(5, (m) => encodeTensor(m, a.t)); // optional TensorProto t = 5
      w.int(20, AttributeType.TENSOR);
      break;
    case "floats":
      w.packedFloats(7, a.floats); // repeated float floats = 7
      w.int(20, AttributeType.FLOATS);
      break;
    case "ints":
      w.packedInts(8, a.ints); // repeated int64 ints = 8
      w.int(20, AttributeType.INTS);
      break;
  }
}

export function encodeNode(w: ProtoWriter, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i); // repeated string input = 1
  for (const o of n.outputs) w.string(2, o); // repeated string output = 2
  if (n.name) w.string(3, n.name); // optional string name = 3
  w.string(4, n.opType); // optional string op_type = 4
  for (const a of n.attributes ?? []) w.message(5, (m) => encodeAttribute(m, a)); // repeated AttributeProto attribute = 5
  if (n.domain) w.string(7, n.domain); // optional string domain = 7
}

export function encodeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name); // ValueInfoProto: optional string name = 1
  w.message(2, (type) => {
    // ValueInfoProto: optional TypeProto type = 2
    type.message(1, (tensor) => {
      // TypeProto: Tensor tensor_type = 1 (oneof value)
      tensor.int(1, v.elemType); // TypeProto.Tensor: optional int32 elem_type = 1
      tensor.message(2, (shape) => {
        // TypeProto.Tensor: optional TensorShapeProto shape = 2
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            // TensorShapeProto: repeated Dimension dim = 1
            if (typeof d === "number") dim.int(1, d); // Dimension: int64 dim_value = 1
            else dim.string(2, d); // Dimension: string dim_param = 2
          });
        }
      });
    });
  });
}

export function encodeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (m) => encodeNode(m, n)); // repeated NodeProto node = 1
  w.string(2, g.name); // optional string name = 2
  for (const t of g.initializers) w.message(5, (m) => encodeTensor(m, t)); // repeated TensorProto initializer = 5
  for (const v of g.inputs) w.message(11, (m) => encodeValueInfo(m, v)); // repeated ValueInfoProto input = 11
  for (const v of g.outputs) w.message(12, (m) => encodeValueInfo(m, v)); // repeated ValueInfoProto output = 12
  for (const v of g.valueInfo ?? []) w.message(13, (m) => encodeValueInfo(m, v)); // repeated ValueInfoProto value_info = 13
}

export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion); // optional int64 ir_version = 1
  w.string(2, model.producerName); // optional string producer_name = 2
  w.string(3, model.producerVersion); // optional string producer_version = 3
  w.message(7, (m) => encodeGraph(m, model.graph)); // optional GraphProto graph = 7
  for (const op of model.opsetImports) {
    w.message(8, (m) => {
      // repeated OperatorSetIdProto opset_import = 8
      m.string(1, op.domain); // OperatorSetIdProto: optional string domain = 1
      m.int(2, op.version); // OperatorSetIdProto: optional int64 version = 2
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (m) => {
      // repeated StringStringEntryProto metadata_props = 14
      m.string(1, key); // StringStringEntryProto: optional string key = 1
      m.string(2, value); // StringStringEntryProto: optional string value = 2
    });
  }
  return w.finish();
}
