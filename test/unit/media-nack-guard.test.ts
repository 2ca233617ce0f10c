import { describe, it, expect, vi } from 'vitest';
import { GenericNack, RtcpTransportLayerFeedback, RtcpRrPacket, type RTCRtpSender } from 'werift';
import { guardRetransmissions } from '../../media/nack-guard.js';

// The seam: werift's RTCRtpSender.handleRtcpPacket, which resends every packet a NACK names. A stand-in
// records what reaches it, so the test sees exactly which sequence numbers would go out again.
function fakeSender(rttSeconds?: number, payloadBytes = 1000) {
  const reached: Array<number[] | string> = [];
  const sender = {
    rtt: rttSeconds,
    rtpCache: Array.from({ length: 128 }, () => ({ payload: Buffer.alloc(payloadBytes) })),
    handleRtcpPacket: (p: RtcpTransportLayerFeedback) => reached.push(p.type === RtcpTransportLayerFeedback.type ? [...(p.feedback as GenericNack).lost] : 'other'),
  };
  return { sender: sender as unknown as RTCRtpSender, reached };
}
const nack = (lost: number[]) => new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: 2, lost }) });

describe('retransmission guard', () => {
  it('resends a packet once per round trip however often werift repeats the NACK (every 5 ms)', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const { sender, reached } = fakeSender();
      const g = guardRetransmissions(sender);
      for (let i = 0; i < 10; i++) {
        sender.handleRtcpPacket(nack([100, 101]));
        vi.advanceTimersByTime(5);
      }
      expect(reached.flat()).toEqual([100, 101]);
      expect(g).toEqual({ resent: 2, suppressed: 18, resentBytes: 2 * 1012 });
      vi.advanceTimersByTime(100); // a round trip later the receiver still misses it: once more
      sender.handleRtcpPacket(nack([100, 102]));
      expect(reached.at(-1)).toEqual([100, 102]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits longer on a slow link (1.5 × RTT, at most 500 ms)', () => {
    vi.useFakeTimers({ now: 2_000_000 });
    try {
      const { sender, reached } = fakeSender(0.25);
      guardRetransmissions(sender);
      sender.handleRtcpPacket(nack([7]));
      vi.advanceTimersByTime(300);
      sender.handleRtcpPacket(nack([7]));
      vi.advanceTimersByTime(100);
      sender.handleRtcpPacket(nack([7]));
      expect(reached.map((l) => l.length)).toEqual([1, 0, 1]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resends nothing while told to (video off on the ladder) and leaves other RTCP alone', () => {
    const { sender, reached } = fakeSender();
    let off = true;
    guardRetransmissions(sender, { skipAll: () => off });
    sender.handleRtcpPacket(nack([5, 6]));
    off = false;
    sender.handleRtcpPacket(nack([5, 6]));
    const rr = new RtcpRrPacket({ ssrc: 3, reports: [] });
    sender.handleRtcpPacket(rr as never);
    expect(reached).toEqual([[], [5, 6], 'other']);
  });

  it('after a layer switch resends nothing from the old layer, across the 16-bit wrap', () => {
    const { sender, reached } = fakeSender();
    let first: number | undefined = 65530;
    guardRetransmissions(sender, { firstUseful: () => first });
    sender.handleRtcpPacket(nack([65520, 65529, 65530, 65535, 0, 3]));
    first = 2;
    sender.handleRtcpPacket(nack([65535, 1, 2, 5]));
    first = undefined;
    sender.handleRtcpPacket(nack([40_000]));
    expect(reached).toEqual([[65530, 65535, 0, 3], [2, 5], [40_000]]);
  });

  it('keeps resends within the byte budget and lets the budget refill with time', () => {
    vi.useFakeTimers({ now: 3_000_000 });
    try {
      const { sender, reached } = fakeSender(undefined, 988); // 1000 bytes a packet with its header
      // 10 kB/s: the bucket holds 300 ms of it, 3 packets.
      const g = guardRetransmissions(sender, { budgetBytesPerSec: () => 10_000 });
      vi.advanceTimersByTime(1000);
      sender.handleRtcpPacket(nack([1, 2, 3, 4, 5, 6, 7, 8]));
      expect(reached.at(-1)).toEqual([1, 2, 3]);
      vi.advanceTimersByTime(100); // 1 kB more
      sender.handleRtcpPacket(nack([4, 5, 6]));
      expect(reached.at(-1)).toEqual([4]);
      expect(g.resentBytes).toBe(4000);
      vi.advanceTimersByTime(10_000); // refilled, but never beyond the bucket
      sender.handleRtcpPacket(nack([5, 6, 7, 8, 9]));
      expect(reached.at(-1)).toEqual([5, 6, 7]);
    } finally {
      vi.useRealTimers();
    }
  });
});
