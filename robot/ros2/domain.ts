/**
 * The DDS domain: ROS_DOMAIN_ID, as ROS 2 reads it (unset or empty = 0).
 * Cyclone accepts 0..232 (above that the UDP port numbers overflow).
 */
export const MAX_DOMAIN_ID = 232;

export function resolveDomainId(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) return checkDomainId(explicit, "domainId");
  const raw = env.ROS_DOMAIN_ID;
  if (raw === undefined || raw.trim() === "") return 0;
  return checkDomainId(Number(raw), `ROS_DOMAIN_ID=${JSON.stringify(raw)}`);
}

function checkDomainId(id: number, source: string): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_DOMAIN_ID) {
    throw new Error(`ros2: ${source} is not a valid domain id; expected an integer in [0, ${MAX_DOMAIN_ID}]`);
  }
  return id;
}
