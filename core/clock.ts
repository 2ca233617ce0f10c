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

/**
 * The hub-clock offset from request/answer samples, NTP-style: a sample's error is up to half its round
 * trip, so the one with the shortest round trip of the recent ones is kept. On a loaded box or a thin
 * link a single slow answer would otherwise move every timestamp (recordings, the lesson timeline) by
 * seconds. A sample too far from the kept one to be explained by both round trips is a real step of
 * one of the clocks (someone set it): it is taken at once.
 */
export class OffsetEstimator {
  private samples: Array<{ offset: number; rtt: number; at: number }> = [];

  constructor(private readonly keep = 8, private readonly maxAgeMs = 15 * 60_000, private readonly stepMarginMs = 1000) {}

  get count(): number {
    return this.samples.length;
  }

  /** Adds a sample (offset and round trip in ms, `at` on the local clock) and returns the offset to use. */
  add(offset: number, rtt: number, at: number): number {
    const s = { offset, rtt: Math.max(0, rtt), at };
    const best = this.best(at);
    if (best && Math.abs(s.offset - best.offset) > (s.rtt + best.rtt) / 2 + this.stepMarginMs) this.samples = [];
    this.samples.push(s);
    if (this.samples.length > this.keep) this.samples.shift();
    return this.best(at)!.offset;
  }

  private best(now: number): { offset: number; rtt: number } | undefined {
    this.samples = this.samples.filter((x) => now - x.at <= this.maxAgeMs && x.at <= now);
    return this.samples.reduce<{ offset: number; rtt: number; at: number } | undefined>((a, x) => (a === undefined || x.rtt < a.rtt ? x : a), undefined);
  }
}
