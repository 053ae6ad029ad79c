/**
 * Finds and loads the Cyclone DDS addon that scripts/build-native.mjs builds
 * into build/native/ (only where Cyclone DDS was installed at build time), and
 * explains precisely why it is unavailable otherwise.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { projectPath } from "../../../common/paths.js";

/** What build/native-status.json records (written by scripts/build-native.mjs). */
export interface NativeStatus {
  built: boolean;
  /** Why it was not built. */
  reason?: string;
  /** What to install or do about it. */
  install?: string;
  /** Set when the build was skipped for missing tools (Cyclone DDS headers, idlc, a C compiler, Node headers), as opposed to failing. */
  missing?: string[];
  /** Paths relative to the package folder. */
  addon?: string;
  peer?: string;
  cycloneVersion?: string;
  at?: string;
}

/** The addon's functions (native/addon/addon.c); handles are Cyclone entity handles. */
export interface CycloneAddon {
  version(): string;
  messageTypes(): string[];
  createParticipant(domainId: number): number;
  createWriter(participant: number, ddsTopic: string, rosType: string, reliable: boolean, transientLocal: boolean, depth: number): number;
  write(writer: number, message: unknown): void;
  createReader(
    participant: number,
    ddsTopic: string,
    rosType: string,
    reliable: boolean,
    transientLocal: boolean,
    depth: number,
    callback: (message: unknown, sourceTimeMs: number) => void,
  ): number;
  matchedCount(handle: number): number;
  dispose(handle: number): void;
}

export const CYCLONE_INSTALL_HINT = "install Eclipse Cyclone DDS (Debian/Ubuntu: sudo apt-get install cyclonedds-dev cyclonedds-tools), then run `npm run build` (or `node scripts/build-native.mjs`)";

export const NATIVE_STATUS_FILE = ["build", "native-status.json"] as const;

export function readNativeStatus(): NativeStatus | undefined {
  const file = projectPath(...NATIVE_STATUS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as NativeStatus;
  } catch (e) {
    return { built: false, reason: `${file} is unreadable: ${(e as Error).message}`, install: "run `node scripts/build-native.mjs --force`" };
  }
}

export type AddonLoad = { ok: true; addon: CycloneAddon; path: string; version: string } | { ok: false; reason: string; install: string };

let cached: AddonLoad | undefined;

/** Loads the addon once per process; never throws. */
export function loadCycloneAddon(): AddonLoad {
  if (cached?.ok) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): AddonLoad {
  const status = readNativeStatus();
  if (!status) {
    return { ok: false, reason: "the native build has not run (no build/native-status.json)", install: CYCLONE_INSTALL_HINT };
  }
  if (!status.built || !status.addon) {
    return { ok: false, reason: `the Cyclone DDS addon was not built: ${status.reason ?? "no reason recorded"}`, install: status.install ?? CYCLONE_INSTALL_HINT };
  }
  const path = projectPath(status.addon);
  if (!existsSync(path)) {
    return { ok: false, reason: `${path} is missing although the build recorded it`, install: "run `node scripts/build-native.mjs --force`" };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as CycloneAddon;
    return { ok: true, addon, path, version: addon.version() };
  } catch (e) {
    // Typically libddsc.so went away after the build (package removed or a different machine).
    return { ok: false, reason: `${path} does not load: ${(e as Error).message.split("\n")[0]}`, install: CYCLONE_INSTALL_HINT };
  }
}
