import type { EgressPeer } from './egress.js';
import type { MediaSource } from './ingest.js';
import type { RtpPacket } from 'werift';

export interface RoomTap {
  video(layer: string, layers: string[], pkt: RtpPacket, keyframe: boolean, mime: string | undefined): void;
  audio(pkt: RtpPacket): void;
}

/** Packets and bytes a box's rooms took in from their sources and sent out to subscribers (for /metrics). */
export interface Traffic {
  inPackets: number;
  inBytes: number;
  outPackets: number;
  outBytes: number;
}

export function newTraffic(): Traffic {
  return { inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0 };
}

/** One live stream on a box: at most one source (publisher or relay pull) fanned out to its subscribers. */
export class Room {
  private source: MediaSource | undefined;
  private readonly subs = new Set<EgressPeer>();
  /** Read-only listeners of the source's packets (the recorder); they never change what subscribers get. */
  readonly taps = new Set<RoomTap>();

  constructor(readonly name: string, private readonly traffic: Traffic = newTraffic()) {}

  get publisher(): MediaSource | undefined {
    return this.source;
  }

  get subscribers(): ReadonlySet<EgressPeer> {
    return this.subs;
  }

  get videoCodec(): string | undefined {
    return this.source?.videoMime;
  }

  get empty(): boolean {
    return !this.source && this.subs.size === 0 && this.taps.size === 0;
  }

  /** Makes `peer` the source; returns the one it replaces (the caller closes it). */
  setSource(peer: MediaSource): MediaSource | undefined {
    const old = this.source;
    old?.setSink(undefined);
    this.source = peer;
    for (const s of this.subs) s.resetSource();
    peer.setSink({
      video: (layer, pkt, key) => {
        const layers = peer.layers();
        const size = pkt.payload.length + 12;
        const t = this.traffic;
        t.inPackets++;
        t.inBytes += size;
        // Once per packet, not per subscriber: a source builds a new Map per call.
        const rates = this.subs.size > 0 ? peer.layerRates() : undefined;
        for (const s of this.subs) {
          const before = s.sentVideo;
          s.forwardVideo(layer, layers, pkt, key, peer.videoMime, rates);
          if (s.sentVideo !== before) {
            t.outPackets++;
            t.outBytes += size;
          }
        }
        for (const t of this.taps) t.video(layer, layers, pkt, key, peer.videoMime);
      },
      audio: (pkt) => {
        const size = pkt.payload.length + 12;
        const t = this.traffic;
        t.inPackets++;
        t.inBytes += size;
        for (const s of this.subs) {
          const before = s.sentAudio;
          s.forwardAudio(pkt);
          if (s.sentAudio !== before) {
            t.outPackets++;
            t.outBytes += size;
          }
        }
        for (const t of this.taps) t.audio(pkt);
      },
    });
    if (this.subs.size > 0) peer.requestKeyframe();
    return old;
  }

  removeSource(peer: MediaSource): void {
    if (this.source !== peer) return;
    peer.setSink(undefined);
    this.source = undefined;
  }

  addSubscriber(sub: EgressPeer): void {
    this.subs.add(sub);
    sub.onKeyframeNeeded = (layer) => this.source?.requestKeyframe(layer);
    // A peer still connecting asks when its SRTP is up (EgressPeer, onReady): a keyframe asked for now
    // reaches the box before then and is dropped, and the publisher then ignores the next request for
    // 300 ms (Chromium), which held a new screen's first picture back ~200 ms.
    if (sub.pc.connectionState === 'connected') this.source?.requestKeyframe();
  }

  removeSubscriber(sub: EgressPeer): void {
    this.subs.delete(sub);
  }
}
