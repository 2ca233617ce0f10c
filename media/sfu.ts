import { randomBytes } from 'node:crypto';
import { RTCPeerConnection } from 'werift';
import type { Logger } from '../core/log.js';
import { BoxError } from '../core/errors.js';
import { EgressPeer } from './egress.js';
import { IngestPeer, type MediaSource, type SourceStats } from './ingest.js';
import { gatheringComplete, peerConfig, type IceSettings, type VideoCodec } from './peer-config.js';
import type { RembLimits } from './remb.js';
import { Room, newTraffic, type Traffic } from './room.js';
import { checkOffer } from './sdp.js';

export interface SfuOptions {
  log: Logger;
  ice: IceSettings;
  remb: RembLimits;
  pliIntervalMs: number;
  /** A session whose peer has not connected by then is ended. */
  connectTimeoutMs: number;
  /** A session whose peer stays disconnected this long is ended. */
  disconnectTimeoutMs: number;
}

export const defaultSfuOptions: Omit<SfuOptions, 'log' | 'ice'> = {
  remb: { minBps: 150_000, maxBps: 2_500_000 },
  pliIntervalMs: 500,
  connectTimeoutMs: 20_000,
  disconnectTimeoutMs: 10_000,
};

export type SessionKind = 'whip' | 'whep';

export interface Session {
  id: string;
  kind: SessionKind;
  room: string;
  actor: string;
  createdAt: number;
}

interface LiveSession extends Session {
  peer: IngestPeer | EgressPeer;
  timers: NodeJS.Timeout[];
}

export interface SfuCounts {
  peerConnections: number;
  rooms: number;
  sessions: number;
  publishers: number;
  subscribers: number;
}

/**
 * The box's selective forwarding unit: rooms, WHIP/WHEP sessions, and every werift peer connection
 * the box holds (its own relay links included), so closing the SFU closes all of them.
 */
export class Sfu {
  private readonly rooms = new Map<string, Room>();
  private readonly sessions = new Map<string, LiveSession>();
  private readonly pcs = new Set<RTCPeerConnection>();
  /** Why recent sessions ended (bounded), so a publisher that was taken over can be told why. */
  private readonly endedReasons = new Map<string, string>();
  private closed = false;
  /** Totals since the box started, across rooms that have come and gone. */
  readonly traffic: Traffic = newTraffic();
  plisSent = 0;

  constructor(readonly o: SfuOptions) {}

  /** A werift peer connection registered with the SFU; it leaves the registry when closed. */
  createPeerConnection(video?: VideoCodec): RTCPeerConnection {
    if (this.closed) throw new BoxError('E_MEDIA_UNAVAILABLE', 'The media service is shutting down.');
    const pc = new RTCPeerConnection(peerConfig(this.o.ice, video));
    this.pcs.add(pc);
    const { unSubscribe } = pc.connectionStateChange.subscribe((s) => {
      if (s === 'closed') {
        this.pcs.delete(pc);
        unSubscribe();
      }
    });
    return pc;
  }

  room(name: string): Room {
    let r = this.rooms.get(name);
    if (!r) {
      r = new Room(name, this.traffic);
      this.rooms.set(name, r);
    }
    return r;
  }

