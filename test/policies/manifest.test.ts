import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../common/schema.js";
import {
  ManifestMismatchError,
  onnxManifestEntry,
  readManifest,
  verifyManifestAgainstOnnx,
  verifyManifestAgainstRobot,
  writeManifest,
  type Manifest,
} from "../../policies/manifest.js";
import { exportPolicyOnnx } from "../../policies/onnx/export-policy.js";
import { randomPolicyParts } from "../../policies/onnx/random-parts.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-manifest-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A Furuta UP-OSI GRU policy and its manifest. */
function furutaPolicy(name: string): { onnxPath: string; manifest: Manifest } {
  const parts = randomPolicyParts({ obsSize: 6, actSize: 1, osi: { outSize: 2, hidden: [8] }, actor: { hidden: [16], recurrent: { kind: "gru", size: 24 } } }, 5);
  const onnxPath = join(dir, `${name}.onnx`);
  writeFileSync(onnxPath, exportPolicyOnnx(parts, { actionBound: { kind: "clip", low: [-1], high: [1] } }));
  const manifest: Manifest = {
    schemaVersion: 1,
    task: "furuta-swingup",
    robot: "furuta",
    jointOrder: ["arm_joint", "pendulum_joint"],
    observation: ["sin_theta", "cos_theta", "sin_alpha", "cos_alpha", "theta_dot", "alpha_dot"].map((n, i) => ({
      name: n,
      unit: i < 4 ? "1" : "rad/s",
      source: `joint:${i % 2 === 0 ? "arm_joint" : "pendulum_joint"}:${n.split("_")[0]}`,
    })),
    action: [{ name: "arm_voltage", unit: "V", low: -1, high: 1, scale: 6 }],
    controlPeriodSec: 0.004,
    recurrent: { kind: "gru", hInSize: 24, cInSize: undefined },
    osi: { names: ["Lp", "mp"], nominal: [0.129, 0.024], normalization: { center: [0.129, 0.024], halfRange: [0.0258, 0.0048] } },
    training: { run: "run-1", configHash: "abc123" },
    onnx: onnxManifestEntry(onnxPath),
  };
  return { onnxPath, manifest };
}

test("a manifest round-trips through policy.json and matches its model", () => {
  const { onnxPath, manifest } = furutaPolicy("roundtrip");
  assert.equal(manifest.onnx.file, "roundtrip.onnx");
  assert.equal(manifest.onnx.opset, 17);
  assert.match(manifest.onnx.sha256, /^[0-9a-f]{64}$/);
  const file = join(dir, "policy.json");
  writeManifest(file, manifest);
  const back = readManifest(file);
  assert.equal(JSON.stringify(back), JSON.stringify(manifest));
  verifyManifestAgainstOnnx(back, onnxPath);
  verifyManifestAgainstRobot(back, { name: "furuta", jointOrder: ["arm_joint", "pendulum_joint"], controlPeriodSec: 0.004, actionLimits: [{ low: -6, high: 6 }] });
});

test("a manifest that does not parse names the file and the field", () => {
  const { manifest } = furutaPolicy("parse");
  const file = join(dir, "bad.json");
  const expectError = (content: string, pattern: RegExp) => {
    writeFileSync(file, content);
    assert.throws(() => readManifest(file), (e: unknown) => e instanceof ConfigError && e.message.startsWith(file) && pattern.test(e.message), pattern.source);
  };
  expectError("{ not json", /not valid JSON/);
  const edit = (f: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
    f(m);
    return JSON.stringify(m);
  };
  expectError(edit((m) => delete m.task), /task: required/);
  expectError(edit((m) => (m.colour = "red")), /colour: unknown field/);
  expectError(edit((m) => (m.schemaVersion = 2)), /schemaVersion: version 2 is not readable/);
  expectError(edit((m) => ((m.action as { low: number }[])[0]!.low = 3)), /action\[0\]: low \(3\) must be below high/);
  expectError(edit((m) => ((m.recurrent as { kind: string }).kind = "rnn")), /recurrent\.kind: expected one of/);
  expectError(edit((m) => ((m.osi as { nominal: number[] }).nominal = [1])), /osi\.nominal: has 1 values but osi\.names has 2/);
  expectError(edit((m) => ((m.onnx as { sha256: string }).sha256 = "xyz")), /onnx\.sha256: expected 64 lowercase hex digits/);
  expectError(edit((m) => ((m.observation as { name: string }[])[1]!.name = "sin_theta")), /observation: name "sin_theta" appears twice/);
  assert.throws(() => readManifest(join(dir, "absent.json")), /absent\.json: \(root\): cannot read file: ENOENT/);
  assert.throws(() => writeManifest(file, { ...manifest, controlPeriodSec: -1 }), /bad\.json: controlPeriodSec: expected a number > 0/);
});

