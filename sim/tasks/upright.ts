/** Signed distance of alpha from upright (pi), wrapped to (-pi, pi]. */
export function uprightError(alpha: number): number {
  let d = (alpha - Math.PI) % (2 * Math.PI);
  if (d <= -Math.PI) d += 2 * Math.PI;
  if (d > Math.PI) d -= 2 * Math.PI;
  return d;
}

/**
 * Tracks an upright-and-hold success rule over an episode (the Furuta rig
 * page's): the pendulum upright (|alpha - pi| < tolerance) for `holdSeconds`
 * without interruption, and the driven joint never at a hard stop (pass
 * Infinity for `stopLimit` when there is none). Shared by the simulated tasks
 * and the robot's deploy episodes, so both report success the same way.
 */
export class UprightTracker {
  private run = 0;
  bestHold = 0;
  timeUpright = 0;
  firstUpright = NaN;
  stopContact = false;
  stopStrikeSpeed = 0;
  /** Arm speed at the previous update: the hard stop zeroes the speed within the control period, so a strike is measured by the approach speed. */
  private lastThetaDot = 0;

  constructor(
    private readonly tolerance: number,
    private readonly holdSeconds: number,
    private readonly stopLimit: number,
  ) {}

  reset(): void {
    this.run = 0;
    this.bestHold = 0;
    this.timeUpright = 0;
    this.firstUpright = NaN;
    this.stopContact = false;
    this.stopStrikeSpeed = 0;
    this.lastThetaDot = 0;
  }

  /** Feeds one control period; returns whether the arm is at a stop. */
  update(theta: number, thetaDot: number, alpha: number, dt: number, time: number): boolean {
    if (Math.abs(uprightError(alpha)) < this.tolerance) {
      this.run += dt;
      this.timeUpright += dt;
      if (Number.isNaN(this.firstUpright)) this.firstUpright = time;
      if (this.run > this.bestHold) this.bestHold = this.run;
    } else this.run = 0;
    const atStop = Math.abs(theta) >= this.stopLimit;
    if (atStop) {
      const approaching = Math.sign(this.lastThetaDot) === Math.sign(theta) ? Math.abs(this.lastThetaDot) : 0;
      this.stopContact = true;
      this.stopStrikeSpeed = Math.max(this.stopStrikeSpeed, Math.abs(thetaDot), approaching);
    }
    this.lastThetaDot = thetaDot;
    return atStop;
  }

  success(): boolean {
    return !this.stopContact && this.bestHold >= this.holdSeconds - 1e-9;
  }

  metrics(): Record<string, number> {
    return {
      bestHoldSeconds: this.bestHold,
      secondsUpright: this.timeUpright,
      firstUprightSeconds: Number.isNaN(this.firstUpright) ? -1 : this.firstUpright,
      stopContact: this.stopContact ? 1 : 0,
      stopStrikeSpeed: this.stopStrikeSpeed,
    };
  }
}

