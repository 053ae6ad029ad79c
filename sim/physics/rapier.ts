/**
 * Loads the Rapier physics engine (WebAssembly, float32 build) once per process.
 */
import RAPIER from "@dimforge/rapier3d-simd-compat";

export type Rapier = typeof RAPIER;

let ready: Promise<Rapier> | undefined;
let loaded: Rapier | undefined;

export async function loadRapier(): Promise<Rapier> {
  ready ??= RAPIER.init().then(() => (loaded = RAPIER));
  return ready;
}

/** The engine if `loadRapier()` has finished, for synchronous constructors; throws otherwise. */
export function rapierIfLoaded(): Rapier {
  if (!loaded) throw new Error("Rapier is not loaded yet: await loadRapier() (or use the async create()) before constructing a simulation");
  return loaded;
}
