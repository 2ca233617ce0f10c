import { GenericNack, RtcpTransportLayerFeedback, type RTCRtpSender, type RtcpPacket } from 'werift';

// werift answers every NACK by sending again every packet it names, and werift as a receiver (the
// teaching point's pull, the hub's intake of a teaching point) repeats its NACK every 5 ms, up to ten
// times, while a packet is missing. On a thin link that is what turns a little congestion into a lot:
// each lost packet goes out up to ten more times into the very queue that dropped it, and the audio
// behind it is lost too. This lets a packet go again only once per round trip (at least 100 ms).

const SLOTS = 128; // werift keeps the last 128 packets for retransmission: older ones are gone anyway
const MIN_GAP_MS = 100;
const MAX_GAP_MS = 500;

export interface NackGuard {
  /** Retransmissions let through / held back as repeats. */
  resent: number;
  suppressed: number;
}

/** Wraps the sender's RTCP handling; `skipAll()` true means nothing may be resent (its video is off). */
export function guardRetransmissions(sender: RTCRtpSender, skipAll: () => boolean = () => false): NackGuard {
  const seqs = new Int32Array(SLOTS).fill(-1);
  const times = new Float64Array(SLOTS);
  const stats: NackGuard = { resent: 0, suppressed: 0 };
  const handle = sender.handleRtcpPacket.bind(sender);
  sender.handleRtcpPacket = (p: RtcpPacket) => {
    if (p.type === RtcpTransportLayerFeedback.type && (p as RtcpTransportLayerFeedback).feedback.count === GenericNack.count) {
      const nack = (p as RtcpTransportLayerFeedback).feedback as GenericNack;
      const now = Date.now();
      // werift's private smoothed RTT from RR/SR, in seconds.
      const rtt = (sender as unknown as { rtt?: number }).rtt;
      const gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, rtt === undefined ? 0 : rtt * 1500));
      const skip = skipAll();
      const before = nack.lost.length;
      nack.lost = nack.lost.filter((seq) => {
        if (skip) return false;
        const i = seq % SLOTS;
        if (seqs[i] === seq && now - times[i]! < gap) return false;
        seqs[i] = seq;
        times[i] = now;
        return true;
      });
      stats.resent += nack.lost.length;
      stats.suppressed += before - nack.lost.length;
    }
    handle(p);
  };
  return stats;
}
