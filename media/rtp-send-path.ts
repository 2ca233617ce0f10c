import { createCipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type NativeSrtp from 'tpb-srtp';
import { RtpHeader, type RTCRtpSender } from 'werift';

/*
 * Why: werift 0.24's RTCRtpSender.sendRtp costs several times a plain UDP forward per packet (a header
 * extension list rebuilt and sorted per packet, a BigInt NTP time per packet, generic bit writers for the
 * header and the SRTP nonce, three nested async calls). The SFU sends every packet once per subscriber,
 * so that is most of the relay's CPU. This is the same send done lean for forwarded packets: the
 * header with the sender's negotiated extensions written straight into one buffer, SRTP with werift's own
 * session keys and rollover state (its NACK answers and RTCP share them), and the sender's counters and
 * retransmission cache kept the way werift keeps them, because its RTCP Sender Reports and its NACK
 * handler read them. Whatever it does not handle (RED, an unknown SRTP profile, a transport not up, an
 * extension that does not fit the one-byte form) returns false and the caller uses werift's sendRtp.
 * Checked against werift 0.24.4 internals (test/unit/media-rtp-send-path.test.ts pins them).
 *
 * SRTP itself goes through the tpb-srtp addon (native/srtp) when it loads: from JS every packet costs a
 * createCipheriv (a new OpenSSL context and key schedule) and, for AES-CM, a createHmac, plus the objects
 * and buffers they leave to the GC, about as much as all the rest of the send; the addon keeps one keyed
 * OpenSSL context per SRTP session and writes header ‖ ciphertext ‖ tag into one buffer. Without it
 * (not built, a runtime without Node's OpenSSL, or TPB_SRTP_JS=1 to compare) the JS code below does it.
 */

/** werift's SRTP context (lib/rtp/src/srtp/context): keys, per-SSRC rollover state. */
interface SrtpContext {
  profile: number;
  cipher: { srtpSessionKey: Buffer; srtpSessionSalt: Buffer; srtpSessionAuthTag?: Buffer };
  getSrtpSsrcState(ssrc: number): { rolloverCounter: number };
  updateRolloverCount(sequenceNumber: number, state: { rolloverCounter: number }): void;
}

/** werift's ICE connection (lib/ice/src/ice.js): its nominated pair and the pair's UDP socket. */
interface IceConnection {
  send(data: Buffer): Promise<void>;
  canSendApplicationData(): boolean;
  nominated?: IcePair;
}
interface IcePair {
  remoteAddr: [string, number];
  packetsSent: number;
  bytesSent: number;
  protocol: { type?: string; transport?: { type?: string; closed?: boolean; socket?: Socket } };
}

interface DtlsInternals {
  state: string;
  srtp?: { localContext?: SrtpContext };
  iceTransport: { connection: IceConnection };
  bytesSent: number;
  packetsSent: number;
  transportSequenceNumber: number;
  config?: { debug?: { outboundPacketLoss?: number } };
}

/** The RTCRtpSender fields werift's sendRtp writes and its runRtcp / NACK handling read. */
interface SenderInternals {
  ssrc: number;
  codec?: { payloadType: number };
  dtlsTransport?: DtlsInternals;
  mid?: string;
  rtpStreamId?: string;
  repairedRtpStreamId?: string;
  headerExtensions: Array<{ id: number; uri: string }>;
  redRedundantPayloadType?: number;
  seqOffset: number;
  timestampOffset: number;
  sequenceNumber?: number;
  timestamp?: number;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  rtpCache: unknown[];
  rtcpRunning: boolean;
  runRtcp(): Promise<void>;
}

const GCM = 7; // ProtectionProfileAeadAes128Gcm
const CM_SHA1_80 = 1; // ProtectionProfileAes128CmHmacSha1_80
const RTP_HISTORY_SIZE = 128; // werift's rtpCache size (rtpSender.js)
const NTP_EPOCH_OFFSET_MS = 2_208_988_800_000; // 1900-01-01 → 1970-01-01
/** The Sender Report's (NTP, RTP timestamp) pair is refreshed at most this often; it stays a matching pair. */
const NTP_REFRESH_MS = 20;
const URI = {
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  rrid: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  twcc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  abs: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
};

/** NTP 32.32 fixed point for a wall-clock time in ms since 1970. */
export function ntpFromUnixMs(ms: number): bigint {
  const ntpMs = ms + NTP_EPOCH_OFFSET_MS;
  const secs = Math.floor(ntpMs / 1000);
  const frac = Math.floor(((ntpMs - secs * 1000) / 1000) * 0x1_0000_0000);
  return (BigInt(secs) << 32n) | BigInt(Math.min(frac, 0xffff_ffff));
}

/**
 * The RTP header extension block werift would write for this sender, as bytes (profile 0xBEDE + length
 * included), with the offsets of the per-packet values. Undefined when werift's one-byte form cannot
 * carry it (then werift's own path is used, whatever it does).
 */
interface ExtensionBlock {
  bytes: Buffer;
  twccAt: number;
  absAt: number;
  for: { list: SenderInternals['headerExtensions']; mid?: string; rid?: string; rrid?: string };
}

function extensionBlock(s: SenderInternals): ExtensionBlock | undefined {
  const items: Array<{ id: number; payload: Buffer; kind: 'static' | 'twcc' | 'abs' }> = [];
  for (const e of s.headerExtensions) {
    if (e.uri === URI.mid && s.mid) items.push({ id: e.id, payload: Buffer.from(s.mid), kind: 'static' });
    else if (e.uri === URI.rid && s.rtpStreamId) items.push({ id: e.id, payload: Buffer.from(s.rtpStreamId), kind: 'static' });
    else if (e.uri === URI.rrid && s.repairedRtpStreamId) items.push({ id: e.id, payload: Buffer.from(s.repairedRtpStreamId), kind: 'static' });
    else if (e.uri === URI.twcc) items.push({ id: e.id, payload: Buffer.alloc(2), kind: 'twcc' });
    else if (e.uri === URI.abs) items.push({ id: e.id, payload: Buffer.alloc(3), kind: 'abs' });
  }
  const key = { list: s.headerExtensions, mid: s.mid, rid: s.rtpStreamId, rrid: s.repairedRtpStreamId };
  if (items.length === 0) return { bytes: Buffer.alloc(0), twccAt: -1, absAt: -1, for: key };
  if (items.some((i) => i.id < 1 || i.id > 14 || i.payload.length < 1 || i.payload.length > 16)) return undefined;
  items.sort((a, b) => a.id - b.id);
  const body = items.reduce((n, i) => n + 1 + i.payload.length, 0);
  const words = Math.ceil(body / 4);
  const bytes = Buffer.alloc(4 + words * 4); // zero padding, as werift's Buffer.alloc leaves it
  bytes.writeUInt16BE(0xbede, 0);
  bytes.writeUInt16BE(words, 2);
  let at = 4;
  let twccAt = -1;
  let absAt = -1;
  for (const i of items) {
    bytes[at++] = (i.id << 4) | (i.payload.length - 1);
    if (i.kind === 'twcc') twccAt = at;
    if (i.kind === 'abs') absAt = at;
    i.payload.copy(bytes, at);
    at += i.payload.length;
  }
  return { bytes, twccAt, absAt, for: key };
}

/**
 * A retransmission-cache entry shaped like werift's RtpPacket for its NACK handler (which reads
 * `header.sequenceNumber`, `header.serializeSize`, `payload` and hands header + payload to SRTP):
 * the header object is only built when a NACK asks for this packet.
 */
class CachedRtp {
  private parsed: RtpHeader | undefined;
  constructor(private readonly rawHeader: Buffer, readonly payload: Buffer) {}
  get header(): RtpHeader {
    return (this.parsed ??= RtpHeader.deSerialize(this.rawHeader));
  }
}

/** The tpb-srtp addon, loaded through require (it is CommonJS); `Protector` is null when it could not load. */
function loadNativeSrtp(): typeof NativeSrtp {
  try {
    return createRequire(import.meta.url)('tpb-srtp') as typeof NativeSrtp;
  } catch (err) {
    // The package itself missing (its loader never throws): the JS path it is.
    return { Protector: null, loadError: err instanceof Error ? err : new Error(String(err)), PROFILE_AEAD_AES_128_GCM: 7, PROFILE_AES_CM_128_HMAC_SHA1_80: 1 };
  }
}
export const nativeSrtp = loadNativeSrtp();
let useNativeSrtp = nativeSrtp.Protector !== null;

/** Tests: protect with the JS code even though the addon loaded (takes effect for SRTP sessions keyed after). */
export function preferJsSrtp(js: boolean): void {
  useNativeSrtp = !js && nativeSrtp.Protector !== null;
}

interface Keys {
  ctx: SrtpContext;
  gcm: boolean;
  key: KeyObject;
  salt: Buffer;
  auth: KeyObject | undefined;
  /** This session's keys in the addon, when it loaded. */
  native: NativeSrtp.Protector | undefined;
}

function keysFor(ctx: SrtpContext): Keys | undefined {
  const c = ctx.cipher;
  if (!c?.srtpSessionKey || !c.srtpSessionSalt) return undefined;
  const gcm = ctx.profile === GCM;
  if (!gcm && !(ctx.profile === CM_SHA1_80 && c.srtpSessionAuthTag)) return undefined;
  let native: NativeSrtp.Protector | undefined;
  if (useNativeSrtp && nativeSrtp.Protector) {
    try {
      native = new nativeSrtp.Protector(ctx.profile, c.srtpSessionKey, c.srtpSessionSalt, gcm ? undefined : c.srtpSessionAuthTag);
    } catch {
      native = undefined; // keys of a shape the addon refuses: the JS code takes them as werift does
    }
  }
  const auth = gcm ? undefined : createSecretKey(c.srtpSessionAuthTag!);
  return { ctx, gcm, key: createSecretKey(c.srtpSessionKey), salt: c.srtpSessionSalt, auth, native };
}

/** SRTP-protects one RTP packet (RFC 7714 AEAD_AES_128_GCM or RFC 3711 AES_CM_128_HMAC_SHA1_80). */
export function protectRtp(keys: Pick<Keys, 'gcm' | 'key' | 'salt' | 'auth'>, header: Buffer, payload: Buffer, ssrc: number, seq: number, roc: number): Buffer {
  return Buffer.concat(protectRtpParts(keys, header, payload, ssrc, seq, roc));
}

/** Nonce scratch (GCM IV, CTR counter): createCipheriv copies it, so one of each does for all packets. */
const gcmIv = Buffer.alloc(12);
const ctrIv = Buffer.alloc(16);

/** The same as [header, encrypted payload, tag]: a UDP send can gather them without a copy. */
function protectRtpParts(keys: Pick<Keys, 'gcm' | 'key' | 'salt' | 'auth'>, header: Buffer, payload: Buffer, ssrc: number, seq: number, roc: number): [Buffer, Buffer, Buffer] {
  const salt = keys.salt;
  if (keys.gcm) {
    const iv = gcmIv;
    iv[0] = salt[0]!;
    iv[1] = salt[1]!;
    iv.writeUInt32BE((ssrc ^ salt.readUInt32BE(2)) >>> 0, 2);
    iv.writeUInt32BE((roc ^ salt.readUInt32BE(6)) >>> 0, 6);
    iv.writeUInt16BE(seq ^ salt.readUInt16BE(10), 10);
    const c = createCipheriv('aes-128-gcm', keys.key, iv);
    c.setAAD(header);
    const enc = c.update(payload);
    c.final();
    return [header, enc, c.getAuthTag()];
  }
  const counter = ctrIv;
  counter.writeUInt32BE(salt.readUInt32BE(0), 0);
  counter.writeUInt32BE((ssrc ^ salt.readUInt32BE(4)) >>> 0, 4);
  counter.writeUInt32BE((roc ^ salt.readUInt32BE(8)) >>> 0, 8);
  counter.writeUInt16BE(seq ^ salt.readUInt16BE(12), 12);
  counter.writeUInt16BE(0, 14);
  const enc = createCipheriv('aes-128-ctr', keys.key, counter).update(payload);
  const rocBytes = Buffer.allocUnsafe(4);
  rocBytes.writeUInt32BE(roc >>> 0, 0);
  const tag = createHmac('sha1', keys.auth!).update(header).update(enc).update(rocBytes).digest();
  return [header, enc, tag.subarray(0, 10)];
}

/** The lean send path of one werift sender (see the comment at the top of this file). */
export class RtpSendPath {
  private readonly s: SenderInternals;
  private ext: ExtensionBlock | undefined;
  private keys: Keys | undefined;
  private ntpAt = -Infinity;
  /** Packets sent here / handed back to werift: for tests and the curious. */
  sent = 0;
  declined = 0;

  constructor(sender: RTCRtpSender) {
    this.s = sender as unknown as SenderInternals;
  }

  /**
   * Sends one forwarded packet (the payload buffer is only read, never changed, so it may be shared
   * between subscribers). False: nothing was sent, use `sender.sendRtp` for this packet.
   */
  send(marker: boolean, sequenceNumber: number, timestamp: number, payload: Buffer): boolean {
    const s = this.s;
    const dtls = s.dtlsTransport;
    const ctx = dtls?.srtp?.localContext;
    if (!dtls || dtls.state !== 'connected' || !s.codec || !ctx || s.redRedundantPayloadType !== undefined || dtls.config?.debug?.outboundPacketLoss) {
      this.declined++;
      return false;
    }
    let keys = this.keys;
    if (keys?.ctx !== ctx) keys = this.keys = keysFor(ctx); // a new SRTP session (re-handshake) has new keys
    let ext = this.ext;
    const f = ext?.for;
    if (!f || f.list !== s.headerExtensions || f.mid !== s.mid || f.rid !== s.rtpStreamId || f.rrid !== s.repairedRtpStreamId) ext = this.ext = extensionBlock(s);
    if (!keys || !ext) {
      this.declined++;
      return false;
    }

    // What werift's sendRtp does, in its order.
    const seq = (sequenceNumber + s.seqOffset) & 0xffff;
    const ts = (timestamp + s.timestampOffset) >>> 0;
    const extLen = ext.bytes.length;
    const header = Buffer.allocUnsafe(12 + extLen);
    header[0] = extLen > 0 ? 0x90 : 0x80;
    header[1] = (marker ? 0x80 : 0) | (s.codec.payloadType & 0x7f);
    header.writeUInt16BE(seq, 2);
    header.writeUInt32BE(ts, 4);
    header.writeUInt32BE(s.ssrc >>> 0, 8);
    if (extLen > 0) {
      ext.bytes.copy(header, 12);
      if (ext.twccAt >= 0) {
        dtls.transportSequenceNumber = (dtls.transportSequenceNumber + 1) & 0xffff;
        header.writeUInt16BE(dtls.transportSequenceNumber, 12 + ext.twccAt);
      }
    }
    const now = performance.now();
    if (ext.absAt >= 0) {
      const secs = (performance.timeOrigin + now + NTP_EPOCH_OFFSET_MS) / 1000;
      header.writeUIntBE(Math.floor(secs * 262_144) % 0x100_0000, 12 + ext.absAt, 3); // 6.18 fixed point
    }
    s.timestamp = ts;
    s.sequenceNumber = seq;
    // The Sender Report pairs the NTP time of a send with that packet's RTP timestamp: one pair per
    // 20 ms is as good for sync and RTT, and spares a BigInt per packet.
    if (now - this.ntpAt >= NTP_REFRESH_MS) {
      this.ntpAt = now;
      s.ntpTimestamp = ntpFromUnixMs(performance.timeOrigin + now);
      s.rtpTimestamp = ts;
    }
    s.octetCount += payload.length;
    s.headerBytesSent += header.length;
    s.packetCount = (s.packetCount + 1) >>> 0;
    s.rtpCache[seq % RTP_HISTORY_SIZE] = new CachedRtp(header, payload);

    const state = ctx.getSrtpSsrcState(s.ssrc);
    ctx.updateRolloverCount(seq, state);
    try {
      const parts = keys.native
        ? keys.native.protect(header, payload, s.ssrc >>> 0, seq, state.rolloverCounter)
        : protectRtpParts(keys, header, payload, s.ssrc >>> 0, seq, state.rolloverCounter);
      const size = Array.isArray(parts) ? parts[0].length + parts[1].length + parts[2].length : parts.length;
      dtls.bytesSent += size;
      dtls.packetsSent++;
      this.transmit(dtls.iceTransport.connection, parts, size);
    } catch {
      // As werift's RTCDtlsTransport.sendRtp: a packet that fails to go out is dropped (NACK may bring it).
    }
    if (!s.rtcpRunning) void s.runRtcp(); // Sender Reports, as werift starts them on its first send
    this.sent++;
    return true;
  }

  private routePair: IcePair | undefined;
  private routeSocket: Socket | undefined;

  /**
   * What werift's IceConnection.send does (consent check, the nominated pair, its counters), without
   * its three nested async calls and the copy into one buffer: on a plain UDP pair the socket gathers
   * the parts (or takes the addon's one buffer). A TURN or TCP pair (the pair's protocol wraps the data)
   * goes through werift.
   */
  private transmit(conn: IceConnection, parts: Buffer | [Buffer, Buffer, Buffer], size: number): void {
    if (!conn.canSendApplicationData()) return; // as werift: no consent, nothing sent
    const pair = conn.nominated!;
    if (pair !== this.routePair) {
      this.routePair = pair;
      const proto = pair.protocol;
      const t = proto.transport;
      this.routeSocket = proto.type === 'stun' && t?.type === 'udp' && isIP(pair.remoteAddr[0]) !== 0 ? t.socket : undefined;
    }
    const sock = this.routeSocket;
    if (!sock || pair.protocol.transport?.closed) {
      conn.send(Array.isArray(parts) ? Buffer.concat(parts, size) : parts).catch(() => undefined);
      return;
    }
    const [host, port] = pair.remoteAddr;
    sock.send(parts, port, host);
    pair.packetsSent++;
    pair.bytesSent += size;
  }
}

const paths = new WeakMap<RTCRtpSender, RtpSendPath>();

/** The lean send path of `sender`, made on first use. */
export function sendPathOf(sender: RTCRtpSender): RtpSendPath {
  let p = paths.get(sender);
  if (!p) paths.set(sender, (p = new RtpSendPath(sender)));
  return p;
}