test("a manifest refuses a different ONNX file, saying what differs", () => {
  const { manifest } = furutaPolicy("a");
  const other = furutaPolicy("b");
  // Same architecture, different weights: only the SHA-256 tells them apart.
  writeFileSync(other.onnxPath, exportPolicyOnnx(randomPolicyParts({ obsSize: 6, actSize: 1, osi: { outSize: 2, hidden: [8] }, actor: { hidden: [16], recurrent: { kind: "gru", size: 24 } } }, 6)));
  assert.throws(
    () => verifyManifestAgainstOnnx(manifest, other.onnxPath),
    (e: unknown) => e instanceof ManifestMismatchError && e.message.includes(other.onnxPath) && /SHA-256 of the file is [0-9a-f]{64} but the manifest's onnx\.sha256 is/.test(e.message),
  );
  // A manifest whose hash matches but whose interface does not: every difference is listed.
  const wrong: Manifest = { ...other.manifest, onnx: onnxManifestEntry(other.onnxPath), recurrent: { kind: "lstm", hInSize: 24, cInSize: 24 }, osi: undefined };
  assert.throws(() => verifyManifestAgainstOnnx(wrong, other.onnxPath), (e: unknown) => {
    assert.ok(e instanceof ManifestMismatchError);
    assert.match(e.message, /the model has no input "c_in", which the manifest's recurrent\.cInSize names \(width 24\)/);
    assert.match(e.message, /the model has output "osi" but the manifest's osi\.names says there is none/);
    return true;
  });
  assert.throws(() => verifyManifestAgainstOnnx(manifest, join(dir, "missing.onnx")), /missing\.onnx: cannot read the ONNX file \(ENOENT\)/);
});

test("a manifest refuses a robot it was not trained for, naming each field", () => {
  const { manifest } = furutaPolicy("robot");
  const robot = { name: "furuta", jointOrder: ["arm_joint", "pendulum_joint"], controlPeriodSec: 0.004, actionLimits: [{ low: -6, high: 6 }] };
  const refuse = (r: Parameters<typeof verifyManifestAgainstRobot>[1], pattern: RegExp) =>
    assert.throws(() => verifyManifestAgainstRobot(manifest, r), (e: unknown) => e instanceof ManifestMismatchError && pattern.test(e.message), pattern.source);
  refuse({ ...robot, name: "cartpole" }, /robot: the manifest is for "furuta" but the robot is "cartpole"/);
  refuse({ ...robot, jointOrder: ["pendulum_joint", "arm_joint"] }, /jointOrder: .*first difference at index 0: "arm_joint" vs "pendulum_joint"/);
  refuse({ ...robot, jointOrder: ["arm_joint"] }, /jointOrder: .*index 1: "pendulum_joint" vs nothing/);
  refuse({ ...robot, controlPeriodSec: 0.002 }, /controlPeriodSec: the policy was trained at 0\.004 s but the robot runs at 0\.002 s/);
  refuse({ ...robot, actionLimits: [{ low: -5, high: 5 }] }, /action\[0\] \(arm_voltage\): the policy can command \[-6, 6\] V but the robot allows \[-5, 5\]/);
  refuse({ ...robot, actionLimits: [] }, /the manifest has 1 actions but the robot gives limits for 0/);
  // Optional fields left out are not checked.
  verifyManifestAgainstRobot(manifest, { name: "furuta", jointOrder: ["arm_joint", "pendulum_joint"] });
});
