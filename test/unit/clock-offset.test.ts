import { describe, it, expect } from 'vitest';
import { OffsetEstimator } from '../../core/clock.js';

describe('hub clock offset estimate', () => {
  it('keeps the sample with the shortest round trip, so one slow answer does not move the clock', () => {
    const e = new OffsetEstimator();
    expect(e.add(120, 40, 1_000)).toBe(120);
    // A loaded hub answered after 2.8 s: its midpoint is off by up to 1.4 s.
    expect(e.add(1_520, 2_800, 61_000)).toBe(120);
    // A faster sample wins.
    expect(e.add(100, 10, 121_000)).toBe(100);
  });

  it('takes a real clock step at once (someone set the box or the hub clock)', () => {
    const e = new OffsetEstimator();
    e.add(0, 20, 1_000);
    expect(e.add(3_600_000, 300, 61_000)).toBe(3_600_000);
    expect(e.add(3_600_010, 50, 121_000)).toBe(3_600_010);
  });

  it('forgets old samples and ones from a local clock that went back', () => {
    const e = new OffsetEstimator(8, 60_000);
    e.add(0, 5, 1_000_000);
    expect(e.add(400, 900, 1_070_000)).toBe(400); // the 5 ms sample is 70 s old: gone
    expect(e.add(380, 800, 500_000)).toBe(380); // local clock stepped back: later-dated samples are dropped
  });
});
