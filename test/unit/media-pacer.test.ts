import { describe, it, expect, vi, afterEach } from 'vitest';
import { Pacer, PACING_FACTOR } from '../../media/pacer.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('video pacer on a ladder link', () => {
  it('spreads a keyframe burst at 2.5× the layer rate instead of sending it at once', () => {
    vi.useFakeTimers({ now: 0, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'performance', 'Date'] });
    const pacer = new Pacer();
    pacer.setTarget(1_200_000);
    const sentAt: number[] = [];
    const start = performance.now();
    for (let i = 0; i < 50; i++) pacer.push(1200, () => sentAt.push(performance.now() - start)); // 60 kB keyframe
    expect(sentAt.length).toBeLessThan(10); // only the 20 ms burst allowance went at once
    vi.advanceTimersByTime(1000);
    expect(sentAt).toHaveLength(50);
    const spanMs = sentAt.at(-1)! - sentAt[0]!;
    const expected = ((50 * 1200 * 8) / (1_200_000 * PACING_FACTOR)) * 1000; // 160 ms
    expect(spanMs).toBeGreaterThan(expected * 0.7);
    expect(spanMs).toBeLessThan(expected * 1.3);
  });

  it('never paces slower than what comes in, so a steady stream is not held or dropped', () => {
    vi.useFakeTimers({ now: 0, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'performance', 'Date'] });
    let dropped = 0;
    const pacer = new Pacer(() => dropped++);
    pacer.setTarget(0); // the layer's rate is not known
    let sent = 0;
    let maxQueuedMs = 0;
    // 4 Mbit/s in 1200-byte packets for 5 s: one packet every 2.4 ms.
    for (let t = 0; t < 5000; t += 2.4) {
      vi.advanceTimersByTime(2.4);
      pacer.push(1200, () => sent++);
      if (t > 1000) maxQueuedMs = Math.max(maxQueuedMs, pacer.queuedMs); // after the first second's ramp
    }
    vi.advanceTimersByTime(500);
    expect(dropped).toBe(0);
    expect(sent).toBe(Math.ceil(5000 / 2.4));
    expect(pacer.rate).toBeGreaterThanOrEqual(4_000_000 * PACING_FACTOR * 0.9);
    expect(maxQueuedMs).toBeLessThan(300);
  });

  it('throws old video away when the link cannot take it, and says so', () => {
    vi.useFakeTimers({ now: 0, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'performance', 'Date'] });
    let dropped = 0;
    const pacer = new Pacer(() => dropped++);
    let sent = 0;
    for (let i = 0; i < 400; i++) pacer.push(1200, () => sent++); // 480 kB at once: > 2 s at 1 Mbit/s
    expect(dropped).toBe(1);
    expect(pacer.dropped).toBeGreaterThan(0);
    pacer.close();
    vi.advanceTimersByTime(3000);
    expect(sent).toBeLessThan(400);
  });
});
