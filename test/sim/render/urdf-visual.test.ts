import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadUrdf, parseUrdf, UrdfError } from "../../../sim/urdf/parse.js";
import { projectPath } from "../../../common/paths.js";

const robot = (links: string, extra = "") => `<?xml version="1.0"?>
<robot name="r">
${extra}
  <link name="base">
${links}
  </link>
</robot>
`;

test("visuals: box, cylinder, sphere with origins, inline and named materials", () => {
  const m = parseUrdf(
    robot(
      `    <visual><origin xyz="0 0 0.1" rpy="0 0 1"/><geometry><box size="0.1 0.2 0.3"/></geometry><material name="red"/></visual>
    <visual><geometry><cylinder radius="0.02" length="0.5"/></geometry><material><color rgba="0 1 0 1"/></material></visual>
    <visual><geometry><sphere radius="0.05"/></geometry></visual>`,
      `  <material name="red"><color rgba="1 0 0 1"/></material>`,
    ),
  );
  const v = m.links[0]!.visuals!;
  assert.equal(v.length, 3);
  assert.deepEqual(v[0]!.geometry, { kind: "box", size: [0.1, 0.2, 0.3] });
  assert.deepEqual(v[0]!.origin, { xyz: [0, 0, 0.1], rpy: [0, 0, 1] });
  assert.deepEqual(v[0]!.material, { name: "red", rgba: [1, 0, 0, 1] });
  assert.deepEqual(v[1]!.geometry, { kind: "cylinder", radius: 0.02, length: 0.5 });
  assert.deepEqual(v[1]!.material, { rgba: [0, 1, 0, 1] });
  assert.deepEqual(v[2]!.geometry, { kind: "sphere", radius: 0.05 });
  assert.equal(v[2]!.material, undefined);
});

test("visuals: a robot-level material may be declared after the link that uses it", () => {
  const m = parseUrdf(`<robot name="r"><link name="base"><visual><geometry><sphere radius="1"/></geometry><material name="blue"/></visual></link>
<material name="blue"><color rgba="0 0 1 1"/></material></robot>`);
  assert.deepEqual(m.links[0]!.visuals![0]!.material!.rgba, [0, 0, 1, 1]);
});

test("visuals: errors name the line and the link", () => {
  const cases: [string, string, number, RegExp][] = [
    ["unknown shape", robot(`    <visual>\n      <geometry><capsule radius="1" length="1"/></geometry></visual>`), 6, /link "base": unknown geometry <capsule>/],
    ["no geometry", robot(`    <visual/>`), 5, /<visual> has no <geometry>/],
    ["negative radius", robot(`    <visual><geometry><sphere radius="-1"/></geometry></visual>`), 5, /<sphere radius> must be positive/],
    ["box size", robot(`    <visual><geometry><box size="1 0 1"/></geometry></visual>`), 5, /three positive numbers/],
    ["undefined material", robot(`    <visual><geometry><sphere radius="1"/></geometry>\n<material name="nope"/></visual>`), 6, /material "nope" is not defined/],
    ["bad rgba", robot(`    <visual><geometry><sphere radius="1"/></geometry><material><color rgba="1 0 2 1"/></material></visual>`), 5, /four numbers in \[0, 1\]/],
    ["mesh without a file", robot(`    <visual><geometry><mesh filename="arm.stl"/></geometry></visual>`), 5, /not read from a file/],
    ["two shapes", robot(`    <visual><geometry><sphere radius="1"/><sphere radius="1"/></geometry></visual>`), 5, /exactly one shape/],
  ];
  for (const [what, xml, line, re] of cases) {
    assert.throws(
      () => parseUrdf(xml, "t.urdf"),
      (e: unknown) => e instanceof UrdfError && e.line === line && re.test(e.message),
      what,
    );
  }
});

/** One triangle (0,0,0) (1,0,0) (0,1,0), in the three file formats. */
function binaryStl(): Uint8Array {
  const b = Buffer.alloc(84 + 50);
  b.writeUInt32LE(1, 80);
  [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0].forEach((v, i) => b.writeFloatLE(v, 84 + i * 4));
  return b;
}
const ASCII_STL = "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n";
const OBJ = "# square\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n";

test("meshes next to the URDF: binary and ASCII STL, OBJ (fanned), scaled", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-mesh-"));
  writeFileSync(join(dir, "a.stl"), binaryStl());
  writeFileSync(join(dir, "b.stl"), ASCII_STL);
  writeFileSync(join(dir, "c.obj"), OBJ);
  writeFileSync(
    join(dir, "r.urdf"),
    robot(`    <visual><geometry><mesh filename="package://my_robot/meshes/a.stl" scale="2 2 2"/></geometry></visual>
    <visual><geometry><mesh filename="b.stl"/></geometry></visual>
    <visual><geometry><mesh filename="c.obj"/></geometry></visual>`),
  );
  const v = loadUrdf(join(dir, "r.urdf")).links[0]!.visuals!;
  assert.deepEqual(v[0]!.geometry, { kind: "mesh", file: "a.stl", triangles: [0, 0, 0, 2, 0, 0, 0, 2, 0] });
  assert.deepEqual(v[1]!.geometry, { kind: "mesh", file: "b.stl", triangles: [0, 0, 0, 1, 0, 0, 0, 1, 0] });
  assert.deepEqual((v[2]!.geometry as { triangles: number[] }).triangles, [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0]);

  writeFileSync(join(dir, "bad.obj"), "v 0 0 0\nf 1 2 3\n");
  writeFileSync(join(dir, "bad.urdf"), robot(`    <visual><geometry><mesh filename="bad.obj"/></geometry></visual>\n    <visual><geometry><mesh filename="gone.stl"/></geometry></visual>`));
  assert.throws(() => loadUrdf(join(dir, "bad.urdf")), /bad\.urdf:5: link "base": mesh "bad\.obj": OBJ line 2: face index "2" does not name a vertex/);
  writeFileSync(join(dir, "gone.urdf"), robot(`    <visual><geometry><mesh filename="gone.stl"/></geometry></visual>`));
  assert.throws(() => loadUrdf(join(dir, "gone.urdf")), /gone\.urdf:5: .*cannot read .*gone\.stl \(ENOENT\); mesh files must sit next to the URDF/);
});

test("the Furuta URDF has visuals for base, arm and pendulum", () => {
  const m = loadUrdf(projectPath("sim/robots/furuta/furuta.urdf"));
  for (const name of ["base", "arm", "pendulum"]) assert.ok((m.links.find((l) => l.name === name)!.visuals?.length ?? 0) > 0, name);
});
