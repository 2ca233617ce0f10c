import type { RTCPeerConnection } from 'werift';
import type { Logger } from '../core/log.js';
import type { PeerClient } from '../core/peer-client.js';
import { EgressPeer } from './egress.js';
import type { IngestPeer } from './ingest.js';
import { PullMeter } from './ladder-meter.js';
import { LossAlarm, attachLossAlarm } from './loss-alarm.js';
import { gatheringComplete } from './peer-config.js';
import type { Sfu } from './sfu.js';

type LinkDirection = 'pull' | 'push';
export type LinkState = 'connecting' | 'connected' | 'retrying' | 'stopped';

export interface RemoteLinkOptions {
  sfu: Sfu;
  log: Logger;
  direction: LinkDirection;
  /** The local room: filled by a pull, read by a push. */
  localRoom: string;
  /** The other box: every request goes through it (a fresh single-use token each, size-capped answers). */
  peer: PeerClient;
  /** The WHEP (pull) or WHIP (push) path on the other box, e.g. /whep/<room>. */
  path: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** With media flowing, this much silence means the link is broken (faster than ICE consent, 30 s). */
  silenceMs?: number;
  /** An attempt whose peer connection is not up by then is torn down and retried. */
  connectTimeoutMs?: number;
  /** Limit for the WHIP/WHEP POST (a dead WAN otherwise holds an attempt for long). */
  signalTimeoutMs?: number;
}

/** An SDP answer is a few kilobytes; anything near this is not one. */
const ANSWER_MAX_BYTES = 256 * 1024;

/**
 * The session's Location as a path under the peer's base URL (it may be relative to the POST URL, RFC 9725);
 * undefined when it points elsewhere: a box token is never sent to a place the peer client does not own.
 */
export function sessionPath(peer: PeerClient, postPath: string, location: string): string | undefined {
  const base = peer.url('').href;
  const abs = new URL(location, peer.url(postPath)).href;
  return abs.startsWith(base) ? abs.slice(base.length) : undefined;
}

/**
 * One box-to-box media link, kept up by itself: a WHEP pull of the hub's lesson into a local room, or
 * a WHIP push of a local room to the hub. On any failure it tears down, waits with backoff and
 * tries again, so a WAN outage or a hub restart heals without anyone touching the box.
 */
export class RemoteLink {
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly url: string;
  state: LinkState = 'connecting';
  connects = 0;
  lastError: string | null = null;
  /** On a pull: what arrives (rung, rate, audio gaps), kept across reconnects. */
  readonly meter: PullMeter | undefined;
  /** On a pull: the early loss reports sent to the hub (see loss-alarm.ts). */
  readonly lossAlarm: LossAlarm | undefined;

  constructor(private readonly o: RemoteLinkOptions) {
    this.url = o.peer.url(o.path).toString();
    if (o.direction === 'pull') {
      this.meter = new PullMeter();
      this.lossAlarm = new LossAlarm();
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = this.o.minBackoffMs ?? 500;
    while (!this.stopped) {
      const startedAt = Date.now();
      const attempt = new Attempt(this.o, this.meter, this.lossAlarm);
      try {
        this.state = 'connecting';
        await attempt.connect();
        this.connects++;
        this.state = 'connected';
        this.meter?.connected();
        this.lastError = null;
        this.o.log.info({ url: this.url, direction: this.o.direction }, 'media link up');
        await attempt.untilBroken((w) => (this.wake = w));
      } catch (e) {
        this.lastError = (e as Error).message;
        this.o.log.warn({ url: this.url, direction: this.o.direction, err: this.lastError }, 'media link failed');
      }
      await attempt.close();
      this.wake = undefined;
      if (this.stopped) break;
      this.state = 'retrying';
      if (Date.now() - startedAt > 10_000) backoff = this.o.minBackoffMs ?? 500;
      await new Promise<void>((r) => {
        const t = setTimeout(r, backoff);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 8000);
    }
  }
}

class Attempt {
  private pc: RTCPeerConnection | undefined;
  private ingest: IngestPeer | undefined;
  private egress: EgressPeer | undefined;
  private location: string | undefined;

  constructor(private readonly o: RemoteLinkOptions, private readonly meter: PullMeter | undefined, private readonly lossAlarm: LossAlarm | undefined) {}

  async connect(): Promise<void> {
    const { sfu, direction } = this.o;
    const pc = (this.pc = sfu.createPeerConnection(direction === 'push' ? (sfu.findRoom(this.o.localRoom)?.videoCodec as never) : undefined));
    const dir = direction === 'pull' ? 'recvonly' : 'sendonly';
    pc.addTransceiver('video', { direction: dir });
    pc.addTransceiver('audio', { direction: dir });
    if (direction === 'pull') {
      this.ingest = sfu.newIngest(pc);
      this.meter?.attach(pc);
      if (this.lossAlarm) attachLossAlarm(pc, this.lossAlarm);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const { peer, path } = this.o;
    const res = await peer.request(path, {
      method: 'POST', body: pc.localDescription?.sdp ?? '', contentType: 'application/sdp',
      timeoutMs: this.o.signalTimeoutMs ?? 10_000, maxBytes: ANSWER_MAX_BYTES,
    });
    const body = res.text();
    if (res.status !== 201) throw new Error(`${peer.url(path).toString()} answered ${res.status}: ${body.slice(0, 200)}`);
    const loc = res.headers.get('location');
    if (loc) {
      this.location = sessionPath(peer, path, loc);
      if (this.location === undefined) this.o.log.warn({ location: loc.slice(0, 200) }, 'media link: session Location outside the other box; it ends at its timeout');
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    if (this.ingest) sfu.setSource(this.o.localRoom, this.ingest);
    else {
      this.egress = new EgressPeer(pc);
      this.egress.bind();
      sfu.addSubscriber(this.o.localRoom, this.egress);
    }
  }

  /** Resolves when the link is broken: ICE failed/closed, or silence after media flowed. */
  untilBroken(setWake: (w: () => void) => void): Promise<void> {
    const pc = this.pc!;
    const silenceMs = this.o.silenceMs ?? 5000;
    const connectTimeoutMs = this.o.connectTimeoutMs ?? 15_000;
    let lastRtcp = 0;
    if (this.egress) {
      for (const t of pc.getTransceivers()) t.sender.onRtcp.subscribe(() => (lastRtcp = Date.now()));
    }
    return new Promise<void>((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const s = pc.connectionState;
        if (s === 'failed' || s === 'closed') return finish();
        // ICE/DTLS that never completes would otherwise hold the link forever.
        if (s !== 'connected' && Date.now() - started > connectTimeoutMs) return finish();
        const last = this.ingest ? this.ingest.lastPacketAt : lastRtcp;
        // No media on a fresh attempt is not a fault: the hub's teacher may simply not be publishing
        // (a watchdog that reconnected here looped forever between two publishers and lost the picture).
        if (last > 0 && Date.now() - last > silenceMs) finish();
      }, 250);
      const finish = () => {
        clearInterval(timer);
        resolve();
      };
      setWake(finish);
    });
  }

  async close(): Promise<void> {
    const { sfu } = this.o;
    if (this.ingest) sfu.detachSource(this.o.localRoom, this.ingest);
    if (this.egress) sfu.removeSubscriber(this.o.localRoom, this.egress);
    if (this.ingest) await this.ingest.close();
    else await this.pc?.close().catch(() => undefined);
    if (this.location) {
      // Best effort: frees the session on the other box now rather than after its timeout.
      await this.o.peer.request(this.location, { method: 'DELETE', timeoutMs: 2000, maxBytes: 64 * 1024 }).catch(() => undefined);
    }
  }
}