  findRoom(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  newIngest(pc: RTCPeerConnection): IngestPeer {
    return new IngestPeer(pc, {
      remb: this.o.remb, pliIntervalMs: this.o.pliIntervalMs, pliAnsweredGapMs: Math.min(350, this.o.pliIntervalMs), onPli: () => this.plisSent++,
    });
  }

  /** Installs a source in a room, closing the one it replaces (its session ends with `reason`). */
  setSource(roomName: string, peer: MediaSource, reason = 'replaced'): void {
    const old = this.room(roomName).setSource(peer);
    if (old && old !== peer) void this.dropPeer(old, reason);
  }

  detachSource(roomName: string, peer: MediaSource): void {
    const r = this.rooms.get(roomName);
    r?.removeSource(peer);
    this.prune(roomName);
  }

  addSubscriber(roomName: string, peer: EgressPeer): void {
    this.room(roomName).addSubscriber(peer);
  }

  removeSubscriber(roomName: string, peer: EgressPeer): void {
    this.rooms.get(roomName)?.removeSubscriber(peer);
    this.prune(roomName);
  }

  /**
   * One publisher per room: a room with a source refuses another publisher (409 E_ROOM_HAS_PUBLISHER),
   * except the same actor (its own reconnect replaces its stale session: the same box, the same
   * screen's token) and a caller the route allowed to take over.
   */
  private checkPublisher(roomName: string, actor: string, takeover: boolean): void {
    const source = this.rooms.get(roomName)?.publisher;
    if (!source || takeover || this.sessionOfPeer(source)?.actor === actor) return;
    throw new BoxError('E_ROOM_HAS_PUBLISHER', 'This room already has a live publisher. Only the hub console may take it over.', { room: roomName });
  }

  private sessionOfPeer(peer: MediaSource): LiveSession | undefined {
    for (const s of this.sessions.values()) if (s.peer === peer) return s;
    return undefined;
  }

  /** WHIP: answers a publisher's offer; the publisher becomes the room's source. */
  async publish(roomName: string, offer: string, actor: string, opts: { takeover?: boolean } = {}): Promise<{ session: Session; answer: string }> {
    const takeover = opts.takeover === true;
    // The room first: a busy room answers 409 whatever the offer.
    this.checkPublisher(roomName, actor, takeover);
    checkOffer(offer);
    const pc = this.createPeerConnection();
    const peer = this.newIngest(pc);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) t.setDirection('recvonly');
      const answer = await this.answer(pc, offer);
      // Again, synchronously with taking the room: another publisher may have arrived meanwhile.
      this.checkPublisher(roomName, actor, takeover);
      const session = this.register('whip', roomName, actor, peer);
      const old = this.rooms.get(roomName)?.publisher;
      const oldSession = old ? this.sessionOfPeer(old) : undefined;
      this.setSource(roomName, peer, oldSession && oldSession.actor !== actor ? 'taken-over' : 'replaced');
      return { session, answer };
    } catch (e) {
      await peer.close();
      throw asSdpError(e);
    }
  }

  /** WHEP: answers a subscriber's offer with the room's codec; media flows from the next keyframe. */
  async subscribe(roomName: string, offer: string, actor: string, layer?: string): Promise<{ session: Session; answer: string }> {
    checkOffer(offer);
    const codec = this.rooms.get(roomName)?.videoCodec as VideoCodec | undefined;
    const pc = this.createPeerConnection(codec);
    const peer = new EgressPeer(pc, layer, actor.startsWith('token:') ? undefined : actor); // another box: its lesson link follows the ladder
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) t.setDirection('sendonly');
      const answer = await this.answer(pc, offer);
      peer.bind();
      const session = this.register('whep', roomName, actor, peer);
      this.addSubscriber(roomName, peer);
      return { session, answer };
    } catch (e) {
      await peer.close();
      throw asSdpError(e);
    }
  }

  private async answer(pc: RTCPeerConnection, offer: string): Promise<string> {
    // Answer a=setup:passive so the peer starts DTLS the moment ICE is up: as the DTLS client (werift's
    // default answer) werift waits a fixed 100 ms before its ClientHello, on every new screen's first picture.
    if (!/^a=setup:passive/m.test(offer)) for (const t of pc.dtlsTransports) if (t.role === 'auto') t.role = 'server';
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringComplete(pc);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new BoxError('E_MEDIA_UNAVAILABLE', 'Could not create an SDP answer.');
    return sdp;
  }

  private register(kind: SessionKind, room: string, actor: string, peer: IngestPeer | EgressPeer): Session {
    const id = randomBytes(18).toString('base64url');
    const s: LiveSession = { id, kind, room, actor, createdAt: Date.now(), peer, timers: [] };
    this.sessions.set(id, s);
    const pc = peer.pc;
    const connectTimer = setTimeout(() => {
      if (pc.connectionState !== 'connected') void this.end(id, 'never connected');
    }, this.o.connectTimeoutMs);
    s.timers.push(connectTimer);
    let lost: NodeJS.Timeout | undefined;
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') void this.end(id, state);
      else if (state === 'disconnected' && !lost) {
        lost = setTimeout(() => void this.end(id, 'disconnected'), this.o.disconnectTimeoutMs);
        s.timers.push(lost);
      } else if (state === 'connected' && lost) {
        clearTimeout(lost);
        lost = undefined;
      }
    });
    this.o.log.info({ session: id, kind, room, actor }, 'media session started');
    return { id, kind, room, actor, createdAt: s.createdAt };
  }

  /** The open sessions, of one room or all (diagnostics and tests). */
  listSessions(room?: string): Session[] {
    return [...this.sessions.values()].filter((s) => room === undefined || s.room === room).map((s) => ({ id: s.id, kind: s.kind, room: s.room, actor: s.actor, createdAt: s.createdAt }));
  }

  /** Live, or ended and why (kept for the last few hundred sessions), or unknown. */
  sessionState(id: string): { state: 'live' | 'ended' | 'unknown'; reason: string | null } {
    if (this.sessions.has(id)) return { state: 'live', reason: null };
    const reason = this.endedReasons.get(id);
    return reason === undefined ? { state: 'unknown', reason: null } : { state: 'ended', reason };
  }

  getSession(id: string): Session | undefined {
    const s = this.sessions.get(id);
    return s ? { id: s.id, kind: s.kind, room: s.room, actor: s.actor, createdAt: s.createdAt } : undefined;
  }

  /** Ends one session and frees its peer connection; false when there was none. */
  async end(id: string, reason = 'deleted'): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    this.endedReasons.set(id, reason);
    if (this.endedReasons.size > 512) this.endedReasons.delete(this.endedReasons.keys().next().value!);
    for (const t of s.timers) clearTimeout(t);
    if (s.peer instanceof IngestPeer) this.detachSource(s.room, s.peer);
    else this.removeSubscriber(s.room, s.peer);
    await s.peer.close();
    this.o.log.info({ session: id, kind: s.kind, room: s.room, reason }, 'media session ended');
    return true;
  }

  private async dropPeer(peer: MediaSource, reason: string): Promise<void> {
    const s = this.sessionOfPeer(peer);
    if (s) return void (await this.end(s.id, reason));
    await peer.close();
  }

  private prune(name: string): void {
    if (this.rooms.get(name)?.empty) this.rooms.delete(name);
  }

  counts(): SfuCounts {
    let publishers = 0;
    let subscribers = 0;
    for (const r of this.rooms.values()) {
      if (r.publisher) publishers++;
      subscribers += r.subscribers.size;
    }
    return { peerConnections: this.pcs.size, rooms: this.rooms.size, sessions: this.sessions.size, publishers, subscribers };
  }

  roomStats(name: string): { publisher: SourceStats | null; subscribers: number; codec: string | null } | undefined {
    const r = this.rooms.get(name);
    if (!r) return undefined;
    return { publisher: r.publisher?.stats() ?? null, subscribers: r.subscribers.size, codec: r.videoCodec ?? null };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.sessions.keys()]) await this.end(id, 'shutdown');
    for (const pc of [...this.pcs]) await pc.close().catch(() => undefined);
    this.pcs.clear();
    this.rooms.clear();
  }
}

function asSdpError(e: unknown): Error {
  if (e instanceof BoxError) return e;
  return new BoxError('E_SDP_MALFORMED', `The SDP offer could not be used: ${(e as Error).message}`);
}
