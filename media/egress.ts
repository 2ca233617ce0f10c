import { RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpSender } from 'werift';
import { RtpRewriter } from './rtp-rewriter.js';

/** Picks the simulcast layer to forward: the wanted one if present, else the best present. */
export function chooseLayer(available: string[], wanted: string | undefined): string | undefined {
  if (available.length === 0) return undefined;
  if (wanted !== undefined && available.includes(wanted)) return wanted;
  // Chromium names layers by rid; order "h" > "f" > "m" > "l" > "q" > "" when several are there.
  const rank = (r: string) => ['q', 'l', 'm', 'h', 'f'].indexOf(r);
  return [...available].sort((a, b) => rank(b) - rank(a))[0];
}

/**
 * The layer that fits a subscriber's bandwidth estimate (its REMB): the best layer whose measured
 * rate stays under 85 % of the estimate, else the smallest. Without an estimate: the best layer.
 */
export function layerForBudget(rates: ReadonlyMap<string, number>, available: string[], budgetBps: number): string | undefined {
  if (available.length === 0) return undefined;
  if (budgetBps <= 0 || available.length === 1) return chooseLayer(available, undefined);
  const byRate = available.map((l) => ({ l, bps: rates.get(l) ?? 0 })).sort((a, b) => a.bps - b.bps);
  const fitting = byRate.filter((x) => x.bps <= budgetBps * 0.85);
  return (fitting.at(-1) ?? byRate[0])!.l;
}

/**
 * The sending side of one peer connection (a WHEP subscriber on the box, or the box's own WHIP push
 * to its hub). Every packet is copied and rewritten for this peer alone: werift rewrites packets in
 * place and keeps them for retransmission, so one packet must never go to two senders.
 */
export class EgressPeer {
  private videoSender: RTCRtpSender | undefined;
  private audioSender: RTCRtpSender | undefined;
  private readonly video = new RtpRewriter(90_000);
  private readonly audio = new RtpRewriter(48_000);
  private currentLayer: string | undefined;
  private closed = false;
  wantedLayer: string | undefined;
  videoMime: string | undefined;
  sentVideo = 0;
  sentAudio = 0;
  plisReceived = 0;
  /** Called when this peer needs a keyframe (joined, layer switch, its browser sent PLI). */
  onKeyframeNeeded: (layer: string | undefined) => void = () => undefined;

  constructor(readonly pc: RTCPeerConnection, wantedLayer?: string) {
    this.wantedLayer = wantedLayer;
  }

  /** Binds the negotiated senders; call after the offer/answer exchange. */
  bind(): void {
    for (const t of this.pc.getTransceivers()) {
      if (t.kind === 'video' && !this.videoSender) {
        this.videoSender = t.sender;
        this.videoMime = t.codecs[0]?.mimeType.toLowerCase();
        t.sender.onPictureLossIndication.subscribe(() => {
          this.plisReceived++;
          this.onKeyframeNeeded(this.currentLayer);
        });
      } else if (t.kind === 'audio' && !this.audioSender) {
        this.audioSender = t.sender;
      }
    }
  }

  /** The source changed (new publisher, re-pulled relay): hold video until its next keyframe. */
  resetSource(): void {
    this.currentLayer = undefined;
  }

  forwardVideo(layer: string, available: string[], pkt: RtpPacket, keyframe: boolean, mime: string | undefined, rates?: ReadonlyMap<string, number>): void {
    if (this.closed || !this.videoSender) return;
    if (mime && this.videoMime && mime !== this.videoMime) return; // negotiated another codec: cannot carry it
    const target = this.wantedLayer !== undefined || !rates || available.length < 2 ? chooseLayer(available, this.wantedLayer) : this.autoLayer(available, rates);
    if (target !== undefined && target !== this.currentLayer && layer === target) {
      // Switch (or start) only on a keyframe of the new layer; until then the old layer goes on.
      if (keyframe) this.currentLayer = target;
      else this.onKeyframeNeeded(target);
    }
    if (this.currentLayer === undefined || layer !== this.currentLayer) return;
    this.send(this.videoSender, this.video, pkt);
    this.sentVideo++;
  }

  private autoTarget: string | undefined;
  private autoCheckedAt = 0;
  private upVotes = 0;

  /** Follows the subscriber's REMB once a second: down as soon as the layer no longer fits, up after 3 s of headroom. */
  private autoLayer(available: string[], rates: ReadonlyMap<string, number>): string | undefined {
    const now = Date.now();
    if (this.autoTarget !== undefined && available.includes(this.autoTarget) && now - this.autoCheckedAt < 1000) return this.autoTarget;
    this.autoCheckedAt = now;
    const budget = Number(this.videoSender?.receiverEstimatedMaxBitrate ?? 0n);
    const fit = layerForBudget(rates, available, budget);
    const rate = (l: string | undefined) => (l === undefined ? -1 : rates.get(l) ?? 0);
    if (this.autoTarget === undefined || !available.includes(this.autoTarget)) {
      // Start optimistic (a LAN screen wants the best layer); the estimate pulls it down if needed.
      this.autoTarget = chooseLayer(available, undefined);
      this.upVotes = 0;
    } else if (budget > 0 && rate(this.autoTarget) > budget * 0.85) {
      this.autoTarget = fit;
      this.upVotes = 0;
    } else if (rate(fit) > rate(this.autoTarget)) {
      if (++this.upVotes >= 3) {
        this.autoTarget = fit;
        this.upVotes = 0;
      }
    } else this.upVotes = 0;
    return this.autoTarget;
  }

  forwardAudio(pkt: RtpPacket): void {
    if (this.closed || !this.audioSender) return;
    this.send(this.audioSender, this.audio, pkt);
    this.sentAudio++;
  }

  private send(sender: RTCRtpSender, rw: RtpRewriter, pkt: RtpPacket): void {
    const h = pkt.header;
    const { sequenceNumber, timestamp } = rw.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, Date.now());
    // A fresh header per peer without the publisher's extensions (their ids may collide with ours).
    const copy = new RtpPacket(new RtpHeader({ marker: h.marker, payloadType: h.payloadType, sequenceNumber, timestamp, ssrc: h.ssrc }), pkt.payload);
    sender.sendRtp(copy).catch(() => undefined);
  }

  get layer(): string | undefined {
    return this.currentLayer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pc.close();
  }
}
