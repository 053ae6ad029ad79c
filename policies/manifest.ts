/**
 * policy.json: everything a deployment needs to know about an exported policy
 * besides its weights — what each observation and action element means, the
 * robot and control period it was trained for, its recurrent state, its OSI
 * outputs, where it came from, and the SHA-256 of the ONNX file it describes
 * (so a manifest is never silently paired with a different model).
 *
 * Conventions:
 * - `action[i].low/high` bound the network's `action` output; the physical
 *   command is action × `scale`, in `unit` (e.g. low −1, high 1, scale 6, "V").
 * - `osi` outputs are normalized: physical = center + halfRange × osi.
 * - `recurrent` mirrors the model's h_in/c_in widths (see
 *   onnx/policy-parts.ts for the layout when actor and OSI are both recurrent).
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { writeJsonFileValidated } from "../common/atomic-file.js";
import { readJsonFile } from "../common/json-file.js";
import { ConfigError, arrayOf, int, num, obj, oneOf, optional, str, type Infer, type Schema } from "../common/schema.js";
import { inspectOnnxFile, type InspectedModel } from "./onnx/inspect-model.js";
import { IO_NAMES } from "./onnx/policy-parts.js";

export const MANIFEST_SCHEMA_VERSION = 1;

const observationEntry = obj({
  name: str(undefined, "e.g. sin_theta"),
  unit: str(undefined, 'SI unit, or "1" when dimensionless'),
  source: str(undefined, "where the value comes from, e.g. joint:arm_joint:sin"),
});

const actionEntry = obj({
  name: str(undefined),
  unit: str(undefined, "unit of the physical command (action × scale)"),
  low: num(undefined),
  high: num(undefined),
  scale: num(1, { description: "physical command = action × scale" }),
});

const baseSchema = obj({
  schemaVersion: int(undefined, { min: 1 }),
  task: str(undefined),
  robot: str(undefined),
  jointOrder: arrayOf(str(undefined), undefined, { minLength: 1 }),
  observation: arrayOf(observationEntry, undefined, { minLength: 1 }),
  action: arrayOf(actionEntry, undefined, { minLength: 1 }),
  controlPeriodSec: num(undefined, { min: 0, exclusiveMin: true }),
  recurrent: obj({
    kind: oneOf(["none", "gru", "lstm"], undefined),
    hInSize: int(undefined, { min: 0 }),
    cInSize: optional(int(undefined, { min: 0 })),
  }),
  osi: optional(
    obj({
      names: arrayOf(str(undefined), undefined, { minLength: 1 }),
      nominal: arrayOf(num(undefined), undefined),
      normalization: obj({ center: arrayOf(num(undefined), undefined), halfRange: arrayOf(num(undefined), undefined) }),
    }),
  ),
  training: obj({
    run: str(undefined),
    configHash: str(undefined),
    /** With automatic domain randomization: the ranges (table units) the exported policy was trained on. */
    adrRanges: optional(arrayOf(obj({ target: str(undefined), low: num(undefined), high: num(undefined) }), undefined)),
  }),
  onnx: obj({ file: str(undefined), sha256: str(undefined), opset: int(undefined, { min: 1 }) }),
});

export type Manifest = Infer<typeof baseSchema>;

function duplicates(names: string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}

