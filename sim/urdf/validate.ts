/**
 * Checks that a RobotModel is physically and structurally usable: positive
 * masses, physical inertias, finite numbers, consistent limits, and a tree
 * (one root, every other link with exactly one parent, no loops). Used by the
 * URDF parser (with line numbers) and again by the simulator on every rebuild,
 * because randomized models are built in code and can go wrong there too.
 */
import { inertiaProblem } from "../physics/inertia.js";
import { UrdfError } from "./errors.js";
import type { JointModel, LinkModel, Pose, RobotModel } from "./model.js";

/** Where an element was declared, when known (the parser knows; code-built models don't). */
export type LineOf = (kind: "link" | "joint" | "robot", name: string) => number | undefined;

const noLines: LineOf = () => undefined;

function finitePose(p: Pose): boolean {
  return [...p.xyz, ...p.rpy].every(Number.isFinite);
}

/** Throws UrdfError on the first problem found (including a wrong `rootLink`); returns the root link's name otherwise. */
export function validateModel(model: RobotModel, source = `robot "${model.name}"`, lineOf: LineOf = noLines): string {
  const root = checkTree(model, source, lineOf);
  if (model.rootLink !== root)
    throw new UrdfError(source, lineOf("robot", ""), "<robot>", `rootLink is "${model.rootLink}" but the tree's root is "${root}"`);
  return root;
}

/** All checks except `rootLink`, which the URDF parser derives from the tree; returns the root link. */
export function checkTree(model: Omit<RobotModel, "rootLink">, source: string, lineOf: LineOf = noLines): string {
  const fail = (kind: "link" | "joint" | "robot", name: string, problem: string): never => {
    throw new UrdfError(source, lineOf(kind, name), kind === "robot" ? "<robot>" : `${kind} "${name}"`, problem);
  };

  const links = new Map<string, LinkModel>();
  for (const link of model.links) {
    if (!link.name) fail("robot", "", "a link has an empty name");
    if (links.has(link.name)) fail("link", link.name, "declared twice");
    links.set(link.name, link);
    const inertial = link.inertial;
    if (inertial) {
      if (!(Number.isFinite(inertial.mass) && inertial.mass > 0))
        fail("link", link.name, `mass must be positive, got ${inertial.mass}`);
      if (!finitePose(inertial.origin)) fail("link", link.name, "inertial origin has a non-finite component");
      const problem = inertiaProblem(inertial.inertia);
      if (problem) fail("link", link.name, problem);
    }
  }
  if (links.size === 0) fail("robot", "", "has no links");

  const joints = new Set<string>();
  const parentOf = new Map<string, JointModel>();
  for (const joint of model.joints) {
    if (!joint.name) fail("robot", "", "a joint has an empty name");
    if (joints.has(joint.name)) fail("joint", joint.name, "declared twice");
    joints.add(joint.name);
    checkJoint(joint, (problem) => fail("joint", joint.name, problem));
    if (!links.has(joint.parent)) fail("joint", joint.name, `parent link "${joint.parent}" does not exist`);
    if (!links.has(joint.child)) fail("joint", joint.name, `child link "${joint.child}" does not exist`);
    if (joint.parent === joint.child) fail("joint", joint.name, `joins link "${joint.child}" to itself`);
    const earlier = parentOf.get(joint.child);
    if (earlier)
      fail("joint", joint.name, `link "${joint.child}" already has a parent (joint "${earlier.name}"): a link may have only one parent`);
    parentOf.set(joint.child, joint);
  }

  const roots = [...links.keys()].filter((name) => !parentOf.has(name));
  if (roots.length === 0) fail("robot", "", "every link has a parent, so the joints form a kinematic loop (no root link)");
  if (roots.length > 1) fail("robot", "", `more than one root link (${roots.map((r) => `"${r}"`).join(", ")}): all links must form one tree`);
  const root = roots[0]!;

  // With one parent per link and one root, any link the root cannot reach sits on a loop.
  const children = new Map<string, JointModel[]>();
  for (const j of model.joints) children.set(j.parent, [...(children.get(j.parent) ?? []), j]);
  const reached = new Set<string>([root]);
  const queue = [root];
  while (queue.length) for (const j of children.get(queue.shift()!) ?? []) if (!reached.has(j.child)) reached.add(j.child), queue.push(j.child);
  for (const j of model.joints)
    if (!reached.has(j.child)) fail("joint", j.name, `is part of a kinematic loop (link "${j.child}" is not reachable from root "${root}")`);

  return root;
}

function checkJoint(joint: JointModel, fail: (problem: string) => never): void {
  const types = ["revolute", "continuous", "prismatic", "fixed"];
  if (!types.includes(joint.type)) fail(`unknown joint type "${joint.type}" (supported: ${types.join(", ")})`);
  if (!finitePose(joint.origin)) fail("origin has a non-finite component");
  if (joint.type === "fixed") return;
  const n = Math.hypot(...joint.axis);
  if (!joint.axis.every(Number.isFinite) || !(n > 0)) fail(`axis must be a non-zero vector, got ${joint.axis.join(" ")}`);
  if (Math.abs(n - 1) > 1e-9) fail(`axis must be a unit vector (normalize it), got length ${n}`);
  const { damping, friction } = joint.dynamics;
  if (!(Number.isFinite(damping) && damping >= 0)) fail(`dynamics damping must be >= 0, got ${damping}`);
  if (!(Number.isFinite(friction) && friction >= 0)) fail(`dynamics friction must be >= 0, got ${friction}`);
  const limit = joint.limit;
  if (joint.type === "revolute" || joint.type === "prismatic") {
    if (!limit) fail(`a ${joint.type} joint needs a <limit> (lower, upper, effort, velocity)`);
    if (!(Number.isFinite(limit.lower) && Number.isFinite(limit.upper))) fail("limit lower and upper must be finite");
    if (limit.lower > limit.upper) fail(`limit lower (${limit.lower}) is above upper (${limit.upper})`);
  }
  if (limit) {
    if (!(limit.effort >= 0)) fail(`limit effort must be >= 0, got ${limit.effort}`);
    if (!(limit.velocity >= 0)) fail(`limit velocity must be >= 0, got ${limit.velocity}`);
  }
}
