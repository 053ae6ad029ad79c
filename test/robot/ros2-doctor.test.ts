import { test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../launch/cli.js";
import type { CommandIO } from "../../launch/command.js";
import { loadCycloneAddon } from "../../robot/ros2/cyclone/native.js";

function capture(): CommandIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Runs with ROS 2 unsourced, whatever the calling shell has. */
async function withoutRos<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { ROS_DISTRO: process.env.ROS_DISTRO, AMENT_PREFIX_PATH: process.env.AMENT_PREFIX_PATH, ROS_DOMAIN_ID: process.env.ROS_DOMAIN_ID };
  delete process.env.ROS_DISTRO;
  delete process.env.AMENT_PREFIX_PATH;
  delete process.env.ROS_DOMAIN_ID;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}

test("ros2 doctor --json reports each transport, why it is unavailable and what to install", async () => {
  const io = capture();
  const code = await withoutRos(() => main(["ros2", "doctor", "--json"], io));
  const report = JSON.parse(io.stdout()) as {
    transports: { name: string; available: boolean; detail: string; install?: string }[];
    selected: string | null;
    domainId: number;
  };
  assert.deepEqual(report.transports.map((t) => t.name), ["rclnodejs", "cyclone"]);
  const [rcl, cyclone] = report.transports;
  assert.equal(rcl!.available, false);
  assert.match(rcl!.install!, /source \/opt\/ros\/humble\/setup\.bash/);
  const addon = loadCycloneAddon();
  assert.equal(cyclone!.available, addon.ok);
  if (addon.ok) {
    assert.match(cyclone!.detail, new RegExp(`Cyclone DDS ${addon.version.replace(/\./g, "\\.")}`));
    assert.equal(report.selected, "cyclone");
    assert.equal(code, 0);
  } else {
    assert.match(cyclone!.install!, /cyclonedds-dev cyclonedds-tools|build-native/);
    assert.equal(report.selected, null);
    assert.equal(code, 1);
  }
  assert.equal(report.domainId, 0);
});

test("ros2 doctor prints a readable report and flags a bad ROS_DOMAIN_ID", async () => {
  const io = capture();
  await withoutRos(async () => {
    process.env.ROS_DOMAIN_ID = "300";
    try {
      const code = await main(["ros2", "doctor"], io);
      assert.equal(code, 1, "an unusable domain id is a failure");
    } finally {
      delete process.env.ROS_DOMAIN_ID;
    }
  });
  const text = io.stdout();
  assert.match(text, /^ {2}rclnodejs +NOT available: no ROS 2 environment is sourced/m);
  assert.match(text, /to enable: source \/opt\/ros\/humble\/setup\.bash/);
  assert.match(text, /^ {2}cyclone +(available|NOT available)/m);
  assert.match(text, /Domain: ROS_DOMAIN_ID="300" is not a valid domain id/);
});
