/**
 * Command-line argument parsing for s2r subcommands: `--name value`,
 * `--name=value`, boolean `--flag`, and positionals. Every option is declared,
 * so an unknown or malformed one is an error naming it.
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionKind = "string" | "number" | "integer" | "boolean" | "list";

export interface OptionSpec {
  kind: OptionKind;
  description: string;
  /** Shown in help; also the value used when absent (not for booleans). */
  default?: string | number;
  /** Placeholder in help, e.g. "DIR". */
  value?: string;
  /** The value of a bare `--name` (last argument, or followed by another option): the value is then optional, e.g. `--ray [ADDRESS]`. */
  implicit?: string;
}

export interface CommandSpec {
  /** e.g. "sim trace"; filled from the registry in launch/commands/index.ts. */
  name: string;
  /** One line; filled from the registry. */
  summary: string;
  /** Positional arguments as shown in usage, e.g. "<task>" or "[DIR]". */
  positionals?: string;
  options: Record<string, OptionSpec>;
  /** Free text after the options in --help. */
  details?: string;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | string[] | undefined>;
}

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  const positionals: string[] = [];
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.kind === "boolean") options[name] = false;
    else if (o.kind === "list") options[name] = [];
    else if (o.default !== undefined) options[name] = convert(spec, name, o, String(o.default));
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = spec.options[name];
    if (!o) throw new UsageError(`s2r ${spec.name}: unknown option --${name} (see s2r ${spec.name} --help)`);
    if (o.kind === "boolean") {
      if (eq >= 0) throw new UsageError(`s2r ${spec.name}: --${name} takes no value`);
      options[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = a.slice(eq + 1);
    else if (o.implicit !== undefined && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--"))) raw = o.implicit;
    else {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`s2r ${spec.name}: --${name} needs a value (${o.value ?? o.kind})`);
    }
    if (o.kind === "list") (options[name] as string[]).push(raw);
    else options[name] = convert(spec, name, o, raw);
  }
  return { positionals, options };
}

function convert(spec: CommandSpec, name: string, o: OptionSpec, raw: string): string | number {
  if (o.kind === "string") return raw;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n)) throw new UsageError(`s2r ${spec.name}: --${name} expects a number, got ${JSON.stringify(raw)}`);
  if (o.kind === "integer" && !Number.isInteger(n)) throw new UsageError(`s2r ${spec.name}: --${name} expects an integer, got ${raw}`);
  return n;
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: s2r ${spec.name}${spec.positionals ? " " + spec.positionals : ""} [options]`, "", spec.summary, ""];
  const names = Object.keys(spec.options);
  if (names.length) {
    lines.push("Options:");
    const left = names.map((n) => {
      const o = spec.options[n]!;
      const v = o.value ?? o.kind.toUpperCase();
      return `  --${n}${o.kind === "boolean" ? "" : o.implicit !== undefined ? ` [${v}]` : " " + v}`;
    });
    const w = Math.max(...left.map((l) => l.length)) + 2;
    names.forEach((n, i) => {
      const o = spec.options[n]!;
      const def = o.default !== undefined ? ` (default ${o.default})` : "";
      lines.push(left[i]!.padEnd(w) + o.description + def);
    });
  }
  if (spec.details) lines.push("", spec.details.trim());
  return lines.join("\n") + "\n";
}

/** Typed accessors that fail with the option's name. */
export function need<T extends string | number>(args: ParsedArgs, spec: CommandSpec, name: string): T {
  const v = args.options[name];
  if (v === undefined) throw new UsageError(`s2r ${spec.name}: --${name} is required`);
  return v as T;
}
