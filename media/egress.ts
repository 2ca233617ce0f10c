import { RtcpRrPacket, RtcpSrPacket, RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpCodecParameters, type RTCRtpSender, type RtcpPacket } from 'werift';
import { useCodecFor } from './codec-switch.js';
import type { Rung } from '../core/contract/lesson.js';
import { Ladder, layersByRung, vp8KeyframeSize, type LadderOptions } from './ladder.js';
import { RtpRewriter } from './rtp-rewriter.js';
import { guardRetransmissions, type NackGuard } from './nack-guard.js';
import { Pacer } from './pacer.js';
import { sendPathOf } from './rtp-send-path.js';

/** Loss in one receiver report at or above which the ladder decides at once (random loss of a few % never reaches it). */
const URGENT_LOSS = 0.3;
const URGENT_ASSUMED_LOSS = 0.6;
/** How far back a receiver report may reach (werift sends one every 0.5–1.5 s), with some margin. */
const REPORT_SPAN_MS = 1600;
/** Video not seen for this long is no longer on offer (the teacher's camera went off). */
const NO_VIDEO_MS = 3000;

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
  /** The layer this peer would take, seen while its transport was not up yet. */
  private targetBeforeReady: string | undefined;
  private closed = false;
  wantedLayer: string | undefined;
  videoMime: string | undefined;
  private videoCodecs: RTCRtpCodecParameters[] = [];
  sentVideo = 0;
  sentAudio = 0;
  plisReceived = 0;
  /** Called when this peer needs a keyframe (joined, layer switch, its browser sent PLI). */
  onKeyframeNeeded: (layer: string | undefined) => void = () => undefined;

  /** On a hub: the teaching point's lesson link (its box id) follows the bandwidth ladder instead of REMB. */
  readonly ladder: Ladder | undefined;
  private ladderTimer: NodeJS.Timeout | undefined;
  private ladderTarget: string | undefined;
  private ladderReady = false;
  /**
   * When the first packet went out that the receiver has not answered with RTCP yet (undefined: it has
   * had nothing to answer). A werift receiver (a teaching point's pull) sends no RTCP before its first
   * packet, so quiet before any media is no outage: counting it one put the link 'offline' 3 s after a
   * pull came up ahead of the publisher, and a video-only source then stayed gated there for good.
   */
  private unansweredSince: number | undefined;
  private lossReports: Array<{ at: number; frac: number }> = [];
  /** Per ladder tick: video packets sent and distinct ones the receiver asked again for (NACK). */
  private nackWindow: Array<{ at: number; sent: number; nacked: number }> = [];
  private readonly nackedNow = new Set<number>();
  private sentVideoAtTick = 0;
  /** Bytes sent per 100 ms, the last 1.5 s: the rate a loss report is set against, whenever it comes. */
  private sentLog: Array<{ at: number; video: number; audio: number }> = [];
  private readonly bornAt = Date.now();
  readonly nackGuards: NackGuard[] = [];
  /** On a ladder link: video waits its turn so a keyframe does not hold up the audio on the WAN. */
  readonly pacer: Pacer | undefined;
  private lastRung: Rung | undefined;
  private rungChangedAt = 0;
  private readonly layerHeights = new Map<string, number>();
  private lastAvailable: string[] = [];
  /** When video was last on offer (a ladder link): after NO_VIDEO_MS without, none is. */
  private lastVideoAt = 0;
  private codecCheckedFor: string | undefined;
  private codecChecked: RTCRtpSender['codec'] | undefined;
  private lastRates: ReadonlyMap<string, number> = new Map();
  ladderUpdatedAt = Date.now();
  /** The outgoing sequence number of the current layer's first packet: older video is not resent. */
  private videoFirstUseful: number | undefined;
  /** On a ladder link, bytes per second resent video may take: a quarter of what the rung needs. */
  private retransmitBudget: number | undefined;

  constructor(readonly pc: RTCPeerConnection, wantedLayer?: string, readonly linkOf?: string, ladderOptions?: Partial<LadderOptions>) {
    this.wantedLayer = wantedLayer;
    if (linkOf !== undefined && wantedLayer === undefined) {
      this.ladder = new Ladder(Date.now(), '720p', ladderOptions);
      // Old video thrown away: the picture can only resume from a keyframe.
      this.pacer = new Pacer(() => this.onKeyframeNeeded(this.currentLayer));
      this.ladderTimer = setInterval(() => this.ladderTick(), 1000);
      this.ladderTimer.unref();
    }
  }

  /** Binds the negotiated senders; call after the offer/answer exchange. */
  bind(): void {
    for (const t of this.pc.getTransceivers()) {
      // werift books every sent packet for a transport-cc estimate; the box never negotiates
      // transport-cc and nothing reads the estimate, so that per-packet work is skipped.
      (t.sender.senderBWE as { rtpPacketSent: (info: unknown) => void }).rtpPacketSent = () => undefined;
      // On a link following the ladder, video lost while the rung is audio-only is not worth sending again.
      const video = t.kind === 'video';
      this.nackGuards.push(guardRetransmissions(t.sender, {
        skipAll: () => video && this.ladder !== undefined && this.ladderTarget === undefined,
        firstUseful: () => (video ? this.videoFirstUseful : undefined),
        budgetBytesPerSec: () => (video ? this.retransmitBudget : undefined),
        // Resends take the link too: left out of the sent rate, their share of it looked like loss.
        onResent: (bytes) => this.ladder && this.noteSent(bytes, video ? 'video' : 'audio', Date.now()),
      }));
      if (t.kind === 'video' && !this.videoSender) {
        this.videoSender = t.sender;
        this.videoMime = t.codecs[0]?.mimeType.toLowerCase();
        this.videoCodecs = t.codecs;
        t.sender.onPictureLossIndication.subscribe(() => {
          this.plisReceived++;
          this.onKeyframeNeeded(this.currentLayer);
        });
        // DTLS and SRTP are up (werift drops what is sent before): the keyframe asked for at the join
        // has usually gone by then, so ask again, or the picture waits for the next periodic keyframe.
        t.sender.onReady.subscribe(() => {
          if (!this.closed) this.onKeyframeNeeded(this.currentLayer ?? this.targetBeforeReady);
        });
      } else if (t.kind === 'audio' && !this.audioSender) {
        this.audioSender = t.sender;
      }
    }
    if (this.ladder) {
      for (const sender of [this.videoSender, this.audioSender]) sender?.onRtcp.subscribe((p) => this.onFeedback(sender, p));
      // A receiver report counts a packet retransmitted in time as received, so RR loss hides a lossy
      // link; NACKs name every packet the link dropped.
      this.videoSender?.onGenericNack.subscribe((n) => { for (const seq of n.lost) this.nackedNow.add(seq); });
    }
  }

  private onFeedback(sender: RTCRtpSender, p: RtcpPacket): void {
    const now = Date.now();
    this.unansweredSince = undefined;
    if (p.type !== RtcpRrPacket.type && p.type !== RtcpSrPacket.type) return;
    for (const r of (p as RtcpRrPacket).reports) {
      if (r.ssrc !== sender.ssrc) continue;
      const frac = r.fractionLost / 256;
      const recent = this.lossReports.filter((x) => now - x.at <= 2500);
      const wasClean = recent.reduce((a, x) => a + x.frac, 0) < this.ladder!.o.congestionLoss * Math.max(1, recent.length);
      this.lossReports.push({ at: now, frac });
      // Sudden heavy loss (the teaching point's early alarm, or a report in the middle of it): the link
      // got thinner than the rung, and waiting for the next tick is what breaks the audio. Once the
      // reports already show it, the ticks decide on their mean.
      if (frac >= URGENT_LOSS && wasClean) this.ladderTick(frac);
    }
  }

  private noteSent(bytes: number, kind: 'video' | 'audio', now: number): void {
    let b = this.sentLog.at(-1);
    if (!b || now - b.at >= 100) {
      b = { at: now, video: 0, audio: 0 };
      this.sentLog.push(b);
      if (this.sentLog.length > 15) this.sentLog.shift();
    }
    b[kind] += bytes;
    this.unansweredSince ??= now;
  }

  /** Sent rate over the last second (over less only while the peer is younger). */
  private sentRates(now: number): { bps: number; audioBps: number } {
    const recent = this.sentLog.filter((b) => now - b.at < 1000);
    const secs = Math.max(0.2, Math.min(1, (now - this.bornAt) / 1000));
    const sum = (k: 'video' | 'audio') => recent.reduce((a, b) => a + b[k], 0);
    return { bps: ((sum('video') + sum('audio')) * 8) / secs, audioBps: (sum('audio') * 8) / secs };
  }

  /**
   * Once a second, and at once on heavy loss: what was sent, what the receiver reported lost, how long
   * since it said anything. `urgentLoss` is the report that called it: it counts in full, not averaged
   * with the clean reports from before the link got thinner.
   */
  private ladderTick(urgentLoss?: number): void {
    const ladder = this.ladder;
    if (!ladder || this.closed) return;
    const now = Date.now();
    const sent = this.sentRates(now);
    const sentBps = sent.bps;
    const audioBps = Math.max(40_000, sent.audioBps);
    this.lossReports = this.lossReports.filter((r) => now - r.at <= 2500);
    // A report covers up to 1.5 s before it was sent (werift's RR interval): one that came soon after a
    // step still counts the loss of the old rung, and would push the ladder a second step down.
    const current = this.lossReports.filter((r) => r.at - this.rungChangedAt >= REPORT_SPAN_MS);
    const meanLoss = current.length > 0 ? current.reduce((a, r) => a + r.frac, 0) / current.length : null;
    // An alarm is raised at 6 of 12 packets lost: it says the link got much thinner, not by how much. The
    // budget then assumes 40 % got through: enough to keep 180p when 720p meets 300 kbit/s, not so much
    // that 360p is tried there and a second step follows; the next ticks step further if needed.
    const rrLoss = urgentLoss === undefined ? meanLoss : Math.max(URGENT_ASSUMED_LOSS, meanLoss ?? 0);
    this.nackWindow.push({ at: now, sent: this.sentVideo - this.sentVideoAtTick, nacked: this.nackedNow.size });
    this.sentVideoAtTick = this.sentVideo;
    this.nackedNow.clear();
    this.nackWindow = this.nackWindow.filter((w) => now - w.at <= 2500);
    const sentRecent = this.nackWindow.reduce((a, w) => a + w.sent, 0);
    // Too few packets say nothing (audio-only rung, a still picture).
    const nackLoss = sentRecent >= 100 ? Math.min(1, this.nackWindow.reduce((a, w) => a + w.nacked, 0) / sentRecent) : null;
    // werift keeps the RTT from RR LSR/DLSR in a private field.
    const rttOf = (x: RTCRtpSender | undefined) => (x as unknown as { rtt?: number } | undefined)?.rtt;
    const rtt = rttOf(this.videoSender) ?? rttOf(this.audioSender);
    if (this.lastAvailable.length > 0 && now - this.lastVideoAt > NO_VIDEO_MS) this.lastAvailable = []; // the camera stopped
    const byRung = layersByRung(this.lastAvailable, this.lastRates, this.layerHeights);
    const needs: Partial<Record<Rung, number>> = {};
    for (const [r, l] of byRung) needs[r] = (this.lastRates.get(l) ?? 0) + audioBps;
    const rung = ladder.update({ now, feedbackAgeMs: this.unansweredSince === undefined ? 0 : now - this.unansweredSince, sentBps, loss: rrLoss, linkLoss: nackLoss, rttMs: rtt === undefined ? null : rtt * 1000, needs });
    if (rung !== this.lastRung) {
      this.lastRung = rung;
      this.rungChangedAt = now;
    }
    const previous = this.ladderTarget;
    this.ladderTarget = byRung.get(rung);
    // A step down: the old layer stops now, not at the new layer's keyframe. Asked for now, that keyframe
    // can take a second (the publisher's keyframe requests are rate-limited), and a second of 720p more on
    // a 300 kbit/s link is what broke the audio and drew a second step down. The picture holds meanwhile.
    const rate = (l: string | undefined) => (l === undefined ? 0 : this.lastRates.get(l) ?? 0);
    if (this.currentLayer !== undefined && this.currentLayer === previous && this.ladderTarget !== previous && rate(this.ladderTarget) < rate(previous)) {
      this.resetSource();
      if (this.ladderTarget !== undefined) this.onKeyframeNeeded(this.ladderTarget);
    }
    const need = needs[rung];
    this.retransmitBudget = need === undefined ? undefined : need / 32;
    if (this.ladderTarget !== undefined) this.pacer?.setTarget(this.lastRates.get(this.ladderTarget) ?? 0);
    this.ladderReady = true;
    this.ladderUpdatedAt = now;
  }

  /** The source changed (new publisher, re-pulled relay): hold video until its next keyframe. */
  resetSource(): void {
    this.currentLayer = undefined;
    this.video.discontinue();
  }

  forwardVideo(layer: string, available: string[], pkt: RtpPacket, keyframe: boolean, mime: string | undefined, rates?: ReadonlyMap<string, number>): void {
    if (this.closed || !this.videoSender) return;
    if (mime && (mime !== this.codecCheckedFor || this.videoSender.codec !== this.codecChecked)) {
      if (!useCodecFor(this.videoSender, this.videoCodecs, mime)) return; // that codec was not negotiated: cannot carry it
      // Per packet and subscriber the answer rarely changes: asked again only when the mime or codec does.
      this.codecCheckedFor = mime;
      this.codecChecked = this.videoSender.codec;
    }
    if (this.ladder) {
      if (keyframe && mime === 'video/vp8') {
        const size = vp8KeyframeSize(pkt.payload);
        if (size) this.layerHeights.set(layer, size.height);
      }
      this.lastVideoAt = Date.now();
      const firstVideo = this.lastAvailable.length === 0 && available.length > 0;
      this.lastAvailable = available;
      if (rates) this.lastRates = rates;
      if (!this.ladderReady) this.ladderTarget = chooseLayer(available, undefined);
      else if (firstVideo) this.ladderTick(); // the first video on offer (teacher started after the link): decide now, not at the next tick
      if (this.ladderTarget === undefined) {
        if (this.currentLayer !== undefined) this.resetSource(); // audio-only or offline: the picture resumes from a keyframe
        return;
      }
    }
    const target = this.ladder ? this.ladderTarget : this.wantedLayer !== undefined || !rates || available.length < 2 ? chooseLayer(available, this.wantedLayer) : this.autoLayer(available, rates);
    if (this.videoSender.dtlsTransport?.state !== 'connected') {
      // Nothing can reach the peer yet: do not start on a keyframe it would never get.
      this.targetBeforeReady = target;
      return;
    }
    let switched = false;
    if (target !== undefined && target !== this.currentLayer && layer === target) {
      // Switch (or start) only on a keyframe of the new layer; until then the old layer goes on.
      if (keyframe) {
        switched = true;
        this.currentLayer = target;
        this.pacer?.setTarget(rates?.get(target) ?? this.lastRates.get(target) ?? 0);
      }
      else this.onKeyframeNeeded(target);
    }
    if (this.currentLayer === undefined || layer !== this.currentLayer) return;
    const seq = this.send(this.videoSender, this.video, pkt, this.pacer);
    if (switched) this.videoFirstUseful = (seq + ((this.videoSender as unknown as { seqOffset?: number }).seqOffset ?? 0)) & 0xffff;
    this.sentVideo++;
    if (this.ladder) this.noteSent(pkt.payload.length + 12, 'video', Date.now());
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
    if (this.ladder) this.noteSent(pkt.payload.length + 12, 'audio', Date.now());
  }

  /** The layer the ladder wants forwarded now (undefined: audio only). */
  get ladderLayer(): string | undefined {
    return this.ladderTarget;
  }

  /** The ladder's view of this link (hub side), undefined when this subscriber does not follow it. */
  linkStatus(): { rung: Rung; estimateBps: number | null; lossPct: number | null; updatedAt: number } | undefined {
    const l = this.ladder;
    if (!l) return undefined;
    // With no video on offer the ladder keeps its rung for when it comes, but the link carries audio only.
    const noVideo = this.lastAvailable.length === 0 && (l.rung === '720p' || l.rung === '360p' || l.rung === '180p');
    return {
      rung: noVideo ? 'audio-only' : l.rung, estimateBps: l.lastDeliveredBps === null ? null : Math.round(l.lastDeliveredBps),
      lossPct: l.lastLoss === null ? null : Math.round(l.lastLoss * 1000) / 10, updatedAt: this.ladderUpdatedAt,
    };
  }

  /** Returns the packet's outgoing sequence number (before werift's offset). */
  private send(sender: RTCRtpSender, rw: RtpRewriter, pkt: RtpPacket, pacer?: Pacer): number {
    const h = pkt.header;
    const { sequenceNumber, timestamp } = rw.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, Date.now());
    if (pacer) pacer.push(pkt.payload.length + 12, () => this.transmit(sender, pkt, sequenceNumber, timestamp));
    else this.transmit(sender, pkt, sequenceNumber, timestamp);
    return sequenceNumber;
  }

  private transmit(sender: RTCRtpSender, pkt: RtpPacket, sequenceNumber: number, timestamp: number): void {
    if (this.closed) return;
    const h = pkt.header;
    // The box's lean send (media/rtp-send-path.ts: same header, counters, NACK cache and SRTP as werift's
    // at a fraction of the CPU); werift's own sendRtp whenever that declines.
    if (sendPathOf(sender).send(h.marker, sequenceNumber, timestamp, pkt.payload)) return;
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
    clearInterval(this.ladderTimer);
    this.pacer?.close();
    await this.pc.close();
  }
}
