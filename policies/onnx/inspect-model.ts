/**
 * Reads what a policy loader needs to know about an ONNX file before handing
 * it to onnxruntime: IR version, operator sets, graph inputs/outputs with
 * shapes, and metadata. Nodes and initializers are skipped, not decoded.
 *
 * This lets the runtime refuse an unsupported opset or a missing input with a
 * message naming the file and the problem, instead of onnxruntime's own
 * messages, and tells a corrupt or truncated file apart from a wrong one.
 * Field numbers: official onnx.proto (see onnx-proto.ts).
 */

import { ProtoDecodeError, ProtoReader, type ProtoField } from "./protobuf-reader.js";
import type { Dim } from "./onnx-proto.js";

export interface InspectedValue {
  name: string;
  /** TensorProto.DataType code (1 = float32), or 0 when the value is not a tensor. */
  elemType: number;
  /** Undefined when the file gives no shape. */
  shape?: Dim[];
}

export interface InspectedModel {
  irVersion: number;
  /** Operator set version per domain ("" is the default ONNX domain). */
  opsets: Map<string, number>;
  producerName: string;
  producerVersion: string;
  graphName: string;
  inputs: InspectedValue[];
  outputs: InspectedValue[];
  initializerNames: Set<string>;
  metadata: Map<string, string>;
}

/** The file decodes as protobuf but is not an ONNX model (e.g. no graph). */
export class NotAnOnnxModelError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = "NotAnOnnxModelError";
  }
}

/** Throws ProtoDecodeError for a truncated/corrupt file, NotAnOnnxModelError for a non-model. */
export function inspectOnnxModel(bytes: Uint8Array): InspectedModel {
  if (bytes.length === 0) throw new NotAnOnnxModelError("the file is empty");
  const top = new ProtoReader(bytes);
  let irVersion: number | undefined;
  let graph: Uint8Array | undefined;
  const opsets = new Map<string, number>();
  const metadata = new Map<string, string>();
  let producerName = "";
  let producerVersion = "";
  for (let f = top.next(); f; f = top.next()) {
    switch (f.field) {
      case 1: // ModelProto: optional int64 ir_version = 1
        irVersion = varintOf(f, "ir_version");
        break;
      case 2: // optional string producer_name = 2
        producerName = top.text(bytesOf(f, "producer_name"));
        break;
      case 3: // optional string producer_version = 3
        producerVersion = top.text(bytesOf(f, "producer_version"));
        break;
      case 7: // optional GraphProto graph = 7
        graph = bytesOf(f, "graph");
        break;
      case 8: {
        // repeated OperatorSetIdProto opset_import = 8 {domain = 1, version = 2}
        const r = top.sub(bytesOf(f, "opset_import"));
        let domain = "";
        let version: number | undefined;
        for (let g = r.next(); g; g = r.next()) {
          if (g.field === 1) domain = r.text(bytesOf(g, "opset_import.domain"));
          else if (g.field === 2) version = varintOf(g, "opset_import.version");
        }
        if (version === undefined) throw new NotAnOnnxModelError(`opset_import for domain "${domain}" has no version`);
        opsets.set(domain, version);
        break;
      }
      case 14: {
        // repeated StringStringEntryProto metadata_props = 14 {key = 1, value = 2}
        const r = top.sub(bytesOf(f, "metadata_props"));
        let key = "";
        let value = "";
        for (let g = r.next(); g; g = r.next()) {
          if (g.field === 1) key = r.text(bytesOf(g, "metadata key"));
          else if (g.field === 2) value = r.text(bytesOf(g, "metadata value"));
        }
        metadata.set(key, value);
        break;
      }
      default:
        break; // other ModelProto fields (domain, doc_string, functions, ...) are not needed
    }
  }
  if (irVersion === undefined) throw new NotAnOnnxModelError("no ir_version field (not an ONNX model)");
  if (graph === undefined) throw new NotAnOnnxModelError("no graph (not an ONNX model)");
  const g = readGraphHeader(top.sub(graph));
  return { irVersion, opsets, producerName, producerVersion, metadata, ...g };
}

