/**
 * Checks, before onnxruntime sees the file, that an ONNX model is something
 * the policy runtime can drive: a supported IR version and opset, and the
 * fixed s2r interface (obs -> action [, osi] with optional h_in/h_out and
 * c_in/c_out, all float32 [batch, n]).
 */

import { OnnxFileError, type InspectedModel, type InspectedValue } from "../onnx/inspect-model.js";
import { IO_NAMES } from "../onnx/policy-parts.js";

/**
 * Opsets the runtime accepts. Below 13, Slice/Clip/Split took attributes where
 * s2r graphs pass inputs; 26 is the newest ai.onnx opset onnxruntime-node
 * 1.30 officially supports, and 13 its newest IR version.
 */
export const RUNTIME_OPSET_MIN = 13;
export const RUNTIME_OPSET_MAX = 26;
export const RUNTIME_IR_MAX = 13;

export interface PolicyInterface {
  obsSize: number;
  actSize: number;
  /** 0 when the model has no `osi` output. */
  osiSize: number;
  /** 0 when the model has no `h_in`. */
  hSize: number;
  /** 0 when the model has no `c_in`. */
  cSize: number;
}

const FLOAT = 1;

function width(v: InspectedValue, file: string, io: string): number {
  if (v.elemType !== FLOAT) throw new OnnxFileError(file, `${io} "${v.name}" has element type ${v.elemType}; s2r policies use float32 (1)`);
  const s = v.shape;
  if (!s || s.length !== 2 || typeof s[1] !== "number" || s[1] < 1) {
    throw new OnnxFileError(file, `${io} "${v.name}" has shape [${s?.join(", ") ?? "unknown"}]; expected [batch, n] with a fixed n`);
  }
  return s[1];
}

export function checkPolicyInterface(model: InspectedModel, file: string): PolicyInterface {
  if (model.irVersion > RUNTIME_IR_MAX) {
    throw new OnnxFileError(file, `IR version ${model.irVersion} is newer than onnxruntime-node 1.30 reads (up to ${RUNTIME_IR_MAX})`);
  }
  const opset = model.opsets.get("") ?? model.opsets.get("ai.onnx");
  if (opset === undefined) throw new OnnxFileError(file, "the model imports no ai.onnx opset");
  if (opset < RUNTIME_OPSET_MIN || opset > RUNTIME_OPSET_MAX) {
    throw new OnnxFileError(file, `opset ${opset} is not supported (the policy runtime accepts ai.onnx opsets ${RUNTIME_OPSET_MIN}..${RUNTIME_OPSET_MAX})`);
  }
  const other = [...model.opsets.keys()].filter((d) => d !== "" && d !== "ai.onnx");
  if (other.length > 0) throw new OnnxFileError(file, `the model uses operator domains s2r does not run: ${other.join(", ")}`);

  // Inputs may legally be listed with an initializer (a default); only true inputs need feeding.
  const inputs = model.inputs.filter((v) => !model.initializerNames.has(v.name));
  const known = new Set<string>([IO_NAMES.obs, IO_NAMES.hIn, IO_NAMES.cIn]);
  const unknown = inputs.filter((v) => !known.has(v.name)).map((v) => v.name);
  if (unknown.length > 0) throw new OnnxFileError(file, `unexpected input(s) ${unknown.map((n) => `"${n}"`).join(", ")}; an s2r policy takes obs, h_in, c_in`);
  const input = (name: string) => inputs.find((v) => v.name === name);
  const output = (name: string) => model.outputs.find((v) => v.name === name);

  const obs = input(IO_NAMES.obs);
  if (!obs) throw new OnnxFileError(file, `the model has no input "${IO_NAMES.obs}"`);
  const action = output(IO_NAMES.action);
  if (!action) throw new OnnxFileError(file, `the model has no output "${IO_NAMES.action}"`);
  const osi = output(IO_NAMES.osi);

  const pair = (inName: string, outName: string): number => {
    const i = input(inName);
    const o = output(outName);
    if (!i && !o) return 0;
    if (!i || !o) throw new OnnxFileError(file, `the model has ${i ? `input "${inName}"` : `output "${outName}"`} without its partner ${i ? `output "${outName}"` : `input "${inName}"`}`);
    const wi = width(i, file, "input");
    const wo = width(o, file, "output");
    if (wi !== wo) throw new OnnxFileError(file, `input "${inName}" is ${wi} wide but output "${outName}" is ${wo}`);
    return wi;
  };
  const hSize = pair(IO_NAMES.hIn, IO_NAMES.hOut);
  const cSize = pair(IO_NAMES.cIn, IO_NAMES.cOut);
  if (cSize > 0 && hSize === 0) throw new OnnxFileError(file, `the model has "${IO_NAMES.cIn}" but no "${IO_NAMES.hIn}"`);
  return {
    obsSize: width(obs, file, "input"),
    actSize: width(action, file, "output"),
    osiSize: osi ? width(osi, file, "output") : 0,
    hSize,
    cSize,
  };
}
