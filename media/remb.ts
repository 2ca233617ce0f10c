import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback } from 'werift';
import { seqNewer } from './rtp-rewriter.js';

// The publisher's sending rate is steered with REMB built from what actually arrives (rate and loss),
// because werift's transport-cc feedback does not work (notes/werift.md): a constant would either
// starve the publisher or let it flood a thin link.

export interface RembLimits {
  minBps: number;
  maxBps: number;
}

/** Counts bytes and sequence gaps per SSRC over a window and turns them into an estimate. */
export class ReceiveRateEstimator {
  private bytes = 0;
  private windowStart: number;
  private readonly seqs = new Map<number, { highest: number; received: number; expectedBase: number }>();
  private estimate: number;
  lastRateBps = 0;
  lastLoss = 0;

  constructor(private readonly limits: RembLimits, nowMs: number, startBps = 800_000) {
    this.windowStart = nowMs;
    this.estimate = Math.min(Math.max(startBps, limits.minBps), limits.maxBps);
  }

  onPacket(ssrc: number, seq: number, sizeBytes: number): void {
    this.bytes += sizeBytes;
    const s = this.seqs.get(ssrc);
    if (!s) {
      this.seqs.set(ssrc, { highest: seq, received: 1, expectedBase: seq });
      return;
    }
    s.received++;
    if (seqNewer(seq, s.highest)) s.highest = seq;
  }

  /** Closes the window: returns the bitrate to advertise. */
  update(nowMs: number): number {
    const seconds = Math.max(0.05, (nowMs - this.windowStart) / 1000);
    const rate = (this.bytes * 8) / seconds;
    let expected = 0;
    let received = 0;
    for (const s of this.seqs.values()) {
      // A stream silent for the whole window (a paused simulcast layer) lost nothing: without this its
      // "expected" wrapped to 65 536 and the estimate collapsed to the floor.
      if (s.received > 0) expected += ((s.highest - s.expectedBase) & 0xffff) + 1;
      received += s.received;
      s.expectedBase = (s.highest + 1) & 0xffff;
      s.received = 0;
    }
    const loss = expected > 0 ? Math.max(0, (expected - received) / expected) : 0;
    this.bytes = 0;
    this.windowStart = nowMs;
    this.lastRateBps = rate;
    this.lastLoss = loss;
    if (rate > 0) {
      // Room to grow while the link is clean; hold on moderate loss; back off on heavy loss.
      // Clean: keep growing (about 10 % a second) even when the sender stays below the estimate — a
      // simulcast publisher turns its top layer on only once the estimate covers it, so 1.5 × the
      // current rate alone would never let it get there.
      if (loss < 0.02) this.estimate = Math.max(this.estimate * 1.1, rate * 1.5);
      else if (loss < 0.1) this.estimate = rate;
      else this.estimate = rate * (1 - 0.5 * loss);
    }
    this.estimate = Math.min(Math.max(this.estimate, this.limits.minBps), this.limits.maxBps);
    return Math.round(this.estimate);
  }
}

/** Builds an RTCP REMB packet (18-bit mantissa, 6-bit exponent). */
export function rembPacket(senderSsrc: number, mediaSsrcs: number[], bitrateBps: number): RtcpPayloadSpecificFeedback {
  let mantissa = Math.max(0, Math.floor(bitrateBps));
  let exp = 0;
  while (mantissa >= 1 << 18) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  return new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({
      senderSsrc, mediaSsrc: 0, ssrcNum: mediaSsrcs.length, brExp: exp, brMantissa: mantissa,
      bitrate: BigInt(mantissa) << BigInt(exp), ssrcFeedbacks: mediaSsrcs,
    }),
  });
}
