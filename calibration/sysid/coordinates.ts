/**
 * Coordinates for a chosen set of rig symbols, in two flavours.
 *
 * Report coordinates y, one per symbol: ln(value / nominal) / step for
 * positive quantities, (value - nominal) / step for those whose nominal is
 * zero; one unit is about the prior uncertainty. Standard deviations and
 * identifiability are judged in these.
 *
 * Search coordinates x, what CMA-ES and Levenberg-Marquardt move: the same,
 * except that the arm damping's coordinate is the arm's total viscous damping
 * Dr + km^2/Rm (what the motion of the arm actually sees: the bearing plus
 * the motor's back-EMF). The directions the data can least tell apart
 * (scaling every mass, damping and 1/Rm together; trading km against Dr) are
 * then straight lines in x instead of curved valleys, along which
 * Levenberg-Marquardt would otherwise crawl a percent per iteration.
 */
import { solveSpd } from "./linalg.js";
import { SYSID_SYMBOLS, type SysidParamDef, type SysidRig } from "./rig.js";

export class SysidCoordinates {
  readonly defs: readonly SysidParamDef[];
  /** Box bounds in search coordinates. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  private readonly targetIndex: Int32Array;
  /** Index of Dr, km, Rm among the fitted symbols (-1 when not fitted). */
  private readonly iDr: number;
  private readonly iKm: number;
  private readonly iRm: number;
  /** km and Rm when they are not fitted (from the base vector). */
  private readonly baseKm: number;
  private readonly baseRm: number;
  /** Nominal total arm damping, the origin of Dr's search coordinate. */
  private readonly dTot0: number;

  constructor(
    readonly rig: SysidRig,
    symbols: readonly string[],
    /** Table vector the fitted entries are written over (nominal plus fixed overrides). */
    readonly base: Float64Array,
  ) {
    const seen = new Set<string>();
    this.defs = symbols.map((s) => {
      if (seen.has(s)) throw new Error(`sysid: parameter ${s} is listed twice in "fit"`);
      seen.add(s);
      if (!(SYSID_SYMBOLS as readonly string[]).includes(s)) throw new Error(`sysid: unknown parameter symbol ${JSON.stringify(s)} in "fit"; known: ${SYSID_SYMBOLS.join(", ")}`);
      return rig.def(s);
    });
    if (this.defs.length === 0) throw new Error('sysid: "fit" lists no parameters');
    this.targetIndex = Int32Array.from(this.defs, (d) => rig.setup.table.indexOf(d.target));
    const nominal = rig.setup.table.nominal();
    this.targetIndex.forEach((ti, i) => {
      if (base[ti] !== nominal[ti]) throw new Error(`sysid: ${this.defs[i]!.target} is both held fixed and fitted (as ${this.defs[i]!.symbol})`);
    });
    const at = (name: string) => base[rig.setup.table.indexOf(name)]!;
    this.iDr = this.indexOf("Dr");
    this.iKm = this.indexOf("km");
    this.iRm = this.indexOf("Rm");
    this.baseKm = at(rig.def("km").target);
    this.baseRm = at(rig.def("Rm").target);
    this.dTot0 = rig.def("Dr").nominal + (rig.def("km").nominal ** 2) / rig.def("Rm").nominal;
    this.lower = Float64Array.from(this.defs, (d, i) => (i === this.iDr ? Math.log(0.1) / d.step : this.toReport(d, d.lower)));
    this.upper = Float64Array.from(this.defs, (d, i) => (i === this.iDr ? Math.log(10) / d.step : this.toReport(d, d.upper)));
  }

  get size(): number {
    return this.defs.length;
  }

  indexOf(symbol: string): number {
    return this.defs.findIndex((d) => d.symbol === symbol);
  }

  /** Physical values by symbol at search coordinates x. */
  physical(x: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    this.defs.forEach((d, i) => (out[d.symbol] = this.fromReport(d, x[i]!)));
    if (this.iDr >= 0) {
      const d = this.defs[this.iDr]!;
      const total = this.dTot0 * Math.exp(x[this.iDr]! * d.step);
      // The bearing's share cannot go below the search bound, whatever the motor takes.
      out.Dr = Math.max(total - this.backEmf(out), d.lower);
    }
    return out;
  }

