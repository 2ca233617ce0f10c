import { describe, it, expect } from 'vitest';
import { RtpRewriter, seqNewer } from '../../media/rtp-rewriter.js';
import { isH264Keyframe, isVp8Keyframe } from '../../media/keyframe.js';
import { ReceiveRateEstimator, rembPacket } from '../../media/remb.js';
import { chooseLayer } from '../../media/egress.js';
import { ReceiverEstimatedMaxBitrate } from 'werift';

describe('per-subscriber RTP rewriting', () => {
  it('keeps sequence numbers and timestamps continuous when the source changes', () => {
    const rw = new RtpRewriter(90_000);
    const a1 = rw.rewrite(111, 65534, 4_294_967_000, 1000);
    const a2 = rw.rewrite(111, 65535, 4_294_967_200, 1010);
    const a3 = rw.rewrite(111, 0, 100, 1020); // wraps
    expect(a2.sequenceNumber).toBe((a1.sequenceNumber + 1) & 0xffff);
    expect(a3.sequenceNumber).toBe((a2.sequenceNumber + 1) & 0xffff);
    // A new publisher with random sequence and timestamp bases, 100 ms later.
    const b1 = rw.rewrite(222, 5000, 77_777, 1120);
    expect(b1.sequenceNumber).toBe((a3.sequenceNumber + 1) & 0xffff);
    const dt = (b1.timestamp - a3.timestamp) >>> 0;
    expect(dt).toBe(9000); // 100 ms at 90 kHz
    const b2 = rw.rewrite(222, 5001, 80_777, 1150);
    expect(b2.sequenceNumber).toBe((b1.sequenceNumber + 1) & 0xffff);
    expect((b2.timestamp - b1.timestamp) >>> 0).toBe(3000);
  });

  it('carries on forwards when the same source restarts its numbering (same SSRC, sequence far back)', () => {
    const rw = new RtpRewriter(90_000);
    const a1 = rw.rewrite(111, 40_000, 900_000, 1000);
    const a2 = rw.rewrite(111, 40_001, 903_000, 1033);
    // The capture loops, the relay re-pulls with the same SSRC: numbering starts again at 12.
    const b1 = rw.rewrite(111, 12, 3000, 1066);
    expect(b1.sequenceNumber).toBe((a2.sequenceNumber + 1) & 0xffff);
    expect(seqNewer(b1.sequenceNumber, a2.sequenceNumber)).toBe(true);
    expect((b1.timestamp - a2.timestamp) >>> 0).toBe(2970); // 33 ms at 90 kHz
    expect(rw.rewrite(111, 13, 6000, 1100).sequenceNumber).toBe((b1.sequenceNumber + 1) & 0xffff);
    expect(a2.sequenceNumber).toBe((a1.sequenceNumber + 1) & 0xffff);
    // A gap of lost packets is not a restart: it shows through.
    expect(rw.rewrite(111, 60, 9000, 1133).sequenceNumber).toBe((b1.sequenceNumber + 48) & 0xffff);
  });

  it('closes the gap left by packets skipped on purpose (audio-only rung, waiting for a keyframe)', () => {
    const rw = new RtpRewriter(90_000);
    const a1 = rw.rewrite(111, 100, 9000, 1000);
    rw.discontinue();
    // 400 packets of the same source were not sent; video resumes 2 s later.
    const a2 = rw.rewrite(111, 501, 189_000, 3000);
    expect(a2.sequenceNumber).toBe((a1.sequenceNumber + 1) & 0xffff);
    expect((a2.timestamp - a1.timestamp) >>> 0).toBe(180_000);
    const a3 = rw.rewrite(111, 502, 192_000, 3033);
    expect(a3.sequenceNumber).toBe((a2.sequenceNumber + 1) & 0xffff);
    // Without discontinue() a jump in the source shows through (real loss upstream stays visible).
    const a4 = rw.rewrite(111, 510, 195_000, 3066);
    expect(a4.sequenceNumber).toBe((a3.sequenceNumber + 8) & 0xffff);
  });

  it('orders 16-bit sequence numbers across the wrap', () => {
    expect(seqNewer(1, 65535)).toBe(true);
    expect(seqNewer(65535, 1)).toBe(false);
    expect(seqNewer(5, 5)).toBe(false);
  });
});

