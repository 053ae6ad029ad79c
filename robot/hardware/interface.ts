/**
 * Hardware interfaces shaped like ros2_control's: a robot is something that
 * can be activated, read into a joint-state frame, written with commands, and
 * deactivated. The Dynamixel rig, the simulator and ROS 2 all implement it, so
 * the control loop, safety layer and logging are written once.
 */
export interface JointStateFrame {
  /** Joint names, in the interface's joint order. */
  names: readonly string[];
  /** Calibrated positions (rad or m). */
  position: Float64Array;
  /** Velocities as the hardware reports them (NaN where it reports none). */
  velocity: Float64Array;
  /** Efforts or currents as the hardware reports them (NaN where none); see `effortUnit`. */
  effort: Float64Array;
  /** Monotonic time of the reading, s. */
  stamp: number;
}

export interface ReadOptions {
  retryForSec?: number;
}

export interface HardwareInterface {
  readonly name: string;
  readonly jointNames: readonly string[];
  /** Actuators in command order, with their command unit. */
  readonly commandNames: readonly string[];
  readonly commandUnit: string;
  readonly effortUnit: string;
  /** Prepares the hardware to move (e.g. torque on, watchdog armed). */
  activate(): Promise<void>;
  /**
   * The joints' state now. `retryForSec`: how long the caller can still wait
   * for a fresh state (its stale-state limit minus the state's age); an
   * interface whose read is safe to repeat may retry a timed-out read within
   * it. Interfaces that cannot retry ignore it.
   */
  read(options?: ReadOptions): Promise<JointStateFrame>;
  write(commands: ArrayLike<number>): Promise<void>;
  /** Zero command and torque off. Safe to call at any time, repeatedly, and after errors; never throws for an already-safe device. */
  deactivate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The hardware did not answer in time, or stopped itself after a silence (a
 * Dynamixel Bus Watchdog): the path to it stalled (a starved kernel thread,
 * a USB adapter's latency). Unlike a device's own error, a session whose
 * kind allows it may turn torque off, re-activate and carry on
 * (safety.deadlines.<kind>.recoveries).
 */

export class HardwareError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = "HardwareError";
  }
}

export class BusSilenceError extends HardwareError {
  constructor(message: string, cause?: unknown) {
    super(message, cause);
    this.name = "BusSilenceError";
  }
}
