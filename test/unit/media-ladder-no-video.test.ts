import { describe, it, expect } from 'vitest';
import { Ladder, type LadderSample } from '../../media/ladder.js';

const sample = (now: number, needs: LadderSample['needs'], o: Partial<LadderSample> = {}): LadderSample => ({
  now, feedbackAgeMs: 500, sentBps: 40_000, loss: 0, rttMs: 50, needs, ...o,
});

describe('bandwidth ladder while no video is on offer', () => {
  it('keeps its rung while the hub room has no video, so a teacher who starts later is forwarded at once', () => {
    const l = new Ladder(0);
    // The teaching point joined before the teacher: nothing to forward for a while.
    for (let t = 1000; t <= 5000; t += 1000) expect(l.update(sample(t, {}))).toBe('720p');
    // The teacher starts (one 360p layer): the next decision forwards it, no 15 s clean hold first.
    expect(l.update(sample(6000, { '360p': 540_000 }))).toBe('360p');
  });

  it('comes back from offline to its rung when feedback returns with nothing on offer', () => {
    const l = new Ladder(0);
    l.update(sample(1000, { '720p': 1_300_000 }));
    expect(l.update(sample(2000, {}, { feedbackAgeMs: 3500 }))).toBe('offline');
    expect(l.update(sample(3000, {}))).toBe('720p');
    expect(l.update(sample(4000, { '720p': 1_300_000 }))).toBe('720p');
  });
});
