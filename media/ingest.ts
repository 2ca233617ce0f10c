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
  /** Minimum time between two keyframe requests for one layer while the last one is unanswered. */
  pliIntervalMs: number;
  /**
   * Minimum time between two requests once the last one was answered by a keyframe (a subscriber that
   * joined and then connected needs a second keyframe: the first one reached it before its SRTP was up).
   * Chromium ignores a keyframe request within 300 ms of the previous one, so less than that is wasted.
   */
  pliAnsweredGapMs?: number;
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
  /** Layers whose last keyframe request has been answered by a keyframe. */
  private readonly answered = new Set<string>();
  /** Requests held back by the rate limit: sent when it allows, dropped if a keyframe comes first. */
  private readonly deferredPli = new Map<string, NodeJS.Timeout>();
  private readonly pendingPli = new Set<string>();
  /** Asked for every layer before any video came: asked again when the first does. */
  private pendingAll = false;
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
      // A request made before the layer's SSRC was known is sent now (it stays asked: the join's request).
      if (this.layerSsrc.get(layer) !== pkt.header.ssrc) this.layerSsrc.set(layer, pkt.header.ssrc);
      if (pkt.header.payloadType !== this.videoPt) {
        // The sender may switch between negotiated codecs (a relay whose hub room changed publisher).
        this.videoPt = pkt.header.payloadType;
        this.videoMime = t.codecs.find((c) => c.payloadType === this.videoPt)?.mimeType.toLowerCase();
      }
      const key = this.videoMime ? isKeyframe(this.videoMime, pkt.payload) : false;
      if (key) this.keyframeArrived(layer);
      if (this.pendingAll) {
        this.pendingAll = false;
        this.pendingPli.add(layer);
      }
      if (this.pendingPli.has(layer)) {
        this.pendingPli.delete(layer);
        this.requestKeyframe(layer);
      }
      this.sink?.video(layer, pkt, key);
    });
  }

  /**
   * Asks the sender for a keyframe of one layer (all when omitted). Rate-limited per layer: at most one
   * per pliIntervalMs while the last is unanswered, one per pliAnsweredGapMs once a keyframe answered it;
   * a request inside the limit is sent when the limit ends, unless a keyframe arrives first.
   */
  requestKeyframe(layer?: string): void {
    if (this.closed) return;
    const receiver = this.videoTransceiver?.receiver;
    const targets = layer === undefined ? [...this.layerSsrc.keys()] : [layer];
    if (targets.length === 0) this.pendingAll = true;
    for (const l of targets) {
      const ssrc = this.layerSsrc.get(l);
      if (ssrc === undefined || !receiver) {
        this.pendingPli.add(l); // asked before the first packet: ask as soon as its SSRC is known
        continue;
      }
      const now = Date.now();
      const last = this.lastPli.get(l);
      const gap = this.answered.has(l) ? (this.o.pliAnsweredGapMs ?? this.o.pliIntervalMs) : this.o.pliIntervalMs;
      if (last !== undefined && now - last < gap) {
        if (!this.deferredPli.has(l)) {
          const t = setTimeout(() => {
            this.deferredPli.delete(l);
            this.requestKeyframe(l);
          }, last + gap - now);
          t.unref();
          this.deferredPli.set(l, t);
        }
        continue;
      }
      this.cancelDeferred(l);
      this.lastPli.set(l, now);
      this.answered.delete(l);
      // Sent directly, with sender SSRC 1 as Chromium does for receive-only streams: werift routes a
      // PLI by its sender SSRC first, and a werift peer knows ours as one of its receivers, so the PLI
      // would never reach the sender it is meant for.
      const pli = new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: ssrc }) });
      this.plisSent++;
      this.o.onPli?.();
      receiver.dtlsTransport.sendRtcp([pli]).catch(() => undefined);
    }
  }

  private keyframeArrived(layer: string): void {
    this.answered.add(layer);
    this.cancelDeferred(layer); // the held-back request wanted a keyframe after it: this one serves
  }

  private cancelDeferred(layer: string): void {
    const t = this.deferredPli.get(layer);
    if (t === undefined) return;
    clearTimeout(t);
    this.deferredPli.delete(layer);
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
    for (const t of this.deferredPli.values()) clearTimeout(t);
    this.deferredPli.clear();
    await this.pc.close();
  }
}
