/**
 * What system identification fits on the Furuta rig, in the rig page's
 * symbols (shared/rigs/furuta.md), and how each symbol maps onto the
 * simulator's parameter table (sim/params.ts). The fit works in physical
 * units; the table is what the simulator (and `s2r train`) consumes.
 *
 * Two symbols are not the identity on their table entry:
 * - Jr, the arm's inertia about the motor shaft, maps to `links.arm.mass`,
 *   which scales the arm link's mass and whole inertia tensor together, so
 *   Jr = Jr0 x mass / mass0 exactly. (`links.arm.inertia` would not do: it
 *   scales only the tensor about the centre of mass, a quarter of Jr in the
 *   URDF, so it can neither reach Jr below mr (Lr/2)^2 nor scale the arm
 *   like everything else. Scaling every mass, damping, friction and 1/Rm
 *   together must leave the simulated motion unchanged, as it does the real
 *   one; with the arm's mass left out, Rapier's joint solver makes that
 *   scale weakly "identifiable" from angles alone, which real data is not.)
 *   The mapping assumes the arm's `inertia`, `com` and `scale` entries at the
 *   values they had during the fit: they are listed in `pins`.
 * - Lp maps to `links.pendulum.scale`, the geometric scale of the rod:
 *   Lp = 2 |centre of mass| s for the nominal uniform rod.
 */
import { furutaConfigSchema, type FurutaConfig } from "../../sim/tasks/furuta/config.js";
import { furutaTask } from "../../sim/tasks/furuta/task.js";
import { setupTask, type TaskSetup } from "../../sim/env/sim-env.js";
import type { RobotModel } from "../../sim/urdf/model.js";

export const SYSID_SYMBOLS = ["Rm", "km", "Jr", "Dr", "Dp", "mp", "Lp", "Lr", "armFriction", "pendulumFriction", "deadZone", "latency"] as const;
export type SysidSymbol = (typeof SYSID_SYMBOLS)[number];

/**
 * How one symbol is searched. Positive quantities are optimized as
 * ln(value / nominal): relative errors are what matter and positivity is
 * automatic. Quantities whose nominal is 0 (friction, dead zone, latency) are
 * optimized linearly. `step` is one unit of the optimizer's coordinate (a
 * natural log step for "log", physical units for "linear"): about the size of
 * the prior uncertainty, so a single CMA-ES step size suits every coordinate.
 */
export interface SysidParamDef {
  symbol: SysidSymbol;
  /** Parameter table entry it sets. */
  target: string;
  unit: string;
  space: "log" | "linear";
  step: number;
  /** Physical bounds of the search. */
  lower: number;
  upper: number;
  /** Nominal physical value (the fit's starting point). */
  nominal: number;
  /**
   * For "linear" parameters: the magnitude below which a value counts as
   * "about zero" when judging identifiability (a standard deviation is
   * compared with max(|value|, this)).
   */
  significance: number;
  /** Other table entries the symbol -> target map reads; they must keep their fit-time values wherever the target is used. */
  pins: readonly string[];
}

export interface SysidRig {
  name: string;
  setup: TaskSetup<FurutaConfig>;
  params: readonly SysidParamDef[];
  def(symbol: string): SysidParamDef;
  /** Physical value -> table value, with the other entries as in `base` (default nominal). */
  toTable(symbol: SysidSymbol, value: number, base?: Float64Array): number;
  /** Table value -> physical value, with the other entries as in `base` (default nominal). */
  fromTable(symbol: SysidSymbol, tableValue: number, base?: Float64Array): number;
  /** A full table vector: nominal, with `overrides` (table names) applied. */
  tableVector(overrides?: Record<string, number>): Float64Array;
  /** Physical values read from a table vector. */
  symbolsOf(table: Float64Array): Record<SysidSymbol, number>;
}

/** Geometry the two non-trivial maps need, read from the nominal URDF. */
function armAndRod(model: RobotModel): { armMass: number; armIzz: number; armComSq: number; lp0: number } {
  const arm = model.links.find((l) => l.name === "arm")?.inertial;
  const rod = model.links.find((l) => l.name === "pendulum")?.inertial;
  if (!arm || !rod) throw new Error("sysid: the Furuta URDF needs links named arm and pendulum with inertials");
  const [x, y] = arm.origin.xyz;
  // The arm turns about the vertical axis through the motor shaft (the arm joint sits at the base origin).
  return { armMass: arm.mass, armIzz: arm.inertia.izz, armComSq: x * x + y * y, lp0: 2 * Math.hypot(...rod.origin.xyz) };
}

