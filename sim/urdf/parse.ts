/**
 * URDF text -> RobotModel. Reads the dynamics-relevant subset of URDF (links
 * with <inertial>, joints with origin/axis/limit/dynamics) and ignores visuals,
 * collisions, materials, transmissions and gazebo tags. Every error names the
 * source, line and element.
 */
import { readFileSync } from "node:fs";
import { normalize, type Vec3 } from "../physics/math.js";
import { UrdfError } from "./errors.js";
import type { Inertia, JointModel, JointType, LinkModel, Pose, RobotModel } from "./model.js";
import { checkTree } from "./validate.js";
import { parseXml, XmlError, type XmlElement } from "./xml.js";

export { UrdfError };

const JOINT_TYPES: readonly string[] = ["revolute", "continuous", "prismatic", "fixed"];
const UNSUPPORTED_JOINT_TYPES: Record<string, string> = {
  floating: "floating joints (free 6-DOF bodies) are not supported: the root link is fixed to the world and every other link hangs off a revolute, continuous, prismatic or fixed joint",
  planar: "planar joints are not supported: model the motion with two prismatic joints and a revolute joint",
};

/** Parses URDF text. `source` names it in errors (a file path, or "<string>"). */
export function parseUrdf(xml: string, source = "<string>"): RobotModel {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) throw new UrdfError(source, e.line, "", `malformed XML: ${e.problem}`);
    throw e;
  }
  return new UrdfReader(source).robot(root);
}

