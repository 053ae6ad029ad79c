import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUrdf, loadUrdf, UrdfError } from "../../sim/urdf/parse.js";
import { validateModel } from "../../sim/urdf/validate.js";
import { parseXml, XmlError } from "../../sim/urdf/xml.js";
import { loadRobot, robotUrdfPath } from "../../sim/robots/catalog.js";
import { cloneModel } from "../../sim/urdf/model.js";

const LINK = (name: string, mass = 1, inertia = 'ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"') =>
  `<link name="${name}"><inertial><origin xyz="0 0 -0.1"/><mass value="${mass}"/><inertia ${inertia}/></inertial></link>`;
const JOINT = (name: string, parent: string, child: string, extra = "", type = "revolute") =>
  `<joint name="${name}" type="${type}"><parent link="${parent}"/><child link="${child}"/><axis xyz="0 0 1"/>` +
  (type === "revolute" || type === "prismatic" ? `<limit lower="-1" upper="1" effort="1" velocity="1"/>` : "") +
  `${extra}</joint>`;
const robot = (body: string) => `<?xml version="1.0"?>\n<robot name="r">\n${body}\n</robot>\n`;

/** Asserts parse fails with a UrdfError whose message contains every fragment. */
function rejects(xml: string, ...fragments: (string | RegExp)[]): UrdfError {
  let caught: unknown;
  try {
    parseUrdf(xml, "test.urdf");
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UrdfError, `expected UrdfError, got ${String(caught)}`);
  for (const f of fragments) {
    if (typeof f === "string") assert.ok(caught.message.includes(f), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(f)}`);
    else assert.match(caught.message, f);
  }
  return caught;
}

test("parses the Furuta URDF: links, joints, frames, limits, dynamics", () => {
  const m = loadRobot("furuta");
  assert.equal(m.name, "furuta");
  assert.equal(m.rootLink, "base");
  assert.deepEqual(m.links.map((l) => l.name), ["base", "arm", "pendulum"]);
  const [arm, pend] = m.joints;
  assert.equal(arm!.name, "arm_joint");
  assert.equal(arm!.type, "revolute");
  assert.deepEqual(arm!.axis, [0, 0, 1]);
  assert.deepEqual(arm!.limit, { lower: -2, upper: 2, effort: 0.06, velocity: 285 });
  assert.deepEqual(arm!.dynamics, { damping: 5e-4, friction: 0 });
  assert.equal(pend!.type, "continuous");
  assert.equal(pend!.limit, undefined);
  assert.deepEqual(pend!.origin, { xyz: [0.085, 0, 0], rpy: [0, 0, 0] });
  assert.deepEqual(pend!.dynamics, { damping: 1e-5, friction: 0 });
  const armLink = m.links[1]!.inertial!;
  // Jr about the motor shaft exactly: izz_com + m (Lr/2)^2
  assert.ok(Math.abs(armLink.inertia.izz + armLink.mass * 0.0425 ** 2 - 2.3e-4) < 1e-15);
  assert.equal(m.links[2]!.inertial!.mass, 0.024);
});

test("parses the single pendulum URDF", () => {
  const m = loadRobot("pendulum");
  assert.equal(m.joints.length, 1);
  assert.equal(m.joints[0]!.type, "continuous");
  assert.equal(m.joints[0]!.limit!.effort, 0.03);
  assert.equal(m.joints[0]!.limit!.lower, -Infinity);
});

test("reads origin rpy, normalizes the axis, defaults dynamics, skips visuals and comments", () => {
  const m = parseUrdf(
    robot(`<!-- a comment with <tags> inside -->
      <link name="base"><visual><geometry><box size="1 1 1"/></geometry></visual></link>
      ${LINK("a")}
      <joint name="j" type="continuous"><parent link="base"/><child link="a"/>
        <origin xyz="1 2 3" rpy="0.1 -0.2 0.3"/><axis xyz="0 3 4"/></joint>`),
  );
  const j = m.joints[0]!;
  assert.deepEqual(j.origin, { xyz: [1, 2, 3], rpy: [0.1, -0.2, 0.3] });
  assert.deepEqual(j.axis, [0, 0.6, 0.8]);
  assert.deepEqual(j.dynamics, { damping: 0, friction: 0 });
});

test("xml reader: attributes, entities, self-closing tags and line numbers", () => {
  const root = parseXml(`<?xml version="1.0"?>\n<a x='1 &amp; 2'>\n  <b/>\n  <c y="&#65;&lt;"></c>\n</a>`);
  assert.equal(root.name, "a");
  assert.equal(root.attributes.get("x")!.value, "1 & 2");
  assert.deepEqual(root.children.map((c) => [c.name, c.line]), [["b", 3], ["c", 4]]);
  assert.equal(root.children[1]!.attributes.get("y")!.value, "A<");
  assert.throws(() => parseXml("<a><b></a>"), (e: unknown) => e instanceof XmlError && /does not match <b>/.test(e.message));
  assert.throws(() => parseXml("<a>"), /end of file inside <a>/);
  assert.throws(() => parseXml("<a x=1/>"), /must be quoted/);
  assert.throws(() => parseXml("<a/><b/>"), /second root element/);
  assert.throws(() => parseXml("<!DOCTYPE a><a/>"), /DOCTYPE/);
  assert.throws(() => parseXml("<a x='&bogus;'/>"), /unknown entity/);
  assert.throws(() => parseXml("<a><!-- open"), /unterminated comment/);
});

test("rejects malformed XML with source and line", () => {
  const e = rejects(`<robot name="r">\n<link name="a">\n</robot>`, "test.urdf:3", "malformed XML", "</robot>");
  assert.equal(e.line, 3);
});

test("rejects a missing parent or child, and links that do not exist", () => {
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="continuous"><child link="a"/></joint>`), 'joint "j"', "no <parent", "test.urdf:4");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="continuous"><parent link="base"/></joint>`), 'joint "j"', "no <child");
  rejects(robot(`<link name="base"/>${LINK("a")}\n${JOINT("j", "nobody", "a")}`), 'joint "j"', 'parent link "nobody" does not exist', "test.urdf:4");
  rejects(robot(`<link name="base"/>${LINK("a")}\n${JOINT("j", "base", "ghost")}`), 'joint "j"', 'child link "ghost" does not exist');
});

test("rejects unknown and unsupported joint types", () => {
  rejects(robot(`<link name="base"/>${LINK("a")}\n${JOINT("hinge_j", "base", "a", "", "hinge")}`), 'joint "hinge_j"', 'unknown joint type "hinge"');
  rejects(robot(`<link name="base"/>${LINK("a")}\n${JOINT("f", "base", "a", "", "floating")}`), 'joint "f"', "floating joints", "not supported");
  rejects(robot(`<link name="base"/>${LINK("a")}\n${JOINT("p", "base", "a", "", "planar")}`), 'joint "p"', "planar joints are not supported");
});

test("rejects non-positive mass", () => {
  rejects(robot(`<link name="base"/>\n${LINK("a", 0)}\n${JOINT("j", "base", "a")}`), 'link "a"', "mass must be positive", "test.urdf:4");
  rejects(robot(`<link name="base"/>\n${LINK("a", -2)}\n${JOINT("j", "base", "a")}`), 'link "a"', "mass must be positive");
});

test("rejects inertias that are not positive-definite or break the triangle inequality", () => {
  rejects(
    robot(`<link name="base"/>\n${LINK("a", 1, 'ixx="0.01" ixy="0" ixz="0" iyy="0" iyz="0" izz="0.01"')}\n${JOINT("j", "base", "a")}`),
    'link "a"', "not positive-definite",
  );
  rejects(
    robot(`<link name="base"/>\n${LINK("a", 1, 'ixx="0.01" ixy="0.02" ixz="0" iyy="0.01" iyz="0" izz="0.01"')}\n${JOINT("j", "base", "a")}`),
    'link "a"', "not positive-definite",
  );
  rejects(
    robot(`<link name="base"/>\n${LINK("a", 1, 'ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.05"')}\n${JOINT("j", "base", "a")}`),
    'link "a"', "triangle inequality", "test.urdf:4",
  );
});

test("rejects loops, two parents and several roots", () => {
  rejects(
    robot(`<link name="base"/>${LINK("a")}${LINK("b")}\n${JOINT("j1", "base", "a")}\n${JOINT("j2", "base", "b")}\n${JOINT("j3", "a", "b")}`),
    'joint "j3"', 'link "b" already has a parent', "only one parent", "test.urdf:6",
  );
  rejects(robot(`${LINK("a")}${LINK("b")}\n${JOINT("j1", "a", "b")}\n${JOINT("j2", "b", "a")}`), "<robot>", "kinematic loop");
  rejects(
    robot(`<link name="base"/>${LINK("a")}${LINK("b")}${LINK("c")}\n${JOINT("j1", "base", "a")}\n${JOINT("j2", "b", "c")}\n${JOINT("j3", "c", "b")}`),
    "kinematic loop",
  );
  rejects(robot(`<link name="base"/>${LINK("a")}${LINK("b")}\n${JOINT("j1", "base", "a")}`), "<robot>", "more than one root", '"base"', '"b"');
  rejects(robot(`<link name="base"/>${LINK("base")}`), 'link "base"', "declared twice");
});

test("rejects non-numeric attributes, naming the attribute and its line", () => {
  const e = rejects(
    robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="continuous"><parent link="base"/><child link="a"/>\n<origin xyz="0 zero 0"/></joint>`),
    'joint "j"', 'xyz="0 zero 0"', "three finite numbers",
  );
  assert.equal(e.line, 5);
  rejects(robot(`<link name="base"/>\n<link name="a"><inertial><mass value="heavy"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>`), 'link "a"', 'value="heavy"', "not a finite number");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="revolute"><parent link="base"/><child link="a"/><limit lower="-1" upper="1" effort="1" velocity="NaN"/></joint>`), "not a finite number");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="revolute"><parent link="base"/><child link="a"/><limit lower="0x10" upper="1" effort="1" velocity="1"/></joint>`), 'lower="0x10"');
});

