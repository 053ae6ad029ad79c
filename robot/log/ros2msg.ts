/**
 * Parser for ROS 2 `.msg` definitions in the concatenated `ros2msg` form that
 * MCAP files (and rosbag2, and Foxglove) use as schema data: the root type's
 * definition first, then each dependency after a line of 80 '=' and a line
 * `MSG: pkg/Type`. The session log encodes and decodes CDR from the parsed
 * form, so the schema text written into a file is the one the bytes follow.
 */

export const PRIMITIVE_TYPES = [
  "bool",
  "byte",
  "char",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

export interface MsgField {
  name: string;
  /** A primitive type, or the normalized `pkg/Type` name of a message type. */
  type: string;
  isPrimitive: boolean;
  /** "none": a single value; "fixed": exactly arrayLength; "sequence": any length up to arrayBound. */
  array: "none" | "fixed" | "sequence";
  arrayLength?: number;
  arrayBound?: number;
  /** For `string<=N`. */
  stringBound?: number;
}

export interface MsgConstant {
  name: string;
  type: PrimitiveType;
  /** The value as written (strings unquoted). */
  value: string;
}

export interface MsgType {
  /** Normalized `pkg/Type`. */
  name: string;
  fields: MsgField[];
  constants: MsgConstant[];
}

export interface MsgDefinitions {
  /** Normalized name of the root type. */
  root: string;
  types: Map<string, MsgType>;
}

export class Ros2MsgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Ros2MsgError";
  }
}

export const MSG_SEPARATOR = "=".repeat(80);

/** `pkg/msg/Type` and `pkg/Type` both name the same type; the short form is used internally. */
export function normalizeTypeName(name: string): string {
  const parts = name.split("/");
  if (parts.length === 3 && parts[1] === "msg") return `${parts[0]}/${parts[2]}`;
  return name;
}

/** Joins a root definition and its dependencies into one ros2msg schema text. */
export function concatMsgDefinitions(root: string, dependencies: ReadonlyArray<readonly [name: string, definition: string]>): string {
  const parts = [root.trimEnd()];
  for (const [name, def] of dependencies) parts.push(`${MSG_SEPARATOR}\nMSG: ${normalizeTypeName(name)}\n${def.trimEnd()}`);
  return parts.join("\n") + "\n";
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_]*(\/[A-Za-z][A-Za-z0-9_]*){0,2}$/;

/**
 * Parses ros2msg schema text. `rootName` is the schema's name (e.g.
 * `sensor_msgs/msg/JointState`). Every referenced message type must be
 * defined in the text; errors name the schema, the type and the line.
 */
export function parseRos2Msg(rootName: string, text: string): MsgDefinitions {
  const root = normalizeTypeName(rootName);
  if (!TYPE_NAME.test(root) || !root.includes("/")) throw new Ros2MsgError(`schema name ${JSON.stringify(rootName)} is not a package/Type name`);
  const types = new Map<string, MsgType>();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let current: { name: string; startLine: number; lines: Array<[number, string]> } = { name: root, startLine: 1, lines: [] };
  const sections = [current];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^={80,}\s*$/.test(line)) {
      const header = lines[i + 1] ?? "";
      const m = /^MSG:\s+(\S+)\s*$/.exec(header);
      if (!m) throw new Ros2MsgError(`schema ${rootName}: line ${i + 2}: expected "MSG: pkg/Type" after the separator, got ${JSON.stringify(header)}`);
      current = { name: normalizeTypeName(m[1]!), startLine: i + 3, lines: [] };
      sections.push(current);
      i++;
      continue;
    }
    current.lines.push([i + 1, line]);
  }
  for (const s of sections) {
    if (types.has(s.name)) throw new Ros2MsgError(`schema ${rootName}: type ${s.name} is defined twice`);
    types.set(s.name, parseOne(rootName, s.name, s.lines));
  }
  // Every complex field must resolve to a defined type.
  for (const t of types.values()) {
    for (const f of t.fields) {
      if (!f.isPrimitive && !types.has(f.type)) {
        throw new Ros2MsgError(`schema ${rootName}: ${t.name}.${f.name} has type ${f.type}, which is not defined in the schema (add it after a "MSG: ${f.type}" separator)`);
      }
    }
  }
  checkNoCycles(rootName, types, root, []);
  return { root, types };
}

