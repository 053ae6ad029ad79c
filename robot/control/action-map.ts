/**
 * From a policy's action output to actuator commands, exactly as training
 * applied it (sim/env/contract.ts): clip each element to the manifest's
 * [low, high], multiply by its scale. The clipped action is what the next
 * observation's previous-action terms see, as in the simulator.
 */
import type { Manifest } from "../../policies/manifest.js";

export interface ActionElementSpec {
  name: string;
  unit: string;
  low: number;
  high: number;
  scale: number;
}

export class ActionMap {
  readonly size: number;

  constructor(readonly elements: readonly ActionElementSpec[]) {
    this.size = elements.length;
    elements.forEach((e, i) => {
      if (!(e.low < e.high)) throw new RangeError(`action[${i}] (${e.name}): low ${e.low} must be below high ${e.high}`);
      if (!Number.isFinite(e.scale) || e.scale === 0) throw new RangeError(`action[${i}] (${e.name}): scale must be a non-zero number, got ${e.scale}`);
    });
  }

  static fromManifest(m: Manifest): ActionMap {
    return new ActionMap(m.action.map((a) => ({ name: a.name, unit: a.unit, low: a.low, high: a.high, scale: a.scale })));
  }

  /**
   * Writes the clipped action and the command. Returns the index of the first
   * non-finite action element (nothing is written past it), or -1.
   */
  apply(action: ArrayLike<number>, clipped: Float32Array | Float64Array, command: Float64Array): number {
    for (let i = 0; i < this.size; i++) {
      const a = action[i]!;
      if (!Number.isFinite(a)) return i;
      const e = this.elements[i]!;
      const c = a < e.low ? e.low : a > e.high ? e.high : a;
      clipped[i] = c;
      command[i] = c * e.scale;
    }
    return -1;
  }
}