test("rejects revolute and prismatic joints without limits, and inverted limits", () => {
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="rj" type="revolute"><parent link="base"/><child link="a"/></joint>`), 'joint "rj"', "needs a <limit");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="pj" type="prismatic"><parent link="base"/><child link="a"/></joint>`), 'joint "pj"', "needs a <limit");
  rejects(
    robot(`<link name="base"/>${LINK("a")}\n<joint name="rj" type="revolute"><parent link="base"/><child link="a"/><limit lower="1" upper="-1" effort="1" velocity="1"/></joint>`),
    "lower (1) is above upper (-1)",
  );
});

test("rejects other structural problems: wrong root element, zero axis, mimic, duplicates", () => {
  rejects(`<model name="x"/>`, "<model>", "root element must be <robot>");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="continuous"><parent link="base"/><child link="a"/><axis xyz="0 0 0"/></joint>`), 'joint "j"', "non-zero");
  rejects(robot(`<link name="base"/>${LINK("a")}\n<joint name="j" type="continuous"><parent link="base"/><child link="a"/><mimic joint="k"/></joint>`), "<mimic>");
  rejects(robot(`<link name="base"/>${LINK("a")}${LINK("b")}\n${JOINT("j", "base", "a")}\n${JOINT("j", "a", "b")}`), 'joint "j"', "declared twice");
  rejects(robot(`<link/>`), "<link>", 'missing the "name" attribute');
});

test("loadUrdf: unreadable file is a clear error naming the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-urdf-"));
  try {
    const missing = join(dir, "missing.urdf");
    assert.throws(() => loadUrdf(missing), (e: unknown) => e instanceof UrdfError && e.message.startsWith(missing) && /cannot read file: ENOENT/.test(e.message));
    const bad = join(dir, "bad.urdf");
    writeFileSync(bad, `<robot name="r">\n<link name="a"/>\n<link name="a"/>\n</robot>`);
    assert.throws(() => loadUrdf(bad), (e: unknown) => e instanceof UrdfError && e.message.startsWith(`${bad}:3: link "a": declared twice`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("validateModel checks code-built (randomized) models too", () => {
  const m = cloneModel(loadRobot("furuta"));
  assert.equal(validateModel(m), "base");
  m.links[2]!.inertial!.mass = -1;
  assert.throws(() => validateModel(m), /robot "furuta": link "pendulum": mass must be positive/);
  const m2 = cloneModel(loadRobot("furuta"));
  m2.joints[0]!.dynamics.friction = -0.1;
  assert.throws(() => validateModel(m2), /joint "arm_joint": dynamics friction must be >= 0/);
  const m3 = cloneModel(loadRobot("furuta"));
  m3.rootLink = "arm";
  assert.throws(() => validateModel(m3), /rootLink is "arm" but the tree's root is "base"/);
  assert.ok(robotUrdfPath("furuta").endsWith("sim/robots/furuta/furuta.urdf"));
});