function parseOne(schema: string, typeName: string, lines: Array<[number, string]>): MsgType {
  const pkg = typeName.split("/")[0]!;
  const fields: MsgField[] = [];
  const constants: MsgConstant[] = [];
  const seen = new Set<string>();
  for (const [lineNo, raw] of lines) {
    const where = () => `schema ${schema}: type ${typeName}, line ${lineNo}`;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = /^(\S+)\s+([A-Za-z][A-Za-z0-9_]*)\s*(=)?\s*(.*)$/.exec(trimmed);
    if (!m) throw new Ros2MsgError(`${where()}: cannot parse ${JSON.stringify(trimmed)}; expected "type name"`);
    const [, typeSpec, name, isConst, restRaw] = m as unknown as [string, string, string, string | undefined, string];
    if (seen.has(name)) throw new Ros2MsgError(`${where()}: ${name} is declared twice`);
    seen.add(name);
    const parsed = parseTypeSpec(typeSpec, pkg, where);
    if (isConst) {
      if (!parsed.isPrimitive || parsed.array !== "none") throw new Ros2MsgError(`${where()}: constant ${name} must have a primitive, non-array type`);
      // String constants take the rest of the line (comments included, as in ROS); others end at '#'.
      let value = parsed.type === "string" ? restRaw.trim() : stripComment(restRaw).trim();
      if (parsed.type === "string" && /^(["']).*\1$/.test(value)) value = value.slice(1, -1);
      if (value === "") throw new Ros2MsgError(`${where()}: constant ${name} has no value`);
      constants.push({ name, type: parsed.type as PrimitiveType, value });
      continue;
    }
    if (!IDENT.test(name)) throw new Ros2MsgError(`${where()}: ${JSON.stringify(name)} is not a valid field name`);
    // Anything after the name is a default value; it does not change the wire format.
    fields.push({ name, ...parsed });
  }
  return { name: typeName, fields, constants };
}

function stripComment(s: string): string {
  const i = s.indexOf("#");
  return i < 0 ? s : s.slice(0, i);
}

function parseTypeSpec(spec: string, pkg: string, where: () => string): Omit<MsgField, "name"> {
  const m = /^([A-Za-z][A-Za-z0-9_/]*)(<=(\d+))?(\[(<=)?(\d*)\])?$/.exec(spec);
  if (!m) throw new Ros2MsgError(`${where()}: cannot parse the type ${JSON.stringify(spec)}`);
  const [, base, , strBound, arr, bounded, len] = m as unknown as [string, string, string?, string?, string?, string?, string?];
  if (base === "wstring") throw new Ros2MsgError(`${where()}: wstring fields are not supported by the s2r session log`);
  const isPrimitive = (PRIMITIVE_TYPES as readonly string[]).includes(base);
  if (strBound !== undefined && base !== "string") throw new Ros2MsgError(`${where()}: only strings take a <=N bound, not ${base}`);
  let type = base;
  if (!isPrimitive) {
    if (!TYPE_NAME.test(base)) throw new Ros2MsgError(`${where()}: ${JSON.stringify(base)} is not a type name`);
    // A bare name refers to the same package; "Header" is the one legacy exception.
    type = base.includes("/") ? normalizeTypeName(base) : base === "Header" ? "std_msgs/Header" : `${pkg}/${base}`;
  }
  const out: Omit<MsgField, "name"> = { type, isPrimitive, array: "none" };
  if (strBound !== undefined) out.stringBound = Number(strBound);
  if (arr !== undefined) {
    if (len === "" || len === undefined) {
      if (bounded) throw new Ros2MsgError(`${where()}: bounded array ${JSON.stringify(spec)} needs a bound`);
      out.array = "sequence";
    } else if (bounded) {
      out.array = "sequence";
      out.arrayBound = Number(len);
    } else {
      out.array = "fixed";
      out.arrayLength = Number(len);
    }
  }
  return out;
}

function checkNoCycles(schema: string, types: Map<string, MsgType>, name: string, stack: string[]): void {
  if (stack.includes(name)) throw new Ros2MsgError(`schema ${schema}: type ${name} contains itself (${[...stack, name].join(" -> ")})`);
  const t = types.get(name)!;
  for (const f of t.fields) if (!f.isPrimitive) checkNoCycles(schema, types, f.type, [...stack, name]);
}