  /** Search coordinates of physical values (every fitted symbol must be present). */
  fromPhysical(values: Record<string, number>): Float64Array {
    return Float64Array.from(this.defs, (d, i) => {
      const v = values[d.symbol];
      if (v === undefined) throw new Error(`sysid: no value for ${d.symbol}`);
      if (i === this.iDr) return Math.log((v + this.backEmf(values)) / this.dTot0) / d.step;
      return this.toReport(d, v);
    });
  }

  /** Report coordinates y of physical values. */
  report(values: Record<string, number>): Float64Array {
    return Float64Array.from(this.defs, (d) => this.toReport(d, values[d.symbol]!));
  }

  /** dy/dx at x (P x P, row-major), by central differences of the exact map. */
  reportJacobian(x: ArrayLike<number>): Float64Array {
    const P = this.size;
    const G = new Float64Array(P * P);
    const h = 1e-6;
    const xt = Float64Array.from(x);
    for (let j = 0; j < P; j++) {
      xt[j] = x[j]! + h;
      const up = this.report(this.physical(xt));
      xt[j] = x[j]! - h;
      const down = this.report(this.physical(xt));
      xt[j] = x[j]!;
      for (let i = 0; i < P; i++) G[i * P + j] = (up[i]! - down[i]!) / (2 * h);
    }
    return G;
  }

  /**
   * An information matrix in search coordinates expressed in report
   * coordinates: I_y = G^-T I_x G^-1 with G = dy/dx. Undefined when G is
   * singular (Dr clamped at its bound).
   */
  informationInReport(x: ArrayLike<number>, infoX: Float64Array): Float64Array | undefined {
    const P = this.size;
    const G = this.reportJacobian(x);
    // Columns of G^-1 solve G z = e_j; G is not symmetric, so solve through G'G (small, well conditioned here).
    const GtG = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) GtG[i * P + j]! += G[k * P + i]! * G[k * P + j]!;
    const Ginv = new Float64Array(P * P);
    for (let j = 0; j < P; j++) {
      const rhs = Float64Array.from({ length: P }, (_, i) => G[j * P + i]!); // G' e_j
      const z = solveSpd(GtG, rhs, P);
      if (!z) return undefined;
      for (let i = 0; i < P; i++) Ginv[i * P + j] = z[i]!;
    }
    // I_y = Ginv' I_x Ginv.
    const T = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) T[i * P + j]! += infoX[i * P + k]! * Ginv[k * P + j]!;
    const out = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) out[i * P + j]! += Ginv[k * P + i]! * T[k * P + j]!;
    return out;
  }

  /** The search-coordinate step G^-1 dy that moves the report coordinates by dy at x (undefined where G is singular). */
  searchStep(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array | undefined {
    const P = this.size;
    const G = this.reportJacobian(x);
    const GtG = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (let k = 0; k < P; k++) GtG[i * P + j]! += G[k * P + i]! * G[k * P + j]!;
    const rhs = new Float64Array(P);
    for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) rhs[i]! += G[k * P + i]! * dy[k]!;
    return solveSpd(GtG, rhs, P);
  }

  /** The simulator's parameter vector at search coordinates x. */
  table(x: ArrayLike<number>): Float64Array {
    const v = Float64Array.from(this.base);
    const values = this.physical(x);
    this.defs.forEach((d, i) => (v[this.targetIndex[i]!] = this.rig.toTable(d.symbol, values[d.symbol]!, this.base)));
    return v;
  }

  private backEmf(values: Record<string, number>): number {
    const km = this.iKm >= 0 ? values.km! : this.baseKm;
    const Rm = this.iRm >= 0 ? values.Rm! : this.baseRm;
    return (km * km) / Rm;
  }

  private toReport(d: SysidParamDef, value: number): number {
    return d.space === "log" ? Math.log(value / d.nominal) / d.step : (value - d.nominal) / d.step;
  }

  private fromReport(d: SysidParamDef, y: number): number {
    return d.space === "log" ? d.nominal * Math.exp(y * d.step) : d.nominal + y * d.step;
  }
}
