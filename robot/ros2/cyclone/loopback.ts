/**
 * Cyclone DDS confined to this machine, for tests and benchmarks: only the
 * loopback interface, unicast discovery of the other participants on
 * localhost (loopback has no multicast), and a domain id of its own so
 * concurrent runs (and real robots on the network) never see each other.
 */

/** Inline configuration for CYCLONEDDS_URI (Cyclone accepts XML there as well as file URIs). */
export const LOOPBACK_CYCLONE_CONFIG = [
  "<CycloneDDS><Domain Id='any'>",
  "<General><Interfaces><NetworkInterface name='lo'/></Interfaces><AllowMulticast>false</AllowMulticast></General>",
  // Participant indices make the unicast ports predictable, so localhost peers are found without multicast.
  "<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>20</MaxAutoParticipantIndex><Peers><Peer Address='127.0.0.1'/></Peers></Discovery>",
  "</Domain></CycloneDDS>",
].join("");

/**
 * A domain id in 1..101: free of ROS's default 0 and below the range whose
 * ports collide with Linux's ephemeral ports.
 */
export function randomLoopbackDomainId(): number {
  return 1 + Math.floor(Math.random() * 101);
}

/**
 * Sets CYCLONEDDS_URI for this process (and children that inherit it). Cyclone
 * reads it when the first participant of a domain is created, so call this
 * before opening the transport.
 */
export function useLoopbackCyclone(env: NodeJS.ProcessEnv = process.env): void {
  env.CYCLONEDDS_URI = LOOPBACK_CYCLONE_CONFIG;
}