function readGraphHeader(r: ProtoReader): Pick<InspectedModel, "graphName" | "inputs" | "outputs" | "initializerNames"> {
  let graphName = "";
  const inputs: InspectedValue[] = [];
  const outputs: InspectedValue[] = [];
  const initializerNames = new Set<string>();
  for (let f = r.next(); f; f = r.next()) {
    switch (f.field) {
      case 2: // GraphProto: optional string name = 2
        graphName = r.text(bytesOf(f, "graph.name"));
        break;
      case 5: {
        // repeated TensorProto initializer = 5; only its name (= 8) matters here
        const t = r.sub(bytesOf(f, "initializer"));
        for (let g = t.next(); g; g = t.next()) if (g.field === 8) initializerNames.add(t.text(bytesOf(g, "initializer.name")));
        break;
      }
      case 11: // repeated ValueInfoProto input = 11
        inputs.push(readValueInfo(r.sub(bytesOf(f, "graph.input"))));
        break;
      case 12: // repeated ValueInfoProto output = 12
        outputs.push(readValueInfo(r.sub(bytesOf(f, "graph.output"))));
        break;
      default:
        break; // nodes (1) are decoded only for their framing, by next()
    }
  }
  return { graphName, inputs, outputs, initializerNames };
}

function readValueInfo(r: ProtoReader): InspectedValue {
  let name = "";
  let elemType = 0;
  let shape: Dim[] | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) name = r.text(bytesOf(f, "value_info.name")); // ValueInfoProto: name = 1
    else if (f.field === 2) {
      // ValueInfoProto: TypeProto type = 2 -> TypeProto: Tensor tensor_type = 1
      const type = r.sub(bytesOf(f, "value_info.type"));
      for (let t = type.next(); t; t = type.next()) {
        if (t.field !== 1) continue;
        const tensor = type.sub(bytesOf(t, "tensor_type"));
        for (let g = tensor.next(); g; g = tensor.next()) {
          if (g.field === 1) elemType = varintOf(g, "elem_type"); // Tensor: int32 elem_type = 1
          else if (g.field === 2) shape = readShape(tensor.sub(bytesOf(g, "shape"))); // Tensor: TensorShapeProto shape = 2
        }
      }
    }
  }
  return shape ? { name, elemType, shape } : { name, elemType };
}

function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 1) continue; // TensorShapeProto: repeated Dimension dim = 1
    const d = r.sub(bytesOf(f, "shape.dim"));
    let dim: Dim = "?";
    for (let g = d.next(); g; g = d.next()) {
      if (g.field === 1) dim = varintOf(g, "dim_value"); // Dimension: int64 dim_value = 1
      else if (g.field === 2) dim = d.text(bytesOf(g, "dim_param")); // Dimension: string dim_param = 2
    }
    dims.push(dim);
  }
  return dims;
}

function varintOf(f: ProtoField, what: string): number {
  if (f.wireType !== 0) throw new NotAnOnnxModelError(`${what} has wire type ${f.wireType}, expected a varint`);
  return f.varint;
}

function bytesOf(f: ProtoField, what: string): Uint8Array {
  if (f.wireType !== 2) throw new NotAnOnnxModelError(`${what} has wire type ${f.wireType}, expected a length-delimited field`);
  return f.bytes;
}

/** An ONNX file that cannot be used; the message names the file and the problem. */
export class OnnxFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "OnnxFileError";
  }
}

/** inspectOnnxModel with errors reworded to name the file and say what is wrong. */
export function inspectOnnxFile(bytes: Uint8Array, file: string): InspectedModel {
  try {
    return inspectOnnxModel(bytes);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw new OnnxFileError(file, `not a readable ONNX file, truncated or corrupt (${e.message})`);
    if (e instanceof NotAnOnnxModelError) throw new OnnxFileError(file, `not an ONNX model: ${e.message}`);
    throw e;
  }
}
