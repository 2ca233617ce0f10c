import { PictureLossIndication, RtcpPayloadSpecificFeedback, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import { isKeyframe } from './keyframe.js';
import { ReceiveRateEstimator, rembPacket, type RembLimits } from './remb.js';

/** What a room receives from its source: video per simulcast layer ('' when not simulcast) and audio. */
export interface IngestSink {
  video(layer: string, pkt: RtpPacket, keyframe: boolean): void;
  audio(pkt: RtpPacket): void;
}

/** Anything a room can take its media from: a WHIP publisher, a relay pull, a plain-RTP feed. */
export interface MediaSource {
  readonly videoMime: string | undefined;
  readonly lastPacketAt: number;
  setSink(sink: IngestSink | undefined): void;
  layers(): string[];
  /** Measured bitrate per layer (empty when unknown). */
  layerRates(): ReadonlyMap<string, number>;
  requestKeyframe(layer?: string): void;
  stats(): SourceStats;
  close(): Promise<void>;
}

export interface SourceStats {
  rateBps: number;
  loss: number;
  rembBps: number;
  layers: string[];
}

export interface IngestOptions {
  remb: RembLimits;
  /** Minimum time between two keyframe requests for one layer. */
  pliIntervalMs: number;
  /** Told of every keyframe request sent (the box's PLI counter). */
  onPli?: () => void;
}

/**
 * The receiving side of one peer connection (a WHIP publisher on the box, or the box's own WHEP pull
 * from its hub). It owns the REMB loop and keyframe requests towards whoever sends to it.
 */
export class IngestPeer implements MediaSource {
  private sink: IngestSink | undefined;
  private videoTransceiver: RTCRtpTransceiver | undefined;
  private readonly layerSsrc = new Map<string, number>();
  private readonly lastPli = new Map<string, number>();
  private readonly pendingPli = new Set<string>();
  private readonly rate: ReceiveRateEstimator;
  private readonly layerBytes = new Map<string, number>();
  private layerWindowStart = Date.now();
  private readonly layerBps = new Map<string, number>();
  private rembTimer: NodeJS.Timeout | undefined;
  private closed = false;
  videoMime: string | undefined;
  private videoPt = -1;
  lastPacketAt = 0;
  packets = 0;
  lastRembBps = 0;
  plisSent = 0;

  constructor(readonly pc: RTCPeerConnection, private readonly o: IngestOptions) {
    this.rate = new ReceiveRateEstimator(o.remb, Date.now());
    pc.onTransceiverAdded.subscribe((t) => this.watch(t));
    for (const t of pc.getTransceivers()) this.watch(t);
    this.rembTimer = setInterval(() => this.sendRemb(), 1000);
  }

  setSink(sink: IngestSink | undefined): void {
    this.sink = sink;
  }

  layers(): string[] {
    return [...this.layerSsrc.keys()];
  }

  private watch(t: RTCRtpTransceiver): void {
    t.onTrack.subscribe((track) => this.onTrack(t, track));
  }

  private onTrack(t: RTCRtpTransceiver, track: MediaStreamTrack): void {
    if (t.kind === 'video') this.videoTransceiver = t;
    const layer = track.rid ?? '';
    track.onReceiveRtp.subscribe((pkt) => {
      if (this.closed || pkt.payload.length === 0) return; // padding-only probes carry no media
      this.lastPacketAt = Date.now();
      this.packets++;
      if (t.kind === 'audio') {
        this.sink?.audio(pkt);
        return;
      }
      this.rate.onPacket(pkt.header.ssrc, pkt.header.sequenceNumber, pkt.payload.length + 12);
      this.layerBytes.set(layer, (this.layerBytes.get(layer) ?? 0) + pkt.payload.length + 12);
      if (this.layerSsrc.get(layer) !== pkt.header.ssrc) {
        this.layerSsrc.set(layer, pkt.header.ssrc);
        this.pendingPli.delete(layer);
      }
      if (pkt.header.payloadType !== this.videoPt) {
        // The sender may switch between negotiated codecs (a relay whose hub room changed publisher).
        this.videoPt = pkt.header.payloadType;
        this.videoMime = t.codecs.find((c) => c.payloadType === this.videoPt)?.mimeType.toLowerCase();
      }
      const key = this.videoMime ? isKeyframe(this.videoMime, pkt.payload) : false;
      if (this.pendingPli.has(layer)) {
        this.pendingPli.delete(layer);
        this.requestKeyframe(layer);
      }
      this.sink?.video(layer, pkt, key);
    });
  }

  /** Asks the sender for a keyframe of one layer (all when omitted), at most once per pliIntervalMs. */
  requestKeyframe(layer?: string): void {
    if (this.closed) return;
    const receiver = this.videoTransceiver?.receiver;
    const targets = layer === undefined ? [...this.layerSsrc.keys()] : [layer];
    for (const l of targets) {
      const ssrc = this.layerSsrc.get(l);
      if (ssrc === undefined || !receiver) {
        this.pendingPli.add(l); // asked before the first packet: ask as soon as its SSRC is known
        continue;
      }
      const now = Date.now();
      if (now - (this.lastPli.get(l) ?? 0) < this.o.pliIntervalMs) continue;
      this.lastPli.set(l, now);
      // Sent directly, with sender SSRC 1 as Chromium does for receive-only streams: werift routes a
      // PLI by its sender SSRC first, and a werift peer knows ours as one of its receivers, so the PLI
      // would never reach the sender it is meant for.
      const pli = new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: ssrc }) });
      this.plisSent++;
      this.o.onPli?.();
      receiver.dtlsTransport.sendRtcp([pli]).catch(() => undefined);
    }
  }

  /** Measured bitrate of each simulcast layer over the last second. */
  layerRates(): ReadonlyMap<string, number> {
    return this.layerBps;
  }

  private sendRemb(): void {
    const now = Date.now();
    const secs = Math.max(0.05, (now - this.layerWindowStart) / 1000);
    for (const [l, b] of this.layerBytes) this.layerBps.set(l, (b * 8) / secs);
    this.layerBytes.clear();
    this.layerWindowStart = now;
    const receiver = this.videoTransceiver?.receiver;
    const bps = this.rate.update(Date.now());
    if (!receiver || this.layerSsrc.size === 0 || this.pc.connectionState !== 'connected') return;
    this.lastRembBps = bps;
    receiver.dtlsTransport.sendRtcp([rembPacket(receiver.rtcpSsrc, [...this.layerSsrc.values()], bps)]).catch(() => undefined);
  }

  stats(): SourceStats {
    return { rateBps: Math.round(this.rate.lastRateBps), loss: this.rate.lastLoss, rembBps: this.lastRembBps, layers: this.layers() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sink = undefined;
    clearInterval(this.rembTimer);
    await this.pc.close();
  }
}
