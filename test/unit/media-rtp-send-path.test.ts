import { describe, it, expect, afterEach } from 'vitest';
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  GenericNack, RTCPeerConnection, RtcpSrPacket, RtcpTransportLayerFeedback, RtpHeader, RtpPacket, SrtpSession,
  ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, type RTCRtpSender, type RtcpPacket,
} from 'werift';
import { ntpFromUnixMs, protectRtp, sendPathOf } from '../../media/rtp-send-path.js';
import { EgressPeer } from '../../media/egress.js';
import { defaultIce, gatheringComplete, peerConfig } from '../../media/peer-config.js';

describe('lean RTP send path: SRTP', () => {
  for (const [name, profile, keyLen, saltLen] of [
    ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm, 16, 12],
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, 16, 14],
  ] as const) {
    it(`writes the very bytes werift's SRTP writes, and werift decrypts them (${name})`, () => {
      const k = { a: randomBytes(keyLen), as: randomBytes(saltLen), b: randomBytes(keyLen), bs: randomBytes(saltLen) };
      const tx = new SrtpSession({ profile, keys: { localMasterKey: k.a, localMasterSalt: k.as, remoteMasterKey: k.b, remoteMasterSalt: k.bs } });
      const rx = new SrtpSession({ profile, keys: { localMasterKey: k.b, localMasterSalt: k.bs, remoteMasterKey: k.a, remoteMasterSalt: k.as } });
      const ctx = (tx as unknown as { localContext: { cipher: { srtpSessionKey: Buffer; srtpSessionSalt: Buffer; srtpSessionAuthTag?: Buffer } } }).localContext;
      const keys = {
        gcm: profile === ProtectionProfileAeadAes128Gcm, key: createSecretKey(ctx.cipher.srtpSessionKey), salt: ctx.cipher.srtpSessionSalt,
        auth: ctx.cipher.srtpSessionAuthTag ? createSecretKey(ctx.cipher.srtpSessionAuthTag) : undefined,
      };
      // Past a sequence-number wrap, so the rollover counter is 1 in both.
      for (const seq of [65534, 65535, 0, 1]) {
        const payload = randomBytes(900 + seq % 7);
        const header = new RtpHeader({ marker: seq === 1, payloadType: 96, sequenceNumber: seq, timestamp: (0xfffffff0 + seq) >>> 0, ssrc: 0xdeadbeef, extensions: [{ id: 1, payload: Buffer.from('0') }] });
        const raw = header.serialize(header.serializeSize);
        const theirs = tx.encrypt(payload, header);
        const roc = seq < 100 ? 1 : 0;
        const ours = protectRtp(keys, raw, payload, 0xdeadbeef, seq, roc);
        expect(ours.equals(theirs)).toBe(true);
        const back = RtpPacket.deSerialize(rx.decrypt(ours));
        expect(back.payload.equals(payload)).toBe(true);
        expect(back.header.sequenceNumber).toBe(seq);
      }
    });
  }

  it('turns wall-clock time into NTP 32.32 (the Sender Report clock)', () => {
    const ms = Date.UTC(2026, 10, 23, 12, 0, 0, 250);
    const ntp = ntpFromUnixMs(ms);
    expect(Number(ntp >> 32n)).toBe(ms / 1000 - 0.25 + 2_208_988_800);
    expect(Number(ntp & 0xffffffffn) / 2 ** 32).toBeCloseTo(0.25, 6);
  });
});

