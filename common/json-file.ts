import { readFileSync } from "node:fs";
import { ConfigError, type Schema } from "./schema.js";

/** Reads and validates a JSON file; every failure names the file, and the field when there is one. */
export function readJsonFile<T>(file: string, schema: Schema<T>): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("", `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError("", `not valid JSON: ${(e as Error).message}`, file);
  }
  try {
    return schema.parse(value, "");
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.path, e.problem, file);
    throw e;
  }
}
