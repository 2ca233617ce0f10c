import { GenericNack, RtcpTransportLayerFeedback, type RTCRtpSender, type RtcpPacket } from 'werift';

// werift answers every NACK by sending again every packet it names, and werift as a receiver (the
// teaching point's pull, the hub's intake of a teaching point) repeats its NACK every 5 ms, up to ten
// times, while a packet is missing. On a thin link that is what turns a little congestion into a lot:
// each lost packet goes out up to ten more times into the very queue that dropped it, and the audio
// behind it is lost too. This lets a packet go again only once per round trip (at least 100 ms).
// On a ladder link two more limits apply. A step down (720p → 180p on a 300 kbit/s link) follows a
// burst of loss, and the receiver then asks for dozens of old-layer packets: ~50 KB, 1.4 s of that
// link, that no one will decode once the new layer's keyframe is in. So nothing from before the
// current layer's first packet goes again, and resends share a byte budget (libwebrtc likewise keeps
// retransmissions within its send-rate estimate).

const SLOTS = 128; // werift keeps the last 128 packets for retransmission: older ones are gone anyway
const MIN_GAP_MS = 100;
const MAX_GAP_MS = 500;
/** The budget bucket holds this much (ms of the budget rate): a few lost packets go at once. */
const BUDGET_DEPTH_MS = 300;

export interface NackGuard {
  /** Retransmissions let through / held back as repeats, as useless, or over budget. */
  resent: number;
  suppressed: number;
  resentBytes: number;
}

export interface RetransmitPolicy {
  /** True: nothing may be resent (this link's video is off). */
  skipAll?: () => boolean;
  /** The outgoing sequence number the current video layer started at (undefined: no cut-off). */
  firstUseful?: () => number | undefined;
  /** Bytes per second resends may take (undefined or ≤ 0: no budget). */
  budgetBytesPerSec?: () => number | undefined;
  /** Told the bytes of what is let through (to count them as sent). */
  onResent?: (bytes: number) => void;
}

/** a precedes b in 16-bit sequence space. */
const before = (a: number, b: number) => a !== b && ((b - a) & 0xffff) < 0x8000;

/** Wraps the sender's RTCP handling (see the comment at the top of this file). */
export function guardRetransmissions(sender: RTCRtpSender, p0: RetransmitPolicy = {}): NackGuard {
  const seqs = new Int32Array(SLOTS).fill(-1);
  const times = new Float64Array(SLOTS);
  const stats: NackGuard = { resent: 0, suppressed: 0, resentBytes: 0 };
  let tokens = 0;
  let tokensAt = Date.now();
  // werift's retransmission cache (rtpSender.js rtpCache, by seq % 128): the packet's size for the budget.
  const cache = () => (sender as unknown as { rtpCache?: Array<{ payload?: { length: number } } | undefined> }).rtpCache;
  const handle = sender.handleRtcpPacket.bind(sender);
  sender.handleRtcpPacket = (p: RtcpPacket) => {
    if (p.type === RtcpTransportLayerFeedback.type && (p as RtcpTransportLayerFeedback).feedback.count === GenericNack.count) {
      const nack = (p as RtcpTransportLayerFeedback).feedback as GenericNack;
      const now = Date.now();
      // werift's private smoothed RTT from RR/SR, in seconds.
      const rtt = (sender as unknown as { rtt?: number }).rtt;
      const gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, rtt === undefined ? 0 : rtt * 1500));
      const skip = p0.skipAll?.() ?? false;
      const first = p0.firstUseful?.();
      const budget = p0.budgetBytesPerSec?.() ?? 0;
      if (budget > 0) {
        tokens = Math.min((budget * BUDGET_DEPTH_MS) / 1000, tokens + ((now - tokensAt) * budget) / 1000);
      }
      tokensAt = now;
      const asked = nack.lost.length;
      let bytes = 0;
      nack.lost = nack.lost.filter((seq) => {
        if (skip || (first !== undefined && before(seq, first))) return false;
        const i = seq % SLOTS;
        if (seqs[i] === seq && now - times[i]! < gap) return false;
        const size = (cache()?.[i]?.payload?.length ?? 0) + 12;
        if (budget > 0) {
          if (tokens < size) return false;
          tokens -= size;
        }
        seqs[i] = seq;
        times[i] = now;
        bytes += size;
        return true;
      });
      if (bytes > 0) p0.onResent?.(bytes);
      stats.resent += nack.lost.length;
      stats.resentBytes += bytes;
      stats.suppressed += asked - nack.lost.length;
    }
    handle(p);
  };
  return stats;
}
