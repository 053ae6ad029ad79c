/**
 * The SafetyLayer configuration of a rig: its command limits and hard-stop
 * guards, with joint and actuator names turned into indices of the hardware's
 * joint and command order.
 */
import { SafetyLayer, type SafetyConfig } from "../safety.js";
import type { RigConfig } from "../rigs/rig-config.js";

export function rigSafetyConfig(rig: RigConfig, jointOrder: readonly string[], commandOrder: readonly string[]): SafetyConfig {
  const index = (list: readonly string[], name: string, what: string) => {
    const i = list.indexOf(name);
    if (i < 0) throw new Error(`rig ${rig.name}: safety refers to ${what} ${JSON.stringify(name)}, which the hardware does not have (it has ${list.join(", ")})`);
    return i;
  };
  return {
    commandLimits: commandOrder.map((a) => {
      const lim = rig.safety.commandLimits[a];
      if (lim === undefined) throw new Error(`rig ${rig.name}: no command limit for actuator ${JSON.stringify(a)}`);
      return lim;
    }),
    guards: rig.safety.guards.map((g) => ({
      joint: index(jointOrder, g.joint, "joint"),
      actuator: index(commandOrder, g.actuator, "actuator"),
      lower: g.lower,
      upper: g.upper,
      softZone: g.softZone,
      margin: g.margin,
      brakingDecel: g.brakingDecel,
      direction: g.direction,
    })),
  };
}

export function rigSafetyLayer(rig: RigConfig, jointOrder: readonly string[], commandOrder: readonly string[]): SafetyLayer {
  return new SafetyLayer(rigSafetyConfig(rig, jointOrder, commandOrder));
}

/**
 * Refuses to move a rig whose guarded joints read beyond their stops (by more
 * than the rig's sanity margin): the calibration is wrong, and the guard
 * would protect the wrong positions. Returns the problem, or undefined.
 */
export function implausiblePositions(rig: RigConfig, jointOrder: readonly string[], position: ArrayLike<number>): string | undefined {
  const m = rig.safety.positionSanityMargin;
  for (const g of rig.safety.guards) {
    const q = position[jointOrder.indexOf(g.joint)]!;
    if (!(q >= g.lower - m && q <= g.upper + m)) {
      return `${g.joint} reads ${q.toFixed(3)} rad, beyond its hard stops [${g.lower}, ${g.upper}] rad: the calibration does not match this rig (re-run s2r calibrate, or check --calibration)`;
    }
  }
  return undefined;
}
