/**
 * Waiting for discovery. With volatile durability a message published before
 * the other side is matched is simply not delivered, so a caller that must
 * not lose the first messages waits for a match first.
 */
export async function waitForMatch(endpoint: { topic: string; matchedCount(): number }, opts: { count?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const want = opts.count ?? 1;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const t0 = performance.now();
  while (endpoint.matchedCount() < want) {
    if (opts.signal?.aborted) throw new Error(`ros2: waiting for a match on ${endpoint.topic} was aborted`);
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`ros2: ${endpoint.topic}: ${endpoint.matchedCount()} of ${want} remote endpoint(s) matched after ${timeoutMs} ms (is the other side running on the same ROS_DOMAIN_ID, with compatible QoS?)`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
