/**
 * URDF text -> RobotModel. Reads the dynamics-relevant subset of URDF (links
 * with <inertial>, joints with origin/axis/limit/dynamics) and the visuals
 * (box, cylinder, sphere, STL/OBJ meshes next to the URDF, colour materials,
 * named at robot level or inline); ignores collisions, textures,
 * transmissions and gazebo tags. Every error names the source, line and
 * element.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseMeshFile } from "./mesh.js";
import { normalize, type Vec3 } from "../physics/math.js";
import { UrdfError } from "./errors.js";
import type { Inertia, JointModel, JointType, LinkModel, Pose, RobotModel, VisualGeometry, VisualMaterial, VisualModel } from "./model.js";
import { checkTree } from "./validate.js";
import { parseXml, XmlError, type XmlElement } from "./xml.js";

export { UrdfError };

const JOINT_TYPES: readonly string[] = ["revolute", "continuous", "prismatic", "fixed"];
const UNSUPPORTED_JOINT_TYPES: Record<string, string> = {
  floating: "floating joints (free 6-DOF bodies) are not supported: the root link is fixed to the world and every other link hangs off a revolute, continuous, prismatic or fixed joint",
  planar: "planar joints are not supported: model the motion with two prismatic joints and a revolute joint",
};

/**
 * Parses URDF text. `source` names it in errors (a file path, or "<string>");
 * `meshDir` is where <mesh> files are looked up (the URDF's folder when loaded
 * from a file; without it a <mesh> is an error).
 */
export function parseUrdf(xml: string, source = "<string>", meshDir?: string): RobotModel {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) throw new UrdfError(source, e.line, "", `malformed XML: ${e.problem}`);
    throw e;
  }
  return new UrdfReader(source, meshDir).robot(root);
}

