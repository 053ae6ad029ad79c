import type { Command } from "../command.js";
import { probeRos2Transports, type TransportProbe } from "../../robot/ros2/open.js";
import { resolveDomainId } from "../../robot/ros2/domain.js";

interface DoctorReport {
  transports: TransportProbe[];
  /** What openRos2Transport() would use by default, or null when nothing is available. */
  selected: TransportProbe["name"] | null;
  domainId: number | null;
  /** Set when ROS_DOMAIN_ID is unusable. */
  domainError?: string;
  cycloneddsUri: string | null;
  rmwImplementation: string | null;
}

async function diagnose(): Promise<DoctorReport> {
  const transports = await probeRos2Transports();
  let domainId: number | null = null;
  let domainError: string | undefined;
  try {
    domainId = resolveDomainId(undefined);
  } catch (e) {
    domainError = (e as Error).message.replace(/^ros2: /, "");
  }
  return {
    transports,
    selected: transports.find((t) => t.available)?.name ?? null,
    domainId,
    ...(domainError ? { domainError } : {}),
    cycloneddsUri: process.env.CYCLONEDDS_URI ?? null,
    rmwImplementation: process.env.RMW_IMPLEMENTATION ?? null,
  };
}

function format(r: DoctorReport): string {
  const lines = ["ROS 2 transports (openRos2Transport tries rclnodejs first, then cyclone):"];
  for (const t of r.transports) {
    lines.push(`  ${t.name.padEnd(10)} ${t.available ? "available" : "NOT available"}: ${t.detail}`);
    if (!t.available && t.install) lines.push(`  ${"".padEnd(10)} to enable: ${t.install}`);
  }
  lines.push(r.selected ? `Would use: ${r.selected}` : "Would use: nothing; enable one of the transports above");
  lines.push(r.domainError ? `Domain: ${r.domainError}` : `Domain: ${r.domainId}${process.env.ROS_DOMAIN_ID ? " (ROS_DOMAIN_ID)" : " (ROS_DOMAIN_ID unset)"}`);
  if (r.cycloneddsUri) lines.push(`CYCLONEDDS_URI: ${r.cycloneddsUri}`);
  if (r.rmwImplementation && r.rmwImplementation !== "rmw_cyclonedds_cpp") {
    lines.push(`Note: RMW_IMPLEMENTATION=${r.rmwImplementation}; the cyclone transport talks to it over standard DDS, which works between vendors but is best tested with rmw_cyclonedds_cpp.`);
  }
  return lines.join("\n") + "\n";
}

export const command: Command = {
  spec: {
    name: "ros2 doctor",
    summary: "",
    options: {
      json: { kind: "boolean", description: "print the report as one JSON object" },
    },
    details:
      "Checks, without sending anything, which ROS 2 transport s2r can use here: rclnodejs (needs a sourced ROS 2 and the rclnodejs package) or the Cyclone DDS addon (needs Eclipse Cyclone DDS at build time), and says what to install for each one that is missing. Exit code 0 when at least one is available, 1 otherwise.",
  },
  async run(args, io) {
    const report = await diagnose();
    io.out(args.options.json ? JSON.stringify(report) + "\n" : format(report));
    return report.selected && !report.domainError ? 0 : 1;
  },
};
