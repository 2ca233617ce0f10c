import type { RTCRtpCodecParameters, RTCRtpSender } from 'werift';

/**
 * Points a werift sender at the negotiated codec matching `mime`, so one subscriber that negotiated
 * VP8 and H.264 (it joined before the room had a source) gets whichever the source sends: werift
 * stamps every packet with `sender.codec.payloadType`. False when that codec was not negotiated.
 */
export function useCodecFor(sender: RTCRtpSender, negotiated: readonly RTCRtpCodecParameters[], mime: string): boolean {
  if (sender.codec?.mimeType.toLowerCase() === mime) return true;
  const codec = negotiated.find((c) => c.mimeType.toLowerCase() === mime);
  if (!codec) return false;
  sender.codec = codec;
  return true;
}