/** Reads and parses a URDF file. */
export function loadUrdf(file: string): RobotModel {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UrdfError(file, undefined, "", `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseUrdf(text, file, dirname(file));
}

class UrdfReader {
  private readonly lines = new Map<string, number>();
  private readonly materials = new Map<string, VisualMaterial>();

  constructor(
    private readonly source: string,
    private readonly meshDir: string | undefined,
  ) {}

  private fail(el: XmlElement, owner: string, problem: string): never {
    throw new UrdfError(this.source, el.line, owner, problem);
  }

  robot(root: XmlElement): RobotModel {
    if (root.name !== "robot") this.fail(root, `<${root.name}>`, "the root element must be <robot>");
    const name = this.attr(root, "<robot>", "name");
    this.lines.set("robot:", root.line);
    const links: LinkModel[] = [];
    const joints: JointModel[] = [];
    // Robot-level materials first: a link may use one declared further down.
    for (const el of root.children) {
      if (el.name !== "material") continue;
      const m = this.material(el, "<robot>");
      if (!m.rgba) this.fail(el, `material "${m.name}"`, "a robot-level <material> needs a <color rgba=...> (textures are not supported)");
      if (this.materials.has(m.name!)) this.fail(el, `material "${m.name}"`, "defined twice");
      this.materials.set(m.name!, { name: m.name!, rgba: m.rgba });
    }
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
    const visualEls = el.children.filter((c) => c.name === "visual");
    const visuals = visualEls.length ? { visuals: visualEls.map((v) => this.visual(v, owner)) } : {};
    const inertialEl = this.single(el, owner, "inertial");
    if (!inertialEl) return { name, ...visuals };
    const massEl = this.single(inertialEl, owner, "mass");
    if (!massEl) this.fail(inertialEl, owner, "<inertial> has no <mass>");
    const mass = this.number(massEl, owner, "value");
    if (!(mass > 0)) this.fail(massEl, owner, `mass must be positive, got ${mass}`);
    const inertiaEl = this.single(inertialEl, owner, "inertia");
    if (!inertiaEl) this.fail(inertialEl, owner, "<inertial> has no <inertia>");
    const inertia = {} as Inertia;
    for (const k of ["ixx", "ixy", "ixz", "iyy", "iyz", "izz"] as const) inertia[k] = this.number(inertiaEl, owner, k);
    return { name, inertial: { mass, origin: this.pose(inertialEl, owner), inertia }, ...visuals };
  }

  private visual(el: XmlElement, owner: string): VisualModel {
    const geomEl = this.single(el, owner, "geometry");
    if (!geomEl) this.fail(el, owner, "<visual> has no <geometry>");
    if (geomEl.children.length !== 1) this.fail(geomEl, owner, `<geometry> needs exactly one shape (box, cylinder, sphere or mesh), got ${geomEl.children.length}`);
    const shape = geomEl.children[0]!;
    const positive = (attr: string): number => {
      const v = this.number(shape, owner, attr);
      if (!(v > 0)) this.fail(shape, owner, `<${shape.name} ${attr}> must be positive, got ${v}`);
      return v;
    };
    let geometry: VisualGeometry;
    switch (shape.name) {
      case "box": {
        const size = this.vector(shape, owner, "size", undefined);
        if (!size.every((x) => x > 0)) this.fail(shape, owner, `<box size> must be three positive numbers, got ${size.join(" ")}`);
        geometry = { kind: "box", size };
        break;
      }
      case "cylinder":
        geometry = { kind: "cylinder", radius: positive("radius"), length: positive("length") };
        break;
      case "sphere":
        geometry = { kind: "sphere", radius: positive("radius") };
        break;
      case "mesh":
        geometry = this.mesh(shape, owner);
        break;
      default:
        this.fail(shape, owner, `unknown geometry <${shape.name}> (supported: box, cylinder, sphere, mesh)`);
    }
    const matEl = this.single(el, owner, "material");
    let material: VisualMaterial | undefined;
    if (matEl) {
      const m = this.material(matEl, owner);
      if (m.rgba) material = m.name ? { name: m.name, rgba: m.rgba } : { rgba: m.rgba };
      else {
        material = this.materials.get(m.name!);
        if (!material) this.fail(matEl, owner, `material "${m.name}" is not defined at robot level and has no <color>${this.materials.size ? ` (defined: ${[...this.materials.keys()].join(", ")})` : ""}`);
      }
    }
    return { origin: this.pose(el, owner), geometry, ...(material ? { material } : {}) };
  }

  /** A <material> element: its name and its colour when it has one. */
  private material(el: XmlElement, owner: string): { name?: string; rgba?: [number, number, number, number] } {
    const name = el.attributes.get("name")?.value.trim() || undefined;
    const colorEl = this.single(el, owner, "color");
    if (!name && !colorEl) this.fail(el, owner, "<material> needs a name or a <color rgba=...>");
    if (!colorEl) return { name };
    const a = colorEl.attributes.get("rgba");
    if (!a) this.fail(colorEl, owner, '<color> is missing the "rgba" attribute');
    const parts = a.value.trim().split(/\s+/).map(parseNumber);
    if (parts.length !== 4 || parts.some((x) => x === undefined || x < 0 || x > 1))
      throw new UrdfError(this.source, a.line, owner, `<color rgba="${a.value}">: expected four numbers in [0, 1]`);
    return { name, rgba: parts as [number, number, number, number] };
  }

  private mesh(el: XmlElement, owner: string): VisualGeometry {
    const uri = this.attr(el, owner, "filename");
    // package:// and file:// URIs name files by ROS package; only the file next to the URDF is looked for.
    const file = basename(uri.replace(/^(package|file):\/\//, ""));
    if (!this.meshDir) this.fail(el, owner, `mesh "${uri}": meshes are read from the URDF's folder, and this URDF was not read from a file`);
    const path = join(this.meshDir, file);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      this.fail(el, owner, `mesh "${uri}": cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); mesh files must sit next to the URDF`);
    }
    let triangles: number[];
    try {
      triangles = parseMeshFile(bytes, file);
    } catch (e) {
      this.fail(el, owner, `mesh "${uri}": ${(e as Error).message}`);
    }
    const s = this.vector(el, owner, "scale", [1, 1, 1]);
    for (let i = 0; i < triangles.length; i++) triangles[i] = triangles[i]! * s[i % 3]!;
    return { kind: "mesh", file, triangles };
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
