import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The s2r package root (this file is dist/launch/ray/paths.js). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** Where the s2r_ray Python package lives (sources, not compiled). */
export const RAY_PYTHON_DIR = join(PACKAGE_ROOT, "launch", "ray");
export const RAY_VERSION = "2.58.0";
const INSTALL_HINT = `run scripts/install-ray.sh in ${PACKAGE_ROOT} (it creates .venv-ray/ with ray[tune]==${RAY_VERSION} and msgpack from pip), or set S2R_PYTHON to a Python that has them`;

/** The Python that runs the Ray driver: $S2R_PYTHON, else the project's .venv-ray. */
export function rayPython(): string {
  return process.env.S2R_PYTHON || join(PACKAGE_ROOT, ".venv-ray", "bin", "python");
}

/** Environment for every Python process of ours: the package on the path, no usage stats, no dashboard. */
export function rayEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const pp = process.env.PYTHONPATH ? `${RAY_PYTHON_DIR}:${process.env.PYTHONPATH}` : RAY_PYTHON_DIR;
  return { ...process.env, PYTHONPATH: pp, RAY_USAGE_STATS_ENABLED: "0", S2R_NODE: process.execPath, S2R_ROOT: PACKAGE_ROOT, ...extra };
}

export type RayCheck = { ok: true; python: string; version: string } | { ok: false; reason: string };

/** Whether Ray can be used from here, and if not, why and how to install it. */
export function checkRay(): RayCheck {
  const python = rayPython();
  if (!process.env.S2R_PYTHON && !existsSync(python)) return { ok: false, reason: `Ray is not installed for s2r (no ${python}): ${INSTALL_HINT}` };
  const r = spawnSync(python, ["-c", "import ray, msgpack; print(ray.__version__)"], { encoding: "utf8", env: rayEnv(), timeout: 60_000 });
  if (r.error) return { ok: false, reason: `cannot run ${python} (${r.error.message}): ${INSTALL_HINT}` };
  if (r.status !== 0) return { ok: false, reason: `${python} cannot import ray and msgpack (${(r.stderr || "").trim().split("\n").pop()}): ${INSTALL_HINT}` };
  return { ok: true, python, version: r.stdout.trim() };
}

/** The Python for Ray, or an error saying how to install it. */
export function requireRay(): string {
  const c = checkRay();
  if (!c.ok) throw new Error(c.reason);
  return c.python;
}
