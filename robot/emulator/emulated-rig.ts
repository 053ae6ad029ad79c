/**
 * A rig's Dynamixel devices coupled to the project's own simulator, in real
 * time: what `s2r emulate` serves. Each device is a VirtualDevice with the
 * rig's control table; the motors' Goal PWM drives the RobotPlant's actuators
 * (volts = PWM / full scale × supply, then the plant's latency, dead zone,
 * friction) and every device's present registers come from the plant:
 *
 *   Present Position = zero count + round(angle / count), multi-turn, with the
 *                      encoder noise of the parameter table;
 *   Present Velocity = angular velocity in 0.229 rev/min units;
 *   Present Current  = (V_eff - km θ̇) / Rm in 2.69 mA units (0 with torque off);
 *
 * plus an overload trip from a thermal I²t model (Hardware Error Status bit
 * 5, torque off, alert until Reboot), the Bus Watchdog and the EEPROM lock
 * (both from VirtualDevice). Torque off disconnects the motor (the arm
 * coasts); a tripped watchdog holds 0 V with torque on (the motor brakes).
 *
 * Time is the owner's: call advanceTo(now) whenever you can (each event-loop
 * turn) and receive() before answering; the plant catches up by however many
 * physics steps real time has moved, so no precise timer is needed.
 */

import { Rng } from "../../common/rng.js";
import type { TaskSetup } from "../../sim/env/sim-env.js";
import { RobotPlant } from "../../sim/plant.js";
import type { TaskConfigBase } from "../../sim/tasks/task.js";
import { VirtualBus } from "../dynamixel/virtual-bus.js";
import { VirtualDevice } from "../dynamixel/virtual-device.js";
import { ActuatorState } from "../hardware/actuator-state.js";
import { controlTableFor } from "../rigs/dynamixel-rig.js";
import type { RigConfig, RigDevice } from "../rigs/rig-config.js";
import { RigUnits } from "../rigs/units.js";
import type { EmulatorParams } from "./emulator-params.js";
import { DEFAULT_THERMAL_OVERLOAD, ThermalOverload, type ThermalOverloadOptions } from "./thermal-overload.js";
import { RealTimeSteps } from "./real-time-steps.js";

export interface EmulatedRigOptions {
  rig: RigConfig;
  /** The rig's task (its robot config, URDF and parameter table). */
  setup: TaskSetup<TaskConfigBase>;
  params: EmulatorParams;
  /** Seed of the encoder noise. Default 0. */
  seed?: number;
  overload?: ThermalOverloadOptions;
  /** Initial joint positions by name (others 0), at rest. */
  initial?: Record<string, number>;
  /**
   * At most this many physics steps are run to catch up at once; a longer
   * stall is skipped, not replayed, so an answer is never held up by a long
   * replay (the host would time out). Default 50 (50 ms at 1 ms steps).
   */
  maxCatchUpSteps?: number;
  /** Physics step, s. Default 1 ms (see EMULATOR_PHYSICS_DT). */
  physicsDt?: number;
}

/**
 * The emulator's physics step. Training may take longer steps (the task's
 * physicsDt), but here a step is also the time resolution of the bus: a
 * command acts from the step boundary before it arrived and a reading shows
 * the state at the last boundary. 1 ms keeps that error below the latency
 * of the rig itself; the solver substep is the task's, so the integration is
 * as accurate as in training.
 */
export const EMULATOR_PHYSICS_DT = 0.001;

export interface EmulatorStats {
  physicsSteps: number;
  /** Physics steps dropped because the process stalled (simulated time then lags real time). */
  skippedSteps: number;
  overloadTrips: number;
  watchdogTrips: number;
}

/** Baud Rate register codes of the X series. */
const BAUD_CODES: Record<number, number> = { 9600: 0, 57600: 1, 115200: 2, 1_000_000: 3, 2_000_000: 4, 3_000_000: 5, 4_000_000: 6, 4_500_000: 7 };

interface DeviceSlot {
  config: RigDevice;
  device: VirtualDevice;
  /** Plant DOF of the device's joint. */
  dof: number;
  /** Index of the sensor parameters (countsPerRev, offset, noise) in the table, or -1. */
  sensorOffset: number;
  /** For motors: index in the robot config's actuators; else -1. */
  actuator: number;
  overload?: ThermalOverload;
}

export class EmulatedRig {
  readonly bus: VirtualBus;
  private readonly torqueListeners: ((joint: string, on: boolean) => void)[] = [];
  private readonly watchdogListeners: ((joint: string) => void)[] = [];
  readonly stats: EmulatorStats = { physicsSteps: 0, skippedSteps: 0, overloadTrips: 0, watchdogTrips: 0 };

