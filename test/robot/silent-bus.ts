/** Test hardware whose bus falls silent at chosen reads (a starved kernel thread, a USB adapter stall). */
import type { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { BusSilenceError, type HardwareInterface, type ReadOptions } from "../../robot/hardware/interface.js";

/** `hw` whose reads number `reads` (0-based, counted over the session) throw BusSilenceError; counts activations and reads. */
export function silentAt(hw: SimHardware, reads: number[]): HardwareInterface & { activations: number; reads: number } {
  const w = {
    activations: 0,
    reads: 0,
    name: hw.name,
    jointNames: hw.jointNames,
    commandNames: hw.commandNames,
    commandUnit: hw.commandUnit,
    effortUnit: hw.effortUnit,
    async activate() {
      w.activations++;
      return hw.activate();
    },
    async read(_o?: ReadOptions) {
      if (reads.includes(w.reads++)) throw new BusSilenceError("furuta: read: Sync Read to ID 1: no status packet after 10.1 ms (attempt 7 of 7)");
      return hw.read();
    },
    write: (c: ArrayLike<number>) => hw.write(c),
    deactivate: () => hw.deactivate(),
    close: () => hw.close(),
  };
  return w;
}
