import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/**
 * The s2r package folder (the one holding its package.json). Compiled code may
 * run from dist/ or from another build folder, so assets (URDFs, configs, the
 * built WebAssembly kernel) are found from here rather than relative to the
 * compiled module.
 */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "s2r") return (cachedRoot = dir);
      } catch {
        /* not ours; keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("s2r: cannot find the s2r package folder (a package.json named s2r above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}

/** A path inside the package, e.g. projectPath("sim", "robots", "furuta", "furuta.urdf"). */
export function projectPath(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