  private readonly slots: DeviceSlot[];
  private readonly units: RigUnits;
  private readonly actuators: ActuatorState;
  private readonly effective: Float64Array;
  private readonly enabled: boolean[];
  private readonly volts: Float64Array;
  private readonly rng: Rng;
  private readonly dt: number;
  private readonly clock: RealTimeSteps;

  private constructor(
    readonly plant: RobotPlant,
    readonly options: EmulatedRigOptions,
  ) {
    const { rig, setup, params } = options;
    const robot = setup.config.robot;
    this.units = RigUnits.of(rig);
    this.actuators = new ActuatorState(setup.table, robot.actuators);
    this.effective = new Float64Array(params.values.length);
    this.enabled = robot.actuators.map(() => false);
    this.volts = new Float64Array(robot.actuators.length);
    this.rng = Rng.derive(options.seed ?? 0, 13);
    this.dt = plant.physicsDt;
    this.clock = new RealTimeSteps(this.dt * 1000, options.maxCatchUpSteps ?? 50);
    this.slots = rig.devices.map((d) => {
      const dof = plant.dofNames.indexOf(d.joint);
      if (dof < 0) throw new Error(`emulator: rig ${rig.name} device ID ${d.id} reads joint ${d.joint}, which robot ${robot.name} does not have (${plant.dofNames.join(", ")})`);
      const sensor = robot.sensors.find((s) => s.joint === d.joint);
      const actuator = d.role === "motor" ? robot.actuators.findIndex((a) => a.name === d.actuator) : -1;
      if (d.role === "motor") {
        if (actuator < 0) throw new Error(`emulator: rig ${rig.name} device ID ${d.id} drives actuator ${d.actuator}, which robot ${robot.name} does not have`);
        if (robot.actuators[actuator]!.kind !== "dc_motor") throw new Error(`emulator: actuator ${d.actuator} is a ${robot.actuators[actuator]!.kind}; a PWM-mode Dynamixel drives a dc_motor`);
      }
      const baud = BAUD_CODES[rig.bus.baudRate];
      if (baud === undefined) throw new Error(`emulator: ${rig.bus.baudRate} baud is not a Dynamixel X-series baud rate (${Object.keys(BAUD_CODES).join(", ")})`);
      const device = new VirtualDevice({ id: d.id, table: controlTableFor(d.model), initial: { "Baud Rate": baud } });
      return {
        config: d,
        device,
        dof,
        sensorOffset: sensor ? setup.table.indexOf(`sensors.${sensor.name}.countsPerRev`) : -1,
        actuator,
        overload: d.role === "motor" ? new ThermalOverload(options.overload ?? DEFAULT_THERMAL_OVERLOAD) : undefined,
      };
    });
    this.bus = new VirtualBus(this.slots.map((s) => s.device));
    for (const s of this.slots) {
      if (s.actuator < 0) continue;
      s.device.onWrite((name) => {
        if (name === "Goal PWM" || name === "Torque Enable" || name === "Bus Watchdog") this.refreshDrive();
      });
      s.device.onReboot(() => this.refreshDrive());
      s.device.onWatchdogTrip(() => {
        this.stats.watchdogTrips++;
        for (const l of this.watchdogListeners) l(s.config.joint);
        this.refreshDrive();
      });
    }
    const q = new Float64Array(plant.dof);
    for (const [joint, v] of Object.entries(options.initial ?? {})) {
      const j = plant.dofNames.indexOf(joint);
      if (j < 0) throw new RangeError(`emulator: initial position for unknown joint ${JSON.stringify(joint)}`);
      q[j] = v;
    }
    plant.reset(q, new Float64Array(plant.dof));
    this.actuators.reset();
    this.applyTorqueState();
    this.refreshDrive();
    this.updatePresent();
  }

  static async create(options: EmulatedRigOptions): Promise<EmulatedRig> {
    const { setup } = options;
    const dt = options.physicsDt ?? EMULATOR_PHYSICS_DT;
    const substep = Math.min(setup.config.physicsSubstep, dt);
    const plant = await RobotPlant.create(setup.model, setup.table, setup.config.robot, dt, substep);
    plant.setParams(options.params.values);
    return new EmulatedRig(plant, options);
  }

  /** The device answering to a rig joint (for tests and fault injection). */
  device(joint: string): VirtualDevice {
    const s = this.slots.find((x) => x.config.joint === joint);
    if (!s) throw new RangeError(`emulator: no device reads joint ${JSON.stringify(joint)}`);
    return s.device;
  }

  /** Heat of each motor's overload integrator, A²s, by joint. */
  heat(): Record<string, number> {
    return Object.fromEntries(this.slots.filter((s) => s.overload).map((s) => [s.config.joint, s.overload!.heat]));
  }