describe('keyframe detection', () => {
  it('reads VP8 payload descriptors with and without extensions', () => {
    expect(isVp8Keyframe(Uint8Array.from([0x10, 0x00]))).toBe(true); // S=1, PID 0, P=0
    expect(isVp8Keyframe(Uint8Array.from([0x10, 0x01]))).toBe(false); // interframe
    expect(isVp8Keyframe(Uint8Array.from([0x00, 0x00]))).toBe(false); // not a partition start
    // X=1, I=1 with a 15-bit picture id, then the frame header.
    expect(isVp8Keyframe(Uint8Array.from([0x90, 0x80, 0x81, 0x23, 0x00]))).toBe(true);
    expect(isVp8Keyframe(Uint8Array.from([0x90, 0x80, 0x81, 0x23, 0x01]))).toBe(false);
    expect(isVp8Keyframe(Uint8Array.from([0x90]))).toBe(false);
  });

  it('finds H.264 IDR/SPS alone, in STAP-A and at the start of FU-A', () => {
    expect(isH264Keyframe(Uint8Array.from([0x65, 1, 2]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x41, 1, 2]))).toBe(false);
    expect(isH264Keyframe(Uint8Array.from([0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x7c, 0x85, 0]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x7c, 0x05, 0]))).toBe(false); // FU-A continuation
  });
});

describe('REMB from measured receive rate', () => {
  it('grows above a clean measured rate, holds on moderate loss and backs off on heavy loss', () => {
    const est = new ReceiveRateEstimator({ minBps: 100_000, maxBps: 5_000_000 }, 0, 300_000);
    let t = 0;
    let seq = 0;
    const second = (kbps: number, lossEvery = 0) => {
      const packets = Math.round((kbps * 1000) / 8 / 1000);
      for (let i = 0; i < packets; i++) {
        seq = (seq + 1) & 0xffff;
        if (lossEvery && i % lossEvery === 0) continue;
        est.onPacket(42, seq, 1000);
      }
      t += 1000;
      return est.update(t);
    };
    const clean = second(1000);
    expect(clean).toBeGreaterThan(1_400_000); // ~1.5 × the measured rate
    const lossy = second(1000, 20); // 5 % loss
    expect(lossy).toBeLessThan(1_000_000);
    const heavy = second(1000, 4); // 25 % loss
    expect(heavy).toBeLessThan(lossy);
    expect(est.lastLoss).toBeGreaterThan(0.2);
  });

  it('serialises a REMB that werift reads back with the same bitrate', () => {
    const pkt = rembPacket(1, [1234, 5678], 1_543_210);
    const raw = pkt.serialize();
    const remb = ReceiverEstimatedMaxBitrate.deSerialize(raw.subarray(4));
    expect(Number(remb.bitrate)).toBeGreaterThan(1_543_210 * 0.99);
    expect(Number(remb.bitrate)).toBeLessThanOrEqual(1_543_210);
    expect(remb.ssrcFeedbacks).toEqual([1234, 5678]);
  });
});

describe('simulcast layer choice', () => {
  it('gives the wanted layer when present, else the best present', () => {
    expect(chooseLayer(['l', 'm', 'h'], 'm')).toBe('m');
    expect(chooseLayer(['l', 'm', 'h'], undefined)).toBe('h');
    expect(chooseLayer(['l', 'm'], 'h')).toBe('m');
    expect(chooseLayer([''], undefined)).toBe('');
    expect(chooseLayer([], 'h')).toBeUndefined();
  });
});

describe('layer for a subscriber\'s bandwidth estimate', () => {
  const rates = new Map([['l', 120_000], ['m', 400_000], ['h', 1_400_000]]);
  it('takes the best layer that fits under the estimate, the smallest when none fits', async () => {
    const { layerForBudget } = await import('../../media/egress.js');
    expect(layerForBudget(rates, ['l', 'm', 'h'], 2_000_000)).toBe('h');
    expect(layerForBudget(rates, ['l', 'm', 'h'], 1_000_000)).toBe('m');
    expect(layerForBudget(rates, ['l', 'm', 'h'], 300_000)).toBe('l');
    expect(layerForBudget(rates, ['l', 'm', 'h'], 50_000)).toBe('l');
    expect(layerForBudget(rates, ['l', 'm', 'h'], 0)).toBe('h'); // no estimate yet
    expect(layerForBudget(rates, ['l', 'm'], 2_000_000)).toBe('m');
  });
});
