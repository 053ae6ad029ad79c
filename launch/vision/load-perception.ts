/**
 * Finds an exported perception model (vision.onnx + its manifest vision.json,
 * as `s2r export` writes them for a `vision train` run) and opens it as a
 * PerceptionEstimator (the manifest's SHA-256 and interface are checked
 * against the ONNX file when it loads).
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { OnnxPerception } from "../../policies/runtime/onnx-perception.js";
import { perceptionEstimatorOf, type PerceptionEstimator } from "../../policies/runtime/perception-estimator.js";

export const PERCEPTION_FILES = { model: "vision.onnx", manifest: "vision.json" } as const;

/** The model and manifest paths for a run directory or an .onnx file. */
export function perceptionFiles(model: string): { onnx: string; manifest: string } {
  if (existsSync(model) && statSync(model).isDirectory()) return { onnx: join(model, PERCEPTION_FILES.model), manifest: join(model, PERCEPTION_FILES.manifest) };
  const stem = basename(model).replace(/\.onnx$/, "");
  return { onnx: model, manifest: join(dirname(model), `${stem}.json`) };
}

export async function loadPerceptionEstimator(model: string): Promise<PerceptionEstimator> {
  const { onnx, manifest } = perceptionFiles(model);
  const missing = [onnx, manifest].filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(`needs the exported perception model (vision.onnx + manifest): ${missing.join(" and ")} not found (train with \`s2r vision train\`, then \`s2r export DIR\`)`);
  }
  return perceptionEstimatorOf(OnnxPerception.load(onnx, manifest));
}
