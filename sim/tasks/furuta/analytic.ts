/**
 * Analytic equations of motion of the Furuta pendulum, integrated with RK4: the
 * reference the Rapier simulation is checked against (no hard stops, no
 * friction, no latency: just the rigid-body dynamics and the motor).
 *
 * Derivation (Lagrangian), with s = sin(alpha), c = cos(alpha).
 *
 * Frames: z up. The arm turns by theta about z; its unit vectors are
 *   x_a = (cos theta, sin theta, 0) (outward), y_a = (-sin theta, cos theta, 0), z.
 * The pendulum turns by alpha about x_a; its unit direction from the pivot is
 *   u = s y_a - c z   (alpha = 0 hangs down, alpha = pi is upright).
 * Pendulum centre of mass: p = Lr x_a + l u, l = Lp/2 (uniform rod).
 * Using d(x_a)/dt = thetadot y_a, d(y_a)/dt = -thetadot x_a:
 *   pdot = -l s thetadot x_a + (Lr thetadot + l c alphadot) y_a + l s alphadot z
 *   |pdot|^2 = thetadot^2 (Lr^2 + l^2 s^2) + 2 Lr l c thetadot alphadot + l^2 alphadot^2.
 * Pendulum angular velocity: w = thetadot z + alphadot x_a. In its principal
 * axes {x_a, u, x_a × u = c y_a + s z}: components (alphadot, -c thetadot, s thetadot).
 * With Jc the perpendicular inertia about the centre of mass and Ia the axial one,
 * Jp = Jc + mp l^2 (perpendicular, about the pivot; mp Lp^2/3 for a thin rod):
 *   T = 1/2 Jr thetadot^2
 *     + 1/2 mp |pdot|^2 + 1/2 (Jc alphadot^2 + Ia c^2 thetadot^2 + Jc s^2 thetadot^2)
 *     = 1/2 M11 thetadot^2 + b c thetadot alphadot + 1/2 Jp alphadot^2
 *   M11 = Jr + mp Lr^2 + Jp s^2 + Ia c^2,   b = mp Lr l
 *   V = -mp g l c
 * Generalized forces: Q_theta = tau - Dr thetadot, Q_alpha = -Dp alphadot, with the
 * DC motor (no inductance) tau = km (V_in - km thetadot) / Rm.
 * Lagrange's equations d/dt(dT/dqdot) - dT/dq + dV/dq = Q give
 *   M11 thetaddot + b c alphaddot = tau - Dr thetadot - 2 (Jp - Ia) s c thetadot alphadot + b s alphadot^2
 *   b c thetaddot + Jp alphaddot  = -Dp alphadot + (Jp - Ia) s c thetadot^2 - mp g l s
 * solved as a 2x2 linear system (det = M11 Jp - b^2 c^2 > 0).
 */

export interface FurutaParams {
  /** Arm length, motor shaft to pendulum joint (m). */
  Lr: number;
  /** Arm mass (kg); only Jr enters the dynamics, kept for completeness. */
  mr: number;
  /** Arm inertia about the motor shaft, rotor and hub included (kg m²). */
  Jr: number;
  /** Arm viscous damping (N m s/rad). */
  Dr: number;
  /** Pendulum length, pivot to tip (m); the centre of mass is at Lp/2. */
  Lp: number;
  /** Pendulum mass (kg). */
  mp: number;
  /** Pendulum viscous damping (N m s/rad). */
  Dp: number;
  /** Motor terminal resistance (Ω). */
  Rm: number;
  /** Motor torque constant = back-EMF constant (N m/A = V s/rad). */
  km: number;
  /** Gravity (m/s²). */
  g: number;
  /** Pendulum inertia about its own long axis (kg m²); default 0 (thin rod). */
  Ia?: number;
  /** Pendulum inertia about the pivot, perpendicular to the rod (kg m²); default mp Lp²/3 (thin rod). */
  Jp?: number;
}

const ROD_RADIUS = 0.004;

/**
 * Nominal figures from shared/rigs/furuta.md, with the pendulum a solid rod of
 * 4 mm radius (Ia, Jp) exactly as in sim/robots/furuta/furuta.urdf.
 */
export const FURUTA_NOMINAL: Readonly<Required<FurutaParams>> = Object.freeze({
  Lr: 0.085,
  mr: 0.095,
  Jr: 2.3e-4,
  Dr: 5e-4,
  Lp: 0.129,
  mp: 0.024,
  Dp: 1e-5,
  Rm: 8.4,
  km: 0.042,
  g: 9.81,
  Ia: (0.024 * ROD_RADIUS ** 2) / 2,
  Jp: (0.024 * (3 * ROD_RADIUS ** 2 + 0.129 ** 2)) / 12 + 0.024 * (0.129 / 2) ** 2,
});

