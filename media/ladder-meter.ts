import type { RTCPeerConnection, RtpPacket } from 'werift';
import type { Rung } from '../core/contract/lesson.js';
import { rungForHeight, vp8KeyframeSize } from './ladder.js';

// What a teaching point actually receives on its lesson pull, measured at the box: which rung arrives
// (picture height of the last keyframe, audio alone, or nothing) and every audio gap, so the rung shown
// on screen is what came through, not what the hub meant to send.

export interface AudioGap {
  /** Wall-clock end of the gap (ms since epoch). */
  endedAt: number;
  /** Time between the two packets as they arrived. */
  wallMs: number;
  /** Audio missing between them by their RTP timestamps (-1 across a reconnect, where timestamps restart). */
  mediaMs: number;
}

export interface PullMeterStats {
  rung: Rung;
  rxBps: number;
  videoHeight: number | null;
  lastPacketAt: number;
  audioGaps: AudioGap[];
}

const GAP_MS = 100;

export class PullMeter {
  private lastAudio: { at: number; ts: number; seq: number; ssrc: number } | undefined;
  private lastVideoAt = 0;
  private lastAnyAt = 0;

  /** When any packet last arrived (0: never on this link). */
  get lastPacketAt(): number {
    return this.lastAnyAt;
  }
  private bytes = 0;
  private windowStart = Date.now();
  private rate = 0;
  private height: number | null = null;
  private videoMime: string | undefined;
  readonly gaps: AudioGap[] = [];

  constructor(private readonly keepGaps = 200) {}

  /** Watches one pull attempt's tracks (call after its transceivers are added). */
  attach(pc: RTCPeerConnection): void {
    for (const t of pc.getTransceivers()) {
      t.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe((pkt) => {
          if (t.kind === 'video' && !this.videoMime) this.videoMime = t.codecs.find((c) => c.payloadType === pkt.header.payloadType)?.mimeType.toLowerCase();
          this.onPacket(t.kind === 'audio' ? 'audio' : 'video', pkt, Date.now());
        });
      });
    }
  }

  connected(): void {
    this.lastVideoAt = 0;
    this.height = null;
  }

  onPacket(kind: 'audio' | 'video', pkt: RtpPacket, now: number): void {
    if (pkt.payload.length === 0) return;
    this.lastAnyAt = now;
    this.bytes += pkt.payload.length + 12;
    if (kind === 'video') {
      this.lastVideoAt = now;
      if (this.videoMime === undefined || this.videoMime === 'video/vp8') {
        const size = vp8KeyframeSize(pkt.payload);
        if (size) this.height = size.height;
      }
      return;
    }
    const h = pkt.header;
    const prev = this.lastAudio;
    if (prev) {
      const wallMs = now - prev.at;
      const sameStream = prev.ssrc === h.ssrc && ((h.sequenceNumber - prev.seq) & 0xffff) < 1000;
      const mediaMs = sameStream ? Math.max(0, (((h.timestamp - prev.ts) >>> 0) / 48) - 20) : -1;
      if (wallMs >= GAP_MS || mediaMs >= GAP_MS) {
        this.gaps.push({ endedAt: now, wallMs, mediaMs: Math.round(mediaMs) });
        if (this.gaps.length > this.keepGaps) this.gaps.shift();
      }
    }
    this.lastAudio = { at: now, ts: h.timestamp, seq: h.sequenceNumber, ssrc: h.ssrc };
  }

  /** The rung that arrives: nothing for 3 s is offline; audio without video for 2 s is audio-only. */
  rung(now: number, linkUp: boolean): Rung {
    if (!linkUp || now - this.lastAnyAt >= 3000) return 'offline';
    if (this.lastVideoAt === 0 || now - this.lastVideoAt >= 2000) return 'audio-only';
    if (this.height !== null) return rungForHeight(this.height);
    return this.rate >= 800_000 ? '720p' : this.rate >= 300_000 ? '360p' : '180p';
  }

  stats(now: number, linkUp: boolean): PullMeterStats {
    const secs = (now - this.windowStart) / 1000;
    if (secs >= 1) {
      this.rate = (this.bytes * 8) / secs;
      this.bytes = 0;
      this.windowStart = now;
    }
    return { rung: this.rung(now, linkUp), rxBps: Math.round(this.rate), videoHeight: this.height, lastPacketAt: this.lastAnyAt, audioGaps: [...this.gaps] };
  }
}