/** The Furuta rig's sysid description for a task config (default: the task's defaults). */
export function furutaSysidRig(config: FurutaConfig = furutaConfigSchema.defaults()): SysidRig {
  const setup = setupTask(furutaTask, config);
  const { table, model } = setup;
  const geo = armAndRod(model);
  const nominal = table.nominal();
  const at = (v: Float64Array, name: string) => v[table.indexOf(name)]!;
  const nominalOf = (name: string) => at(nominal, name);
  /** Jr per kg of arm mass, with the arm's shape entries as in `base` (see sim/model-params.ts). */
  const jrPerKg = (base: Float64Array) => {
    const k = at(base, "links.arm.inertia");
    const c = at(base, "links.arm.com");
    const s = at(base, "links.arm.scale");
    return (geo.armIzz * k * s * s + geo.armMass * geo.armComSq * c * c * s * s) / geo.armMass;
  };
  const log = (symbol: SysidSymbol, target: string, unit: string, nom: number, lowerFactor: number, upperFactor: number, pins: string[] = []): SysidParamDef => ({
    symbol,
    target,
    unit,
    space: "log",
    step: 0.1,
    lower: nom * lowerFactor,
    upper: nom * upperFactor,
    nominal: nom,
    significance: 0,
    pins,
  });
  const lin = (symbol: SysidSymbol, target: string, unit: string, step: number, upper: number, significance: number): SysidParamDef => ({
    symbol,
    target,
    unit,
    space: "linear",
    step,
    lower: 0,
    upper,
    nominal: nominalOf(target),
    significance,
    pins: [],
  });
  const params: SysidParamDef[] = [
    log("Rm", "actuators.arm.Rm", "ohm", nominalOf("actuators.arm.Rm"), 1 / 3, 3),
    log("km", "actuators.arm.km", "N m/A", nominalOf("actuators.arm.km"), 1 / 3, 3),
    log("Jr", "links.arm.mass", "kg m^2", nominalOf("links.arm.mass") * jrPerKg(nominal), 1 / 3, 3, ["links.arm.inertia", "links.arm.com", "links.arm.scale"]),
    log("Dr", "joints.arm_joint.damping", "N m s/rad", nominalOf("joints.arm_joint.damping"), 1 / 10, 10),
    log("Dp", "joints.pendulum_joint.damping", "N m s/rad", nominalOf("joints.pendulum_joint.damping"), 1 / 100, 10),
    log("mp", "links.pendulum.mass", "kg", nominalOf("links.pendulum.mass"), 1 / 3, 3),
    log("Lp", "links.pendulum.scale", "m", geo.lp0 * nominalOf("links.pendulum.scale"), 1 / 2, 2),
    log("Lr", "joints.pendulum_joint.origin", "m", nominalOf("joints.pendulum_joint.origin"), 1 / 2, 2),
    // Significance: a friction below ~1e-4 N m is less than the motor torque of one Goal PWM
    // step (12 V / 885 = 14 mV), a dead zone below 20 mV about one step, a latency below 1 ms a
    // tenth of the control period: smaller values are "about zero" for every purpose here.
    lin("armFriction", "joints.arm_joint.friction", "N m", 1e-3, 0.02, 1e-4),
    // The pendulum bearing's friction (the task draws up to 5e-5 N m) competes with Dp for the decay
    // of the swing; 5e-6 N m takes about one encoder count off a swing's amplitude per cycle
    // (4 friction / (mp g Lp / 2) = 1.3e-3 rad), a tenth of Dp's torque at 5 rad/s.
    lin("pendulumFriction", "joints.pendulum_joint.friction", "N m", 2e-5, 5e-4, 5e-6),
    lin("deadZone", "actuators.arm.deadZone", "V", 0.1, 1.5, 0.02),
    lin("latency", "actuators.arm.latency", "s", 3e-3, 0.03, 1e-3),
  ];
  const bySymbol = new Map(params.map((p) => [p.symbol as string, p]));
  const def = (symbol: string) => {
    const d = bySymbol.get(symbol);
    if (!d) throw new Error(`sysid: unknown parameter symbol ${JSON.stringify(symbol)}; known: ${SYSID_SYMBOLS.join(", ")}`);
    return d;
  };
  const toTable = (symbol: SysidSymbol, v: number, base: Float64Array = nominal): number => {
    if (!Number.isFinite(v)) throw new RangeError(`sysid: ${symbol} = ${v} is not a finite number`);
    if (symbol === "Jr") return v / jrPerKg(base);
    if (symbol === "Lp") return v / geo.lp0;
    return v;
  };
  const fromTable = (symbol: SysidSymbol, t: number, base: Float64Array = nominal): number => {
    if (symbol === "Jr") return t * jrPerKg(base);
    if (symbol === "Lp") return geo.lp0 * t;
    return t;
  };
  return {
    name: "furuta",
    setup,
    params,
    def,
    toTable,
    fromTable,
    tableVector(overrides = {}) {
      const v = table.nominal();
      for (const [name, x] of Object.entries(overrides)) {
        if (!Number.isFinite(x)) throw new RangeError(`sysid: parameter ${name} = ${x} is not a finite number`);
        v[table.indexOf(name)] = x;
      }
      return v;
    },
    symbolsOf(values) {
      const out = {} as Record<SysidSymbol, number>;
      for (const p of params) out[p.symbol] = fromTable(p.symbol, values[table.indexOf(p.target)]!, values);
      return out;
    },
  };
}

/** Table-name overrides for physical values given by symbol (other entries as in `base`, default nominal). */
export function symbolsToTargets(rig: SysidRig, values: Partial<Record<string, number>>, base?: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [symbol, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const d = rig.def(symbol);
    out[d.target] = rig.toTable(d.symbol, v, base);
  }
  return out;
}
