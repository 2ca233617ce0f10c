// Each subscriber sees one continuous RTP stream even when its source changes (a simulcast layer
// switch, a publisher that reconnects, a relay that re-pulls): sequence numbers and timestamps are
// rewritten per subscriber so the browser's jitter buffer never sees a jump backwards.

export interface RewrittenHeader {
  sequenceNumber: number;
  timestamp: number;
}

/** Further than this either way is not loss or reordering but a restart of the numbering. */
const MAX_SEQ_JUMP = 3000;

export class RtpRewriter {
  private source: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastOutSeq: number | undefined;
  private lastOutTs: number | undefined;
  private lastOutAtMs = 0;
  private lastInSeq: number | undefined;

  constructor(private readonly clockRate: number) {}

  /**
   * The sender skipped packets of the current source on purpose (audio-only rung, waiting for a
   * keyframe): the next packet continues right after the last one sent, so the receiver does not count
   * the skipped packets as loss (which would pull the ladder down again).
   */
  discontinue(): void {
    this.source = undefined;
  }

  /** Maps one packet of `source` (an SSRC, or any key naming the stream) onto the output stream. */
  rewrite(source: number, seq: number, ts: number, nowMs: number): RewrittenHeader {
    // The same source jumping far in its sequence numbers restarted them (a publisher or relay that came
    // back with the same SSRC, a looped capture): sent on as they are they would go backwards, and the
    // receiver would drop everything as old until they caught up.
    const jump = this.lastInSeq === undefined ? 0 : (seq - this.lastInSeq) & 0xffff;
    if (source === this.source && jump > MAX_SEQ_JUMP && jump < 0x10000 - MAX_SEQ_JUMP) this.source = undefined;
    this.lastInSeq = seq;
    if (source !== this.source) {
      this.source = source;
      if (this.lastOutSeq === undefined || this.lastOutTs === undefined) {
        this.seqOffset = 0;
        this.tsOffset = 0;
      } else {
        // Continue right after the last packet sent; advance the timestamp by the wall time that passed.
        const elapsedTicks = Math.max(1, Math.round(((nowMs - this.lastOutAtMs) * this.clockRate) / 1000));
        this.seqOffset = (this.lastOutSeq + 1 - seq) & 0xffff;
        this.tsOffset = (this.lastOutTs + elapsedTicks - ts) >>> 0;
      }
    }
    const out = { sequenceNumber: (seq + this.seqOffset) & 0xffff, timestamp: (ts + this.tsOffset) >>> 0 };
    if (this.lastOutSeq === undefined || seqNewer(out.sequenceNumber, this.lastOutSeq)) {
      this.lastOutSeq = out.sequenceNumber;
      this.lastOutTs = out.timestamp;
      this.lastOutAtMs = nowMs;
    }
    return out;
  }
}

/** True when a is after b in 16-bit sequence space. */
export function seqNewer(a: number, b: number): boolean {
  return a !== b && ((a - b) & 0xffff) < 0x8000;
}