  /**
   * Runs the physics and the reading path for a while and puts everything
   * back: the first real exchanges then answer at full speed instead of
   * waiting for the JIT. Only before serving (time zero not yet set).
   */
  warmUp(steps = 1000): void {
    if (this.clock.started) throw new Error("emulator: warmUp() after serving started");
    const q = Float64Array.from(this.plant.q);
    const qd = Float64Array.from(this.plant.qd);
    this.plant.setRuntimeParams(this.options.params.values);
    this.plant.command(this.volts.map(() => 1));
    for (let i = 0; i < steps; i++) {
      this.plant.advance(1);
      if (i % 10 === 0) this.updatePresent();
    }
    this.plant.reset(q, qd);
    this.actuators.reset();
    for (const s of this.slots) if (s.overload) s.overload.heat = 0;
    this.volts.fill(0);
    this.applyTorqueState();
    this.refreshDrive();
    this.updatePresent();
  }

  /** Moves the simulation to `nowMs` (the first call sets time zero) and refreshes the present registers. */
  advanceTo(nowMs: number): void {
    const behind = this.clock.due(nowMs);
    this.stats.skippedSteps = this.clock.skipped;
    if (behind <= 0) return;
    for (let i = 0; i < behind; i++) {
      this.plant.advance(1);
      this.heatMotors();
    }
    this.stats.physicsSteps += behind;
    const bad = this.plant.firstNonFinite();
    if (bad >= 0) throw new Error(`emulator: the simulation diverged at joint ${this.plant.dofNames[bad]} (t = ${this.plant.time.toFixed(3)} s)`);
    this.updatePresent();
  }

  /** Bytes from the host at `nowMs`: the plant catches up first, so answers carry fresh readings. */
  receive(bytes: Uint8Array, nowMs: number): Uint8Array[] {
    this.advanceTo(nowMs);
    return this.bus.receive(bytes, nowMs);
  }

  /** The devices' clocks (Bus Watchdog) and the plant, during silence. */
  tick(nowMs: number): void {
    this.advanceTo(nowMs);
    this.bus.tick(nowMs);
  }

  /** Called when a motor's torque goes on or off (a Torque Enable write, an overload trip, a reboot). */
  onTorqueChange(listener: (joint: string, on: boolean) => void): void {
    this.torqueListeners.push(listener);
  }

  /** Called when a motor's Bus Watchdog trips (no packet within its time: 0 V, torque stays on). */
  onWatchdogTrip(listener: (joint: string) => void): void {
    this.watchdogListeners.push(listener);
  }

  dispose(): void {
    this.plant.dispose();
  }

  // Internals ----------------------------------------------------------------

  /** Applies the motors' torque state and voltage after a register change. */
  private refreshDrive(): void {
    let changed = false;
    for (const s of this.slots) {
      if (s.actuator < 0) continue;
      const d = s.device;
      const on = d.torqueEnabled;
      const v = d.outputActive ? this.units.pwmToVolts(d.get("Goal PWM")) : 0;
      if (this.enabled[s.actuator] !== on) {
        this.enabled[s.actuator] = on;
        changed = true;
        for (const l of this.torqueListeners) l(s.config.joint, on);
      }
      if (this.volts[s.actuator] !== v) {
        this.volts[s.actuator] = v;
        this.plant.command(this.volts);
        this.actuators.command(this.plant.time, this.volts);
      }
    }
    if (changed) this.applyTorqueState();
  }

  /** Parameters in effect: the hidden values with disconnected motors while their torque is off. */
  private applyTorqueState(): void {
    this.actuators.applyTorqueState(this.options.params.values, this.enabled, this.effective);
    this.plant.setRuntimeParams(this.effective);
  }

  private motorCurrent(s: DeviceSlot): number {
    if (!this.enabled[s.actuator]) return 0;
    return this.actuators.current(s.actuator, this.plant.time, this.plant.qd[s.dof]!, this.effective);
  }

  private heatMotors(): void {
    for (const s of this.slots) {
      if (!s.overload) continue;
      if (s.overload.step(this.motorCurrent(s), this.dt) && !s.device.alert) {
        s.device.raiseHardwareError("Overload Error");
        this.stats.overloadTrips++;
        this.refreshDrive();
      }
    }
  }

  private updatePresent(): void {
    const u = this.units;
    const p = this.effective;
    for (const s of this.slots) {
      const d = s.device;
      const noise = s.sensorOffset >= 0 ? p[s.sensorOffset + 2]! : 0;
      const angle = this.plant.q[s.dof]! + (noise > 0 ? noise * this.rng.normal() : 0);
      d.setPresent("Present Position", this.options.params.zeroCounts[s.config.joint]! + Math.round(angle / u.radPerCount));
      d.setPresent("Present Velocity", u.radPerSecToVelocity(this.plant.qd[s.dof]!));
      if (s.actuator >= 0) {
        d.setPresent("Present Current", clampInt16(u.ampsToCurrent(this.motorCurrent(s))));
        d.setPresent("Present PWM", d.outputActive ? d.get("Goal PWM") : 0);
      }
    }
  }
}

function clampInt16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}