/** Checks that hold between fields; throws ConfigError naming the field. */
function checkConsistency(m: Manifest): void {
  if (m.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new ConfigError("schemaVersion", `version ${m.schemaVersion} is not readable by this s2r (it reads ${MANIFEST_SCHEMA_VERSION})`);
  }
  for (const [field, names] of [
    ["jointOrder", m.jointOrder],
    ["observation", m.observation.map((o) => o.name)],
    ["action", m.action.map((a) => a.name)],
  ] as const) {
    const d = duplicates([...names]);
    if (d !== undefined) throw new ConfigError(field, `name ${JSON.stringify(d)} appears twice`);
  }
  m.action.forEach((a, i) => {
    if (!(a.low < a.high)) throw new ConfigError(`action[${i}]`, `low (${a.low}) must be below high (${a.high})`);
    if (a.scale === 0) throw new ConfigError(`action[${i}].scale`, "must not be 0");
  });
  const r = m.recurrent;
  if (r.kind === "none" && (r.hInSize !== 0 || (r.cInSize ?? 0) !== 0)) throw new ConfigError("recurrent", 'kind "none" needs hInSize 0 and no cInSize');
  if (r.kind === "gru") {
    if (r.hInSize < 1) throw new ConfigError("recurrent.hInSize", 'kind "gru" needs hInSize >= 1');
    if ((r.cInSize ?? 0) !== 0) throw new ConfigError("recurrent.cInSize", 'kind "gru" has no cell state; leave cInSize out');
  }
  if (r.kind === "lstm" && (r.cInSize === undefined || r.cInSize < 1)) throw new ConfigError("recurrent.cInSize", 'kind "lstm" needs cInSize >= 1');
  if (r.kind === "lstm" && r.hInSize < r.cInSize!) throw new ConfigError("recurrent.hInSize", `must be >= cInSize (${r.cInSize})`);
  if (m.osi) {
    const n = m.osi.names.length;
    const d = duplicates(m.osi.names);
    if (d !== undefined) throw new ConfigError("osi.names", `name ${JSON.stringify(d)} appears twice`);
    for (const [field, arr] of [
      ["osi.nominal", m.osi.nominal],
      ["osi.normalization.center", m.osi.normalization.center],
      ["osi.normalization.halfRange", m.osi.normalization.halfRange],
    ] as const) {
      if (arr.length !== n) throw new ConfigError(field, `has ${arr.length} values but osi.names has ${n}`);
    }
    m.osi.normalization.halfRange.forEach((h, i) => {
      if (!(h > 0)) throw new ConfigError(`osi.normalization.halfRange[${i}]`, `must be > 0, got ${h}`);
    });
  }
  if (!/^[0-9a-f]{64}$/.test(m.onnx.sha256)) throw new ConfigError("onnx.sha256", "expected 64 lowercase hex digits");
  if (m.onnx.file.includes("/") || m.onnx.file.includes("\\")) throw new ConfigError("onnx.file", "must be a file name next to policy.json, not a path");
}

export const manifestSchema: Schema<Manifest> = {
  defaultValue: undefined,
  description: "policy.json",
  parse(value, path) {
    const m = baseSchema.parse(value, path);
    checkConsistency(m);
    return m;
  },
};

/** Reads and validates policy.json; errors are ConfigErrors naming the file and field. */
export function readManifest(file: string): Manifest {
  return readJsonFile(file, manifestSchema);
}

/** Validates and writes policy.json (via a temporary file, so a crash never leaves half a manifest). */
export function writeManifest(file: string, m: Manifest): void {
  writeJsonFileValidated(file, m, manifestSchema);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The manifest's `onnx` entry for a written model file. */
export function onnxManifestEntry(onnxPath: string): Manifest["onnx"] {
  const bytes = readFileSync(onnxPath);
  const model = inspectOnnxFile(bytes, onnxPath);
  const opset = model.opsets.get("") ?? model.opsets.get("ai.onnx");
  if (opset === undefined) throw new Error(`${onnxPath}: the model imports no default-domain opset`);
  return { file: basename(onnxPath), sha256: sha256Hex(bytes), opset };
}

/** A manifest and a model or robot disagree; `problems` lists every difference found. */
export class ManifestMismatchError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(`${subject}: ${problems.join("; ")}`);
    this.name = "ManifestMismatchError";
  }
}

function widthOf(model: InspectedModel, name: string, io: "input" | "output"): number | undefined {
  const v = (io === "input" ? model.inputs : model.outputs).find((x) => x.name === name);
  if (!v) return undefined;
  const last = v.shape?.[v.shape.length - 1];
  return typeof last === "number" ? last : -1;
}

function checkSha256(m: Manifest, sha256: string, onnxPath: string): void {
  if (sha256 !== m.onnx.sha256) {
    throw new ManifestMismatchError(onnxPath, [
      `SHA-256 of the file is ${sha256} but the manifest's onnx.sha256 is ${m.onnx.sha256} (the manifest belongs to a different export of the model, or to another model)`,
    ]);
  }
}

/**
 * Compares a manifest with an already inspected model: SHA-256, opset, and
 * the widths of obs / action / osi / h_in / c_in. Used by the runtime, which
 * has the bytes in hand; verifyManifestAgainstOnnx reads the file itself.
 */