describe('lean RTP send path: a werift subscriber on loopback', () => {
  const pcs: RTCPeerConnection[] = [];
  afterEach(async () => {
    for (const pc of pcs.splice(0)) await pc.close();
  });

  it('delivers forwarded packets with the MID extension, answers NACKs from its cache and keeps Sender Reports counting', async () => {
    // The subscriber offers recvonly, as a WHEP player does; the box answers sendonly, as Sfu.subscribe does.
    const sub = new RTCPeerConnection(peerConfig(defaultIce, 'video/vp8'));
    const box = new RTCPeerConnection(peerConfig(defaultIce, 'video/vp8'));
    pcs.push(sub, box);
    const rt = sub.addTransceiver('video', { direction: 'recvonly' });
    const got = new Map<number, RtpPacket[]>();
    rt.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((p) => {
      const list = got.get(p.header.sequenceNumber) ?? [];
      list.push(p);
      got.set(p.header.sequenceNumber, list);
    }));
    const reports: RtcpSrPacket[] = [];
    rt.receiver.onRtcp.subscribe((p: RtcpPacket) => {
      if (p.type === RtcpSrPacket.type) reports.push(p as RtcpSrPacket);
    });
    await sub.setLocalDescription(await sub.createOffer());
    await gatheringComplete(sub);
    const egress = new EgressPeer(box);
    await box.setRemoteDescription({ type: 'offer', sdp: sub.localDescription!.sdp });
    for (const t of box.getTransceivers()) t.setDirection('sendonly');
    await box.setLocalDescription(await box.createAnswer());
    await gatheringComplete(box);
    egress.bind();
    await sub.setRemoteDescription({ type: 'answer', sdp: box.localDescription!.sdp });
    const sender: RTCRtpSender = box.getTransceivers()[0]!.sender;
    await waitFor(() => sender.dtlsTransport?.state === 'connected' && sub.connectionState === 'connected', 10_000);

    // The subscriber's own id for the MID extension, from its offer.
    const midId = Number(/a=extmap:(\d+) urn:ietf:params:rtp-hdrext:sdes:mid/.exec(sub.localDescription!.sdp)![1]);
    const mid = rt.mid!;
    // Drop one packet on the wire, once: the subscriber must NACK it and get it from the box's cache.
    type Sock = { send: (...a: unknown[]) => void };
    const conn = (sender.dtlsTransport as unknown as { iceTransport: { connection: { nominated: { protocol: { transport: { socket: Sock } } } } } }).iceTransport.connection;
    const sock = conn.nominated.protocol.transport.socket;
    const realSend = sock.send.bind(sock);
    let dropped = false;
    let n = 0;
    sock.send = (...a: unknown[]) => {
      if (Array.isArray(a[0]) && ++n === 20 && !dropped) {
        dropped = true;
        return;
      }
      realSend(...a);
    };

    const sent: Array<{ payload: Buffer }> = [];
    const ts0 = 1_000_000;
    for (let i = 0; i < 60; i++) {
      // VP8 descriptor S=1 (a keyframe start on the first packet), then filler.
      const payload = Buffer.concat([Buffer.from([0x10, i === 0 ? 0x00 : 0x01]), randomBytes(600)]);
      const header = new RtpHeader({ payloadType: 96, sequenceNumber: 4000 + i, timestamp: ts0 + 3000 * Math.floor(i / 3), ssrc: 1234, marker: i % 3 === 2 });
      egress.forwardVideo('', [''], new RtpPacket(header, payload), i === 0, 'video/vp8');
      sent.push({ payload });
      await new Promise((r) => setTimeout(r, 10));
    }
    const path = sendPathOf(sender);
    expect(path.sent).toBe(60); // every packet took the lean path
    expect(path.declined).toBe(0);
    await waitFor(() => got.size === 60, 5000);
    // Every payload arrived intact, in order of sequence number, with the subscriber's MID.
    const bySeq = [...got.keys()].sort((a, b) => ((a - [...got.keys()][0]!) & 0xffff) - ((b - [...got.keys()][0]!) & 0xffff));
    bySeq.forEach((seq, i) => {
      const p = got.get(seq)![0]!;
      expect(p.payload.equals(sent[i]!.payload)).toBe(true);
      expect(p.header.ssrc).toBe(sender.ssrc);
      const ext = p.header.extensions.find((e) => e.id === midId);
      expect(ext?.payload.toString()).toBe(mid);
    });
    expect(dropped).toBe(true);
    expect((sender as unknown as { retransmittedPacketsSent: number }).retransmittedPacketsSent).toBeGreaterThanOrEqual(1);

    // A NACK for a packet still in the cache is answered again (werift's handler reads our entries).
    const again = bySeq[55]!;
    (sender as unknown as { handleRtcpPacket: (p: RtcpPacket) => void }).handleRtcpPacket(new RtcpTransportLayerFeedback({
      feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost: [again] }),
    }));
    await waitFor(() => (got.get(again)?.length ?? 0) >= 2, 3000);
    expect(got.get(again)![1]!.payload.equals(got.get(again)![0]!.payload)).toBe(true);

    // Sender Reports: this sender's SSRC, the packets and octets sent, a wall clock NTP time and an RTP
    // timestamp that is one the box really sent.
    await waitFor(() => reports.some((r) => r.ssrc === sender.ssrc && r.senderInfo.packetCount >= 60), 4000);
    const sr = reports.filter((r) => r.ssrc === sender.ssrc).at(-1)!;
    expect(sr.senderInfo.packetCount).toBe(60);
    expect(sr.senderInfo.octetCount).toBe(sent.reduce((a, p) => a + p.payload.length, 0));
    const ntpMs = Number(sr.senderInfo.ntpTimestamp >> 32n) * 1000 + (Number(sr.senderInfo.ntpTimestamp & 0xffffffffn) / 2 ** 32) * 1000 - 2_208_988_800_000;
    expect(Math.abs(ntpMs - Date.now())).toBeLessThan(5000);
    const sentTs = new Set([...got.values()].map((l) => l[0]!.header.timestamp));
    expect(sentTs.has(sr.senderInfo.rtpTimestamp)).toBe(true);
  }, 30_000);
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
