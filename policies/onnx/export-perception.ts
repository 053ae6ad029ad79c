/**
 * The perception network as ONNX: the graph takes the camera's raw bytes,
 *   image: uint8 [batch, H, W, C] (ROS encoding rgb8 or mono8, frames stacked along C)
 * and computes Cast -> Mul(1/255) -> Transpose(NHWC -> NCHW) -> the network,
 * giving
 *   joints:   float [batch, 2 J] (sin, cos of each joint, manifest order)
 *   features: float [batch, F]   (the head's input; for domain checks).
 * So a deployment feeds the image message's data as it is.
 */

import type { PerceptionSpec } from "../perception/perception-net.js";
import { emitImageNetwork } from "./emit-image-network.js";
import { EXPORT_OPSET_MAX, EXPORTER_VERSION, irVersionForOpset } from "./export-policy.js";
import { GraphBuilder } from "./graph-builder.js";
import { DataType, encodeModel } from "./onnx-proto.js";
import { BATCH_DIM } from "./policy-parts.js";

export const PERCEPTION_IO = { image: "image", joints: "joints", features: "features" } as const;

/** ReduceMean/Transpose/Conv as used here have one meaning from opset 17 on. */
export const PERCEPTION_OPSET_MIN = 17;

export interface PerceptionExportOptions {
  /** Default 17. */
  opset?: number;
  metadata?: Record<string, string>;
}

export function exportPerceptionOnnx(spec: PerceptionSpec, options: PerceptionExportOptions = {}): Uint8Array {
  const opset = options.opset ?? PERCEPTION_OPSET_MIN;
  if (!Number.isInteger(opset) || opset < PERCEPTION_OPSET_MIN || opset > EXPORT_OPSET_MAX) {
    throw new RangeError(`opset ${opset} is not supported for the perception network (supported: ${PERCEPTION_OPSET_MIN}..${EXPORT_OPSET_MAX})`);
  }
  const { height: H, width: W, channels: C } = spec.input;
  const g = new GraphBuilder(Object.values(PERCEPTION_IO));
  const asFloat = g.node("Cast", [PERCEPTION_IO.image], "image_float", [{ name: "to", type: "int", i: DataType.FLOAT }]);
  const scaled = g.node("Mul", [asFloat, g.floatConst([spec.scale])], "image_scaled");
  const nchw = g.node("Transpose", [scaled], "image_nchw", [{ name: "perm", type: "ints", ints: [0, 3, 1, 2] }]);
  const net = emitImageNetwork(g, spec.layers, nchw, "net", opset, spec.featureLayers);
  g.publish(net.output, PERCEPTION_IO.joints);
  g.publish(net.tap!, PERCEPTION_IO.features);
  return encodeModel({
    irVersion: irVersionForOpset(opset),
    opsetImports: [{ domain: "", version: opset }],
    producerName: "s2r",
    producerVersion: EXPORTER_VERSION,
    graph: {
      name: "perception",
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: PERCEPTION_IO.image, elemType: DataType.UINT8, shape: [BATCH_DIM, H, W, C] }],
      outputs: [
        { name: PERCEPTION_IO.joints, elemType: DataType.FLOAT, shape: [BATCH_DIM, 2 * spec.joints.length] },
        { name: PERCEPTION_IO.features, elemType: DataType.FLOAT, shape: [BATCH_DIM, spec.featureSize] },
      ],
    },
    metadata: {
      ...(options.metadata ?? {}),
      "s2r.exporter": EXPORTER_VERSION,
      "s2r.perception": JSON.stringify({ input: spec.input, joints: spec.joints, featureSize: spec.featureSize }),
    },
  });
}