/** Reads and parses a URDF file. */
export function loadUrdf(file: string): RobotModel {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UrdfError(file, undefined, "", `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseUrdf(text, file);
}

class UrdfReader {
  private readonly lines = new Map<string, number>();

  constructor(private readonly source: string) {}

  private fail(el: XmlElement, owner: string, problem: string): never {
    throw new UrdfError(this.source, el.line, owner, problem);
  }

  robot(root: XmlElement): RobotModel {
    if (root.name !== "robot") this.fail(root, `<${root.name}>`, "the root element must be <robot>");
    const name = this.attr(root, "<robot>", "name");
    this.lines.set("robot:", root.line);
    const links: LinkModel[] = [];
    const joints: JointModel[] = [];
    for (const el of root.children) {
      if (el.name === "link") links.push(this.link(el));
      else if (el.name === "joint") joints.push(this.joint(el));
    }
    // A code-built model states its root; in URDF the tree implies it.
    const rootLink = checkTree({ name, links, joints }, this.source, (kind, n) => this.lines.get(`${kind}:${n}`));
    return { name, links, joints, rootLink };
  }

  private link(el: XmlElement): LinkModel {
    const name = this.attr(el, "<link>", "name");
    const owner = `link "${name}"`;
    this.lines.set(`link:${name}`, el.line); // the last declaration: for a duplicate, the one at fault
    const inertialEl = this.single(el, owner, "inertial");
    if (!inertialEl) return { name };
    const massEl = this.single(inertialEl, owner, "mass");
    if (!massEl) this.fail(inertialEl, owner, "<inertial> has no <mass>");
    const mass = this.number(massEl, owner, "value");
    if (!(mass > 0)) this.fail(massEl, owner, `mass must be positive, got ${mass}`);
    const inertiaEl = this.single(inertialEl, owner, "inertia");
    if (!inertiaEl) this.fail(inertialEl, owner, "<inertial> has no <inertia>");
    const inertia = {} as Inertia;
    for (const k of ["ixx", "ixy", "ixz", "iyy", "iyz", "izz"] as const) inertia[k] = this.number(inertiaEl, owner, k);
    return { name, inertial: { mass, origin: this.pose(inertialEl, owner), inertia } };
  }

  private joint(el: XmlElement): JointModel {
    const name = this.attr(el, "<joint>", "name");
    const owner = `joint "${name}"`;
    this.lines.set(`joint:${name}`, el.line);
    const typeName = this.attr(el, owner, "type");
    if (typeName in UNSUPPORTED_JOINT_TYPES) this.fail(el, owner, UNSUPPORTED_JOINT_TYPES[typeName]!);
    if (!JOINT_TYPES.includes(typeName)) this.fail(el, owner, `unknown joint type "${typeName}" (supported: ${JOINT_TYPES.join(", ")})`);
    const type = typeName as JointType;
    const parentEl = this.single(el, owner, "parent");
    if (!parentEl) this.fail(el, owner, "has no <parent link=...>");
    const childEl = this.single(el, owner, "child");
    if (!childEl) this.fail(el, owner, "has no <child link=...>");
    const mimic = this.single(el, owner, "mimic");
    if (mimic) this.fail(mimic, owner, "<mimic> joints are not supported");

    let axis: Vec3 = [1, 0, 0];
    const axisEl = this.single(el, owner, "axis");
    if (axisEl && type !== "fixed") {
      const raw = this.vector(axisEl, owner, "xyz", undefined);
      if (!(Math.hypot(...raw) > 0)) this.fail(axisEl, owner, "axis must be a non-zero vector");
      axis = normalize(raw);
    }

    let limit: JointModel["limit"];
    const limitEl = this.single(el, owner, "limit");
    if (type === "revolute" || type === "prismatic") {
      if (!limitEl) this.fail(el, owner, `a ${type} joint needs a <limit lower=... upper=... effort=... velocity=.../>`);
      limit = {
        lower: this.number(limitEl, owner, "lower", 0),
        upper: this.number(limitEl, owner, "upper", 0),
        effort: this.number(limitEl, owner, "effort"),
        velocity: this.number(limitEl, owner, "velocity"),
      };
      if (limit.lower > limit.upper) this.fail(limitEl, owner, `limit lower (${limit.lower}) is above upper (${limit.upper})`);
    } else if (type === "continuous" && limitEl) {
      // Position bounds mean nothing on a continuous joint; keep the effort and velocity bounds.
      limit = { lower: -Infinity, upper: Infinity, effort: this.number(limitEl, owner, "effort"), velocity: this.number(limitEl, owner, "velocity") };
    }

    const dynEl = this.single(el, owner, "dynamics");
    const dynamics = {
      damping: dynEl ? this.number(dynEl, owner, "damping", 0) : 0,
      friction: dynEl ? this.number(dynEl, owner, "friction", 0) : 0,
    };
    if (dynEl && dynamics.damping < 0) this.fail(dynEl, owner, `damping must be >= 0, got ${dynamics.damping}`);
    if (dynEl && dynamics.friction < 0) this.fail(dynEl, owner, `friction must be >= 0, got ${dynamics.friction}`);

    return {
      name,
      type,
      parent: this.attr(parentEl, owner, "link"),
      child: this.attr(childEl, owner, "link"),
      origin: this.pose(el, owner),
      axis,
      ...(limit ? { limit } : {}),
      dynamics,
    };
  }

  /** The <origin> child of `el` (identity when absent). */
  private pose(el: XmlElement, owner: string): Pose {
    const originEl = this.single(el, owner, "origin");
    if (!originEl) return { xyz: [0, 0, 0], rpy: [0, 0, 0] };
    return { xyz: this.vector(originEl, owner, "xyz", [0, 0, 0]), rpy: this.vector(originEl, owner, "rpy", [0, 0, 0]) };
  }

  private single(el: XmlElement, owner: string, name: string): XmlElement | undefined {
    const found = el.children.filter((c) => c.name === name);
    if (found.length > 1) this.fail(found[1]!, owner, `more than one <${name}> in <${el.name}>`);
    return found[0];
  }

  private attr(el: XmlElement, owner: string, name: string): string {
    const a = el.attributes.get(name);
    if (a === undefined) this.fail(el, owner, `<${el.name}> is missing the "${name}" attribute`);
    if (a.value.trim() === "") this.fail(el, owner, `<${el.name}> has an empty "${name}" attribute`);
    return a.value;
  }

  private number(el: XmlElement, owner: string, name: string, fallback?: number): number {
    const a = el.attributes.get(name);
    if (a === undefined) {
      if (fallback !== undefined) return fallback;
      this.fail(el, owner, `<${el.name}> is missing the "${name}" attribute`);
    }
    const v = parseNumber(a.value);
    if (v === undefined) throw new UrdfError(this.source, a.line, owner, `<${el.name} ${name}="${a.value}">: not a finite number`);
    return v;
  }

  private vector(el: XmlElement, owner: string, name: string, fallback: Vec3 | undefined): Vec3 {
    const a = el.attributes.get(name);
    if (a === undefined) {
      if (fallback) return [...fallback];
      this.fail(el, owner, `<${el.name}> is missing the "${name}" attribute`);
    }
    const parts = a.value.trim().split(/\s+/);
    const nums = parts.map(parseNumber);
    if (parts.length !== 3 || nums.some((n) => n === undefined))
      throw new UrdfError(this.source, a.line, owner, `<${el.name} ${name}="${a.value}">: expected three finite numbers`);
    return nums as Vec3;
  }
}

function parseNumber(text: string): number | undefined {
  const t = text.trim();
  // Number("") is 0 and Number("0x10") is 16; URDF numbers are decimal only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}
