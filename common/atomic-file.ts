import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, type Schema } from "./schema.js";

/**
 * Replaces `file` atomically: the data goes to a temporary file in the same
 * folder, is synced, then renamed over `file`, so a crash leaves either the
 * old file or the new one, never half of one. Used for every file that is
 * read back later (checkpoints, manifests, calibrations, reports).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created, or already renamed */
    }
    throw new Error(`${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Make the rename itself durable; some filesystems refuse to sync a folder, and the rename is atomic anyway.
  try {
    const dfd = openSync(dirname(target), "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* see above */
  }
}

/** Validates `value` against `schema` (errors name the file and field) and writes it as JSON, atomically. */
export function writeJsonFileValidated<T>(file: string, value: T, schema: Schema<T>): void {
  let checked: T;
  try {
    checked = schema.parse(JSON.parse(JSON.stringify(value)), "");
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.path, e.problem, file);
    throw e;
  }
  writeFileAtomic(file, JSON.stringify(checked, null, 2) + "\n");
}
