import { describe, it, expect } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { Ladder, layersByRung, vp8KeyframeSize, type LadderSample } from '../../media/ladder.js';
import { PullMeter } from '../../media/ladder-meter.js';

const needs = { '720p': 1_300_000, '360p': 500_000, '180p': 200_000 };
const sample = (now: number, sentBps: number, loss: number | null, o: Partial<LadderSample> = {}): LadderSample => ({
  now, feedbackAgeMs: 500, sentBps, loss, rttMs: 50, needs, ...o,
});

describe('bandwidth ladder', () => {
  it('drops at once to the rung that fits what got through when the link is congested', () => {
    const l = new Ladder(0);
    expect(l.update(sample(3000, 1_300_000, 0))).toBe('720p');
    // 300 kbit/s link: 1.3 Mbit/s sent, ~77 % lost.
    expect(l.update(sample(4000, 1_300_000, 0.77))).toBe('180p');
    // Loss reports still describe the old rate for a moment: no second step meanwhile.
    expect(l.update(sample(5000, 200_000, 0.77))).toBe('180p');
    // 64 kbit/s: audio only, never below it while feedback arrives.
    expect(l.update(sample(8000, 200_000, 0.7))).toBe('audio-only');
    expect(l.update(sample(12_000, 50_000, 0.5))).toBe('audio-only');
  });

  it('goes offline without feedback and resumes at the rung it was on', () => {
    const l = new Ladder(0);
    l.update(sample(1000, 1_300_000, 0));
    expect(l.update(sample(2000, 0, null, { feedbackAgeMs: 3500 }))).toBe('offline');
    expect(l.update(sample(3000, 0, null, { feedbackAgeMs: 9000 }))).toBe('offline');
    expect(l.update(sample(4000, 60_000, 0))).toBe('720p');
  });

  it('caps a lossy (not congested) link at 360p and holds there', () => {
    const l = new Ladder(0);
    expect(l.update(sample(3000, 1_300_000, 0.05))).toBe('360p');
    for (let t = 4000; t < 60_000; t += 1000) expect(l.update(sample(t, 500_000, 0.05))).toBe('360p');
  });

  it('caps at 360p on loss that retransmission hides from receiver reports (NACKed packets), without a congestion drop', () => {
    const l = new Ladder(0);
    // RR shows 1 % (NACK recovered the rest); 6 % of the packets sent were asked for again.
    expect(l.update(sample(3000, 1_300_000, 0.01, { linkLoss: 0.06 }))).toBe('360p');
    // A NACK storm while a queue drains is not congestion: no drop below 360p on it alone.
    expect(l.update(sample(6000, 500_000, 0.01, { linkLoss: 0.4 }))).toBe('360p');
    // And it blocks steps up: the link is not clean.
    for (let t = 7000; t < 60_000; t += 1000) expect(l.update(sample(t, 500_000, 0, { linkLoss: 0.05 }))).toBe('360p');
    expect(l.lastLoss).toBe(0.05);
  });

  it('steps up one rung only after a clean hold, and waits twice as long after a failed try (no flapping)', () => {
    const l = new Ladder(0, '720p', { upHoldMs: 10_000 });
    l.update(sample(3000, 1_300_000, 0.8)); // → 180p
    expect(l.rung).toBe('180p');
    let t = 3000;
    const rungs: string[] = [];
    // A link that carries 180p but not 360p, for two minutes.
    for (t = 4000; t < 124_000; t += 1000) {
      const sent = l.rung === '360p' ? 500_000 : 200_000;
      const loss = l.rung === '360p' ? 0.5 : 0;
      rungs.push(l.update(sample(t, sent, loss)));
    }
    const ups = rungs.filter((r, i) => r === '360p' && rungs[i - 1] !== '360p').length;
    // Tries at ~10 s, then after 20, 40, 80 s of holds: at most 4 in two minutes, each over once the
    // loss reports describe it (the settle time, 2.5 s).
    expect(ups).toBeGreaterThanOrEqual(1);
    expect(ups).toBeLessThanOrEqual(4);
    expect(rungs.filter((r) => r === '360p').length).toBeLessThanOrEqual(ups * 3);
    expect(l.holdMs).toBeGreaterThan(10_000);
    // A link that really got better: the step up holds and the ladder climbs one rung at a time.
    for (; t < 300_000 && l.rung !== '720p'; t += 1000) l.update(sample(t, l.rung === '360p' ? 500_000 : 200_000, 0));
    expect(l.rung).toBe('720p');
  });

  it('never steps up on a high round-trip time', () => {
    const l = new Ladder(0, '180p', { upHoldMs: 5000 });
    for (let t = 1000; t < 60_000; t += 1000) l.update(sample(t, 200_000, 0, { rttMs: 1500 }));
    expect(l.rung).toBe('180p');
  });

  it('maps simulcast layers to rungs by picture height, else by rate rank', () => {
    const rates = new Map([['h', 1_200_000], ['m', 450_000], ['l', 150_000]]);
    expect(Object.fromEntries(layersByRung(['l', 'm', 'h'], rates, new Map()))).toEqual({ '720p': 'h', '360p': 'm', '180p': 'l' });
    expect(Object.fromEntries(layersByRung(['l', 'm'], rates, new Map([['l', 180], ['m', 360]])))).toEqual({ '360p': 'm', '180p': 'l' });
  });
});

describe('VP8 keyframe size and the pull meter', () => {
  const key = (w: number, h: number) => Uint8Array.from([0x90, 0x80, 0x05, 0x00, 0, 0, 0x9d, 0x01, 0x2a, w & 0xff, w >> 8, h & 0xff, h >> 8]);
  it('reads the picture size of a VP8 keyframe and nothing else', () => {
    expect(vp8KeyframeSize(key(1280, 720))).toEqual({ width: 1280, height: 720 });
    const inter = key(1280, 720);
    inter[3] = 0x01;
    expect(vp8KeyframeSize(inter)).toBeNull();
    expect(vp8KeyframeSize(Uint8Array.from([0x10]))).toBeNull();
  });

  it('reports the rung that arrives and every audio gap', () => {
    const m = new PullMeter();
    m.connected();
    const rtp = (ssrc: number, seq: number, ts: number, payload: Uint8Array) => new RtpPacket(new RtpHeader({ ssrc, sequenceNumber: seq, timestamp: ts, payloadType: 111 }), Buffer.from(payload));
    let seq = 0;
    for (let t = 0; t < 1000; t += 20) m.onPacket('audio', rtp(1, seq++, t * 48, Uint8Array.from([1, 2, 3])), 10_000 + t);
    m.onPacket('video', rtp(2, 1, 0, key(640, 360)), 10_500);
    expect(m.rung(10_600, true)).toBe('360p');
    // 400 ms of audio lost (20 packets), then it flows again.
    seq += 20;
    m.onPacket('audio', rtp(1, seq++, 1400 * 48, Uint8Array.from([1])), 11_400);
    expect(m.gaps.at(-1)).toMatchObject({ wallMs: 420, mediaMs: 400 });
    expect(m.rung(13_000, true)).toBe('audio-only'); // no video for 2.5 s
    expect(m.rung(14_500, true)).toBe('offline'); // nothing for 3 s
    expect(m.rung(11_500, false)).toBe('offline');
  });
});