/** Motor torque on the arm (N m) at terminal voltage `volts` and arm speed `thetadot`. */
export function motorTorque(p: Pick<FurutaParams, "km" | "Rm">, volts: number, thetadot: number): number {
  return (p.km * (volts - p.km * thetadot)) / p.Rm;
}

/**
 * Time derivative of state [theta, alpha, thetadot, alphadot] at terminal
 * voltage `volts`, written into `out` (which may alias nothing else).
 */
export function furutaDerivatives(p: FurutaParams, state: ArrayLike<number>, volts: number, out: Float64Array | number[]): void {
  const thd = state[2]!;
  const ald = state[3]!;
  const s = Math.sin(state[1]!);
  const c = Math.cos(state[1]!);
  const l = p.Lp / 2;
  const Jp = p.Jp ?? (p.mp * p.Lp * p.Lp) / 3;
  const Ia = p.Ia ?? 0;
  const b = p.mp * p.Lr * l;
  const m11 = p.Jr + p.mp * p.Lr * p.Lr + Jp * s * s + Ia * c * c;
  const m12 = b * c;
  const tau = motorTorque(p, volts, thd);
  const rhs1 = tau - p.Dr * thd - 2 * (Jp - Ia) * s * c * thd * ald + b * s * ald * ald;
  const rhs2 = -p.Dp * ald + (Jp - Ia) * s * c * thd * thd - p.mp * p.g * l * s;
  const det = m11 * Jp - m12 * m12;
  out[0] = thd;
  out[1] = ald;
  out[2] = (Jp * rhs1 - m12 * rhs2) / det;
  out[3] = (m11 * rhs2 - m12 * rhs1) / det;
}

export interface FurutaTrace {
  t: number[];
  theta: number[];
  alpha: number[];
  thetadot: number[];
  alphadot: number[];
}

export interface IntegrateOptions {
  /** Largest RK4 step (s); the step used divides dtOut exactly. Default 1e-4. */
  maxStep?: number;
}

/**
 * Integrates from `init` = [theta, alpha, thetadot, alphadot] for `duration`
 * seconds with classic RK4, sampling every `dtOut` (first sample at t = 0).
 * `volts` is a constant or a function of time (evaluated at the RK4 stages).
 */
export function integrateFuruta(
  p: FurutaParams,
  init: ArrayLike<number>,
  volts: number | ((t: number) => number),
  duration: number,
  dtOut: number,
  options: IntegrateOptions = {},
): FurutaTrace {
  if (!(duration >= 0 && Number.isFinite(duration))) throw new RangeError(`integrateFuruta: duration must be >= 0, got ${duration}`);
  if (!(dtOut > 0 && Number.isFinite(dtOut))) throw new RangeError(`integrateFuruta: dtOut must be > 0, got ${dtOut}`);
  if (init.length !== 4) throw new RangeError(`integrateFuruta: init must be [theta, alpha, thetadot, alphadot], got ${init.length} values`);
  const maxStep = options.maxStep ?? 1e-4;
  if (!(maxStep > 0)) throw new RangeError(`integrateFuruta: maxStep must be > 0, got ${maxStep}`);
  const v = typeof volts === "number" ? () => volts : volts;
  const sub = Math.max(1, Math.ceil(dtOut / maxStep - 1e-9));
  const h = dtOut / sub;
  const samples = Math.floor(duration / dtOut + 1e-9);

  const x = Float64Array.from(init as ArrayLike<number>);
  const k1 = new Float64Array(4), k2 = new Float64Array(4), k3 = new Float64Array(4), k4 = new Float64Array(4);
  const tmp = new Float64Array(4);
  const trace: FurutaTrace = { t: [], theta: [], alpha: [], thetadot: [], alphadot: [] };
  const record = (t: number) => {
    trace.t.push(t);
    trace.theta.push(x[0]!);
    trace.alpha.push(x[1]!);
    trace.thetadot.push(x[2]!);
    trace.alphadot.push(x[3]!);
  };
  record(0);
  for (let n = 0; n < samples; n++) {
    for (let k = 0; k < sub; k++) {
      const t = n * dtOut + k * h;
      furutaDerivatives(p, x, v(t), k1);
      for (let i = 0; i < 4; i++) tmp[i] = x[i]! + (h / 2) * k1[i]!;
      furutaDerivatives(p, tmp, v(t + h / 2), k2);
      for (let i = 0; i < 4; i++) tmp[i] = x[i]! + (h / 2) * k2[i]!;
      furutaDerivatives(p, tmp, v(t + h / 2), k3);
      for (let i = 0; i < 4; i++) tmp[i] = x[i]! + h * k3[i]!;
      furutaDerivatives(p, tmp, v(t + h), k4);
      for (let i = 0; i < 4; i++) x[i] = x[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
    }
    record((n + 1) * dtOut);
  }
  return trace;
}
