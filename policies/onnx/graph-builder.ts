/**
 * Accumulates ONNX nodes and initializers with unique value names, shared
 * constants, and a way to give a computed value a fixed public name (graph
 * outputs such as "action" or "h_out").
 */

import { DataType, floatRawData, int64RawData, type AttributeProto, type NodeProto, type TensorProto } from "./onnx-proto.js";

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private readonly published = new Set<string>();
  /** Internal names replaced by a public one in publish(); later references are redirected. */
  private readonly renamed = new Map<string, string>();
  private nodeCount = 0;

  constructor(reservedNames: readonly string[]) {
    // Graph input/output names are reserved so generated names never clash with them.
    for (const n of reservedNames) this.used.add(n);
  }

  /** A name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  floatTensor(base: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: floatRawData(values) });
    return name;
  }

  /** A shared float constant (scalars and small vectors are deduplicated by value). */
  floatConst(values: number[], dims: number[] = values.length === 1 ? [] : [values.length]): string {
    const key = `f:${dims.join("x")}:${values.map((v) => Math.fround(v)).join(",")}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.floatTensor("const", dims, values);
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A shared 1-D int64 constant (Slice's starts/ends/axes). */
  int64Const(values: number[]): string {
    const key = `i:${values.join(",")}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh(`i64_${values.join("_").replace(/-/g, "m")}`);
      this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: int64RawData(values) });
      this.constCache.set(key, name);
    }
    return name;
  }

  /** Adds a single-output node and returns its output's name. */
  node(opType: string, inputs: string[], outBase: string, attributes?: AttributeProto[]): string {
    const out = this.fresh(outBase);
    const node: NodeProto = { opType, inputs: inputs.map((i) => this.resolve(i)), outputs: [out], name: `${opType}_${this.nodeCount++}` };
    if (attributes && attributes.length > 0) node.attributes = attributes;
    this.nodes.push(node);
    return out;
  }

  /** The current name of a value (after any publish() renames). */
  resolve(value: string): string {
    return this.renamed.get(value) ?? value;
  }

  /** x[:, start:end] (columns of a [batch, n] tensor). */
  sliceColumns(x: string, start: number, end: number, outBase: string): string {
    return this.node("Slice", [x, this.int64Const([start]), this.int64Const([end]), this.int64Const([1])], outBase);
  }

  /**
   * Makes `value` available under the public name `name` (a graph output).
   * The producing node's output is renamed when `value` is an internal node
   * output, so no extra node is needed; a graph input or an already published
   * value gets an Identity node instead.
   */
  publish(value: string, name: string): void {
    value = this.resolve(value);
    const producer = this.nodes.find((n) => n.outputs.includes(value));
    if (producer && !this.published.has(value)) {
      for (const n of this.nodes) {
        n.inputs = n.inputs.map((i) => (i === value ? name : i));
        n.outputs = n.outputs.map((o) => (o === value ? name : o));
      }
      this.renamed.set(value, name);
    } else {
      this.nodes.push({ opType: "Identity", inputs: [value], outputs: [name], name: `Identity_${this.nodeCount++}` });
    }
    this.published.add(name);
  }
}
