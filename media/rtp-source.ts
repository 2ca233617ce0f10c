import { createSocket, type Socket } from 'node:dgram';
import { RtpHeader, RtpPacket } from 'werift';
import { isKeyframe } from './keyframe.js';
import type { IngestSink, MediaSource, SourceStats } from './ingest.js';

/**
 * A room source fed with plain RTP on two loopback UDP ports (VP8 video, Opus audio), e.g. from
 * ffmpeg. It cannot ask for keyframes: the feeder must send them often (ffmpeg `-g`).
 */
export class RtpSource implements MediaSource {
  private sink: IngestSink | undefined;
  private bytes = 0;
  private windowStart = Date.now();
  private rate = 0;
  readonly videoMime = 'video/vp8';
  lastPacketAt = 0;
  packets = 0;

  private constructor(private readonly video: Socket, private readonly audio: Socket) {
    video.on('message', (buf) => this.onPacket(buf, true));
    audio.on('message', (buf) => this.onPacket(buf, false));
  }

  static async open(host = '127.0.0.1'): Promise<RtpSource> {
    const bind = () => new Promise<Socket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, host, () => resolve(s));
    });
    return new RtpSource(await bind(), await bind());
  }

  get ports(): { video: number; audio: number } {
    return { video: this.video.address().port, audio: this.audio.address().port };
  }

  private onPacket(buf: Buffer, isVideo: boolean): void {
    let pkt: RtpPacket;
    try {
      pkt = parseRtp(buf);
    } catch {
      return; // RTCP or garbage on the port
    }
    if (pkt.header.payloadType >= 72 && pkt.header.payloadType <= 76) return;
    this.lastPacketAt = Date.now();
    this.packets++;
    if (isVideo) {
      this.bytes += buf.length;
      const now = Date.now();
      if (now - this.windowStart >= 1000) {
        this.rate = (this.bytes * 8 * 1000) / (now - this.windowStart);
        this.bytes = 0;
        this.windowStart = now;
      }
      this.sink?.video('', pkt, isKeyframe(this.videoMime, pkt.payload));
    } else this.sink?.audio(pkt);
  }

  setSink(sink: IngestSink | undefined): void {
    this.sink = sink;
  }

  layers(): string[] {
    return this.lastPacketAt ? [''] : [];
  }

  layerRates(): ReadonlyMap<string, number> {
    return new Map([['', this.rate]]);
  }

  requestKeyframe(): void {
    // Plain RTP has no feedback channel; the feeder sends keyframes on a fixed interval.
  }

  stats(): SourceStats {
    return { rateBps: Math.round(this.rate), loss: 0, rembBps: 0, layers: this.layers() };
  }

  private closing: Promise<void> | undefined;

  /** Idempotent: a demo camera may be closed by its room and again by the demo. */
  close(): Promise<void> {
    this.sink = undefined;
    this.closing ??= Promise.all([this.video, this.audio].map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
    return this.closing;
  }
}

/**
 * Why: werift's RtpPacket.deSerialize reads every header field through a generic bit reader and was
 * the largest cost of the receive path in the relay profile. A plain header (version 2, no padding,
 * no CSRC, no extension: what ffmpeg sends) is read directly into the same RtpPacket shape; anything
 * else goes through werift.
 */
function parseRtp(buf: Buffer): RtpPacket {
  const b0 = buf[0]!;
  if (buf.length < 12 || b0 !== 0x80) return RtpPacket.deSerialize(buf);
  const b1 = buf[1]!;
  const header = new RtpHeader({
    marker: (b1 & 0x80) !== 0, payloadType: b1 & 0x7f, sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8), payloadOffset: 12,
  });
  return new RtpPacket(header, buf.subarray(12));
}
