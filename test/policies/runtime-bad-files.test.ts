import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { onnxManifestEntry, writeManifest, type Manifest } from "../../policies/manifest.js";
import { exportPolicyOnnx } from "../../policies/onnx/export-policy.js";
import { encodeModel, type NodeProto } from "../../policies/onnx/onnx-proto.js";
import { randomPolicyParts } from "../../policies/onnx/random-parts.js";
import { OnnxPolicy } from "../../policies/runtime/onnx-policy.js";

// Every way a deployment can be handed a bad file must end in an error that
// names the file and says what is wrong, before onnxruntime gets a chance to
// print its own internals.

const dir = mkdtempSync(join(tmpdir(), "s2r-badfiles-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

const goodBytes = exportPolicyOnnx(randomPolicyParts({ obsSize: 4, actSize: 1, actor: { hidden: [8], recurrent: { kind: "gru", size: 6 } } }, 1));

async function refuses(onnxPath: string, pattern: RegExp, manifestPath?: string): Promise<void> {
  await assert.rejects(OnnxPolicy.load(onnxPath, manifestPath), (e: unknown) => {
    const msg = (e as Error).message;
    assert.match(msg, pattern);
    assert.doesNotMatch(msg, /onnxruntime_src|::/, "onnxruntime internals leak into the message");
    return true;
  });
}

/** A one-node model obs -> action with the given opset/IR, bypassing the exporter's own checks. */
function tinyModel(opts: { opset?: number; irVersion?: number; inputs?: string[]; node?: NodeProto }): Uint8Array {
  const inputs = opts.inputs ?? ["obs"];
  return encodeModel({
    irVersion: opts.irVersion ?? 8,
    opsetImports: [{ domain: "", version: opts.opset ?? 17 }],
    producerName: "test",
    producerVersion: "1",
    graph: {
      name: "g",
      nodes: [opts.node ?? { opType: "Identity", inputs: ["obs"], outputs: ["action"] }],
      initializers: [],
      inputs: inputs.map((name) => ({ name, elemType: 1 as const, shape: ["batch", 2] })),
      outputs: [{ name: "action", elemType: 1 as const, shape: ["batch", 2] }],
    },
  });
}

test("a missing, empty, truncated or corrupt file names the file and the problem", async () => {
  await refuses(join(dir, "nope.onnx"), /nope\.onnx: cannot read the ONNX file \(ENOENT\)/);
  await refuses(file("empty.onnx", new Uint8Array(0)), /empty\.onnx: not an ONNX model: the file is empty/);
  for (const cut of [0.5, 0.9, 0.999]) {
    const n = Math.floor(goodBytes.length * cut);
    await refuses(file(`truncated-${cut}.onnx`, goodBytes.subarray(0, n)), /truncated-[\d.]+\.onnx: not a readable ONNX file, truncated or corrupt \(.* at byte \d+\)/);
  }
  const rng = new Rng(9);
  const noise = Uint8Array.from({ length: 4096 }, () => rng.int(256));
  await refuses(file("noise.onnx", noise), /noise\.onnx: not (a readable ONNX file, truncated or corrupt|an ONNX model)/);
  await refuses(file("text.onnx", "this is a JSON file, honest: {}\n"), /text\.onnx: not (a readable ONNX file|an ONNX model)/);
  // Valid protobuf that is not a model: one string field (number 3), no ir_version, no graph.
  await refuses(file("notmodel.onnx", Uint8Array.of(0x1a, 0x01, 0x78)), /notmodel\.onnx: not an ONNX model: no ir_version field/);
});

test("unsupported opsets and IR versions are refused before onnxruntime loads the model", async () => {
  await refuses(file("opset7.onnx", tinyModel({ opset: 7, irVersion: 3 })), /opset7\.onnx: opset 7 is not supported \(the policy runtime accepts ai\.onnx opsets 13\.\.26\)/);
  await refuses(file("opset99.onnx", tinyModel({ opset: 99 })), /opset99\.onnx: opset 99 is not supported/);
  await refuses(file("ir99.onnx", tinyModel({ irVersion: 99 })), /ir99\.onnx: IR version 99 is newer than onnxruntime-node 1\.30 reads \(up to 13\)/);
});

test("a model that is not an s2r policy says which part of the interface is wrong", async () => {
  await refuses(file("noobs.onnx", tinyModel({ inputs: ["x"], node: { opType: "Identity", inputs: ["x"], outputs: ["action"] } })), /noobs\.onnx: unexpected input\(s\) "x"; an s2r policy takes obs, h_in, c_in/);
  await refuses(
    file("halfstate.onnx", tinyModel({ inputs: ["obs", "h_in"], node: { opType: "Add", inputs: ["obs", "h_in"], outputs: ["action"] } })),
    /halfstate\.onnx: the model has input "h_in" without its partner output "h_out"/,
  );
  // A graph onnxruntime itself rejects: the message is reworded and names the file.
  await refuses(file("badop.onnx", tinyModel({ node: { opType: "NoSuchOp", inputs: ["obs"], outputs: ["action"] } })), /badop\.onnx: onnxruntime cannot load the model: invalid graph: node \(NoSuchOp\): No Op registered for NoSuchOp/);
});

test("a model missing an input its manifest names, a mismatched hash, and an unparsable manifest are refused", async () => {
  // An MLP exported where the manifest promises a GRU: the hash matches (it is the file the manifest was made for), the interface does not.
  const mlpPath = file("mlp.onnx", exportPolicyOnnx(randomPolicyParts({ obsSize: 4, actSize: 1, actor: { hidden: [8] } }, 2)));
  const manifest: Manifest = {
    schemaVersion: 1,
    task: "t",
    robot: "r",
    jointOrder: ["j"],
    observation: ["a", "b", "c", "d"].map((name) => ({ name, unit: "1", source: `test:${name}` })),
    action: [{ name: "u", unit: "V", low: -1, high: 1, scale: 1 }],
    controlPeriodSec: 0.01,
    recurrent: { kind: "gru", hInSize: 6, cInSize: undefined },
    osi: undefined,
    training: { run: "x", configHash: "y" },
    onnx: onnxManifestEntry(mlpPath),
  };
  const manifestPath = join(dir, "policy.json");
  writeManifest(manifestPath, manifest);
  await refuses(mlpPath, /mlp\.onnx: the model has no input "h_in", which the manifest's recurrent\.hInSize names \(width 6\)/, manifestPath);

  const gruPath = file("gru.onnx", goodBytes);
  await refuses(gruPath, /gru\.onnx: SHA-256 of the file is [0-9a-f]{64} but the manifest's onnx\.sha256 is [0-9a-f]{64}/, manifestPath);

  const broken = file("broken.json", readFileSync(manifestPath, "utf8").slice(0, 40));
  await refuses(gruPath, /broken\.json: \(root\): not valid JSON/, broken);
  const wrongType = file("wrongtype.json", JSON.stringify({ ...manifest, controlPeriodSec: "fast" }));
  await refuses(gruPath, /wrongtype\.json: controlPeriodSec: expected a number > 0, got "fast"/, wrongType);
});
