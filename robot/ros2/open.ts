/**
 * Opening ROS 2: rclnodejs when a ROS 2 environment is sourced and rclnodejs
 * loads, else the Cyclone DDS addon, else an error that says, per transport,
 * why it is unavailable and what to install.
 */
import { openCycloneTransport } from "./cyclone/transport.js";
import { loadCycloneAddon, readNativeStatus } from "./cyclone/native.js";
import { importRclnodejs, openRclnodejsTransport, RCLNODEJS_INSTALL_HINT, RCLNODEJS_PACKAGE_HINT, ros2Sourced } from "./rclnodejs/transport.js";
import type { Ros2Transport, TransportName } from "./transport.js";

export interface OpenRos2Options {
  /** Tried first; the other transport is the fallback. Default: rclnodejs (it is a full ROS node). */
  prefer?: TransportName;
  /** Default: ROS_DOMAIN_ID, else 0. */
  domainId?: number;
}

export async function openRos2Transport(opts: OpenRos2Options = {}): Promise<Ros2Transport> {
  if (opts.prefer !== undefined && opts.prefer !== "rclnodejs" && opts.prefer !== "cyclone") {
    throw new Error(`ros2: prefer must be "rclnodejs" or "cyclone", got ${JSON.stringify(opts.prefer)}`);
  }
  const order: TransportName[] = opts.prefer === "cyclone" ? ["cyclone", "rclnodejs"] : ["rclnodejs", "cyclone"];
  const failures: string[] = [];
  for (const name of order) {
    try {
      return name === "cyclone" ? openCycloneTransport({ domainId: opts.domainId }) : await openRclnodejsTransport({ domainId: opts.domainId });
    } catch (e) {
      failures.push(`  ${name}: ${(e as Error).message.replace(/^ros2: /, "")}`);
    }
  }
  throw new Error(`ros2: no ROS 2 transport is available:\n${failures.join("\n")}\n(\`s2r ros2 doctor\` shows the details)`);
}

export interface TransportProbe {
  name: TransportName;
  available: boolean;
  /** Version or location when available; the reason when not. */
  detail: string;
  /** What to install or run when not available. */
  install?: string;
}

/** Checks each transport without opening it (no DDS traffic). */
export async function probeRos2Transports(): Promise<TransportProbe[]> {
  return [await probeRclnodejs(), probeCyclone()];
}

async function probeRclnodejs(): Promise<TransportProbe> {
  if (!ros2Sourced()) {
    return { name: "rclnodejs", available: false, detail: "no ROS 2 environment is sourced (ROS_DISTRO / AMENT_PREFIX_PATH unset)", install: RCLNODEJS_INSTALL_HINT };
  }
  try {
    await importRclnodejs();
    return { name: "rclnodejs", available: true, detail: `rclnodejs loads; ROS_DISTRO=${process.env.ROS_DISTRO ?? "(unset)"}` };
  } catch (e) {
    return { name: "rclnodejs", available: false, detail: (e as Error).message.replace(/^ros2: /, "").split(";")[0]!, install: RCLNODEJS_PACKAGE_HINT };
  }
}

function probeCyclone(): TransportProbe {
  const load = loadCycloneAddon();
  if (!load.ok) return { name: "cyclone", available: false, detail: load.reason, install: load.install };
  const status = readNativeStatus();
  return { name: "cyclone", available: true, detail: `Cyclone DDS ${load.version}; addon ${status?.addon ?? load.path}${status?.peer ? `; test peer ${status.peer}` : ""}` };
}
