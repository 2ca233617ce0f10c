import { describe, it, expect } from 'vitest';
import { LossAlarm } from '../../media/loss-alarm.js';

/** A small seeded generator, so the random-loss run is the same every time. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('early loss alarm (teaching point → hub)', () => {
  it('stays quiet on a clean link and under 5 % random loss', () => {
    const a = new LossAlarm();
    const r = rng(7);
    let now = 0;
    for (let seq = 0; seq < 60_000; seq++) {
      now += 20;
      if (r() < 0.05) continue;
      expect(a.onPacket(1, seq & 0xffff, now)).toBeNull();
    }
    expect(a.alarms).toBe(0);
  });

  it('fires within a dozen packets once two in three are dropped, with the fraction it saw', () => {
    const a = new LossAlarm();
    let now = 0;
    let seq = 0;
    for (; seq < 200; seq++) a.onPacket(1, seq, (now += 20));
    let firedAfter = -1;
    let frac: number | null = null;
    for (let k = 0; k < 60 && firedAfter < 0; k++, seq++) {
      now += 20;
      if (k % 3 !== 0) continue; // tail drop in front of a link three times too thin
      frac = a.onPacket(1, seq, now);
      if (frac !== null) firedAfter = k;
    }
    expect(firedAfter).toBeGreaterThan(0);
    expect(firedAfter).toBeLessThanOrEqual(12);
    expect(frac).toBeGreaterThanOrEqual(0.5);
    // Rate limited: the very next lossy packets do not fire again.
    expect(a.onPacket(1, seq + 2, now + 20)).toBeNull();
  });

  it('takes an outage for an outage, not for loss, and ignores retransmissions', () => {
    const a = new LossAlarm();
    let now = 0;
    for (let seq = 0; seq < 50; seq++) a.onPacket(1, seq, (now += 20));
    now += 5000; // link down for 5 s: 250 packets never came
    for (let seq = 300; seq < 320; seq++) expect(a.onPacket(1, seq, (now += 20))).toBeNull();
    // Old sequence numbers (NACK answers) arrive late: not arrivals of new packets, not loss.
    for (let seq = 250; seq < 300; seq++) expect(a.onPacket(1, seq, (now += 1))).toBeNull();
    // A far jump (the stream restarted) starts over.
    for (let seq = 40_000; seq < 40_030; seq++) expect(a.onPacket(1, seq, (now += 20))).toBeNull();
    expect(a.alarms).toBe(0);
  });

  it('judges each stream on its own', () => {
    const a = new LossAlarm();
    let now = 0;
    let fired = 0;
    for (let seq = 0; seq < 100; seq++) {
      now += 10;
      if (a.onPacket(1, seq, now) !== null) fired++; // audio: clean
      if (seq % 2 === 0 && a.onPacket(2, seq, now) !== null) fired++; // video: half lost
    }
    expect(fired).toBeGreaterThan(0);
    expect(a.alarms).toBe(fired);
  });
});
