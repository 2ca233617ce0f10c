// Every deadline, expiry and timetable reads time through a Clock so tests can move it and a
// teaching point can follow the hub's time when its own battery-backed clock is wrong.
export interface Clock {
  /** Milliseconds since the epoch, as this box believes it. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that follows a reference (the hub) by a measured offset; the offset can be updated. */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  get offset(): number {
    return this.offsetMs;
  }
  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
}

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t: number = Date.UTC(2026, 10, 23, 8, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
