/**
 * Keeping the policy warm for the control loop. A loop thread sleeps through
 * most of its period (the timer's wait, then the bus round trip); when it
 * wakes, the policy's weights and code have left the caches and a step costs
 * several times what it does back to back (`s2r bench policy` measures both).
 * So a policy with warm() (a throw-away step that leaves its state and
 * outputs as they were) is run just before each tick, in time the loop would
 * otherwise spin. It is not counted as inference: a warm-up that runs long
 * shows as wake-up lateness (jitter), and a late write is still a miss.
 * (Warming again while the bus read waits for its reply, measured with
 * `s2r deploy` against `s2r emulate`, did not lower the inference time.)
 */

import { PeriodicTimer } from "../timing.js";

export interface WarmablePolicy {
  warm(): void;
}

/** A PeriodicTimer that warms the policy just before each tick. */
export function warmingTimer(periodSec: number, policy: WarmablePolicy): PeriodicTimer {
  return new PeriodicTimer(periodSec, { beforeTick: () => policy.warm() });
}