export function verifyManifestAgainstModel(m: Manifest, model: InspectedModel, sha256: string, onnxPath: string): void {
  checkSha256(m, sha256, onnxPath);
  const problems: string[] = [];
  const opset = model.opsets.get("") ?? model.opsets.get("ai.onnx");
  if (opset !== m.onnx.opset) problems.push(`the model's opset is ${opset} but the manifest's onnx.opset is ${m.onnx.opset}`);
  const expect = (name: string, io: "input" | "output", want: number, field: string) => {
    const got = widthOf(model, name, io);
    if (want === 0) {
      if (got !== undefined) problems.push(`the model has ${io} "${name}" but the manifest's ${field} says there is none`);
    } else if (got === undefined) {
      problems.push(`the model has no ${io} "${name}", which the manifest's ${field} names (width ${want})`);
    } else if (got !== want) {
      problems.push(`${io} "${name}" is ${got} wide in the model but ${want} per the manifest's ${field}`);
    }
  };
  expect(IO_NAMES.obs, "input", m.observation.length, "observation");
  expect(IO_NAMES.action, "output", m.action.length, "action");
  expect(IO_NAMES.osi, "output", m.osi?.names.length ?? 0, "osi.names");
  expect(IO_NAMES.hIn, "input", m.recurrent.hInSize, "recurrent.hInSize");
  expect(IO_NAMES.cIn, "input", m.recurrent.cInSize ?? 0, "recurrent.cInSize");
  if (problems.length > 0) throw new ManifestMismatchError(onnxPath, problems);
}

/** Refuses when the ONNX file is not the one the manifest describes (SHA-256) or its interface differs. */
export function verifyManifestAgainstOnnx(m: Manifest, onnxPath: string): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(onnxPath);
  } catch (e) {
    throw new ManifestMismatchError(onnxPath, [`cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  const sha = sha256Hex(bytes);
  checkSha256(m, sha, onnxPath); // before decoding: a different file may not even be ONNX
  verifyManifestAgainstModel(m, inspectOnnxFile(bytes, onnxPath), sha, onnxPath);
}

export interface RobotDescription {
  name: string;
  /** Joint names in the order the robot adapter reports them. */
  jointOrder: string[];
  controlPeriodSec?: number;
  /** Physical command limits per action, in the manifest's action units. */
  actionLimits?: { low: number; high: number }[];
}

/**
 * Refuses to pair a policy with a robot it was not trained for: robot name,
 * joint order, control period (to 1e-9 s), and each action's physical range
 * (low..high × scale) lying inside the robot's limits.
 */
export function verifyManifestAgainstRobot(m: Manifest, robot: RobotDescription): void {
  const problems: string[] = [];
  if (robot.name !== m.robot) problems.push(`robot: the manifest is for "${m.robot}" but the robot is "${robot.name}"`);
  const joints = robot.jointOrder;
  if (joints.length !== m.jointOrder.length || joints.some((j, i) => j !== m.jointOrder[i])) {
    const i = m.jointOrder.findIndex((j, k) => joints[k] !== j);
    const where = i >= 0 ? `first difference at index ${i}: "${m.jointOrder[i]}" vs ${joints[i] === undefined ? "nothing" : `"${joints[i]}"`}` : `the robot has extra joints`;
    problems.push(`jointOrder: the manifest has [${m.jointOrder.join(", ")}] but the robot has [${joints.join(", ")}] (${where})`);
  }
  if (robot.controlPeriodSec !== undefined && Math.abs(robot.controlPeriodSec - m.controlPeriodSec) > 1e-9) {
    problems.push(`controlPeriodSec: the policy was trained at ${m.controlPeriodSec} s but the robot runs at ${robot.controlPeriodSec} s`);
  }
  if (robot.actionLimits !== undefined) {
    if (robot.actionLimits.length !== m.action.length) {
      problems.push(`action: the manifest has ${m.action.length} actions but the robot gives limits for ${robot.actionLimits.length}`);
    } else {
      m.action.forEach((a, i) => {
        const lim = robot.actionLimits![i]!;
        const ends = [a.low * a.scale, a.high * a.scale];
        const lo = Math.min(...ends);
        const hi = Math.max(...ends);
        if (lo < lim.low - 1e-12 || hi > lim.high + 1e-12) {
          problems.push(`action[${i}] (${a.name}): the policy can command [${lo}, ${hi}] ${a.unit} but the robot allows [${lim.low}, ${lim.high}]`);
        }
      });
    }
  }
  if (problems.length > 0) throw new ManifestMismatchError(`policy for "${m.robot}"`, problems);
}
