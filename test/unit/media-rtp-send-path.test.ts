import { describe, it, expect, afterEach, afterAll } from 'vitest';
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  GenericNack, RTCPeerConnection, RtcpSrPacket, RtcpTransportLayerFeedback, RtpHeader, RtpPacket, SrtpSession,
  ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, type RTCRtpSender, type RtcpPacket,
} from 'werift';
import { nativeSrtp, ntpFromUnixMs, preferJsSrtp, protectRtp, sendPathOf } from '../../media/rtp-send-path.js';
import { EgressPeer } from '../../media/egress.js';
import { defaultIce, gatheringComplete, peerConfig } from '../../media/peer-config.js';

describe('lean RTP send path: SRTP', () => {
  it('has the native SRTP addon (native/srtp) loaded on this machine', () => {
    // A silent fallback to the JS path would still pass every byte check below: this is what catches it.
    expect(nativeSrtp.loadError).toBeNull();
    expect(nativeSrtp.Protector).toBeTypeOf('function');
  });

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
      // The addon keyed once with the same session keys, reused for every packet (as the send path does).
      const Protector = nativeSrtp.Protector!;
      const native = new Protector(profile, ctx.cipher.srtpSessionKey, ctx.cipher.srtpSessionSalt, ctx.cipher.srtpSessionAuthTag);
      // Past a sequence-number wrap, so the rollover counter is 1 in both.
      for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
        const payload = randomBytes(900 + seq % 7);
        const header = new RtpHeader({ marker: seq === 1, payloadType: 96, sequenceNumber: seq, timestamp: (0xfffffff0 + seq) >>> 0, ssrc: 0xdeadbeef, extensions: [{ id: 1, payload: Buffer.from('0') }] });
        const raw = header.serialize(header.serializeSize);
        const theirs = tx.encrypt(payload, header);
        const roc = seq < 100 ? 1 : 0;
        const ours = protectRtp(keys, raw, payload, 0xdeadbeef, seq, roc);
        expect(ours.equals(theirs)).toBe(true);
        const fromAddon = native.protect(raw, payload, 0xdeadbeef, seq, roc);
        expect(fromAddon.equals(theirs)).toBe(true);
        const back = RtpPacket.deSerialize(rx.decrypt(fromAddon));
        expect(back.payload.equals(payload)).toBe(true);
        expect(back.header.sequenceNumber).toBe(seq);
      }
      // An empty payload (header ‖ tag) and a large one, still werift's bytes.
      for (const [seq, size] of [[3, 0], [4, 1200], [5, 15]] as const) {
        const payload = randomBytes(size);
        const header = new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: 1, ssrc: 0xdeadbeef });
        expect(native.protect(header.serialize(header.serializeSize), payload, 0xdeadbeef, seq, 1).equals(tx.encrypt(payload, header))).toBe(true);
      }
    });
  }

  it('the addon refuses bad arguments with a TypeError that names the argument', () => {
    const Protector = nativeSrtp.Protector!;
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const auth = randomBytes(20);
    const bad = (f: () => unknown, what: RegExp) => expect(f).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(what) }));
    bad(() => new Protector(5, key, salt), /profile must be 7 .* or 1/);
    bad(() => new Protector('7' as unknown as number, key, salt), /profile must be an integer/);
    bad(() => new Protector(7, randomBytes(32), salt), /key must be 16 bytes, got 32/);
    bad(() => new Protector(7, 'k'.repeat(16) as unknown as Buffer, salt), /key must be a Buffer/);
    bad(() => new Protector(7, key, randomBytes(11)), /salt must be 12 to 14 bytes .*got 11/);
    bad(() => new Protector(1, key, randomBytes(12), auth), /salt must be 14 to 14 bytes .*got 12/);
    bad(() => new Protector(1, key, salt), /authKey must be a Buffer/);
    bad(() => new Protector(1, key, salt, randomBytes(16)), /authKey must be 20 bytes, got 16/);
    bad(() => (Protector as unknown as (...a: unknown[]) => unknown)(7, key, salt), /without 'new'/);
    const p = new Protector(1, key, salt, auth);
    const header = randomBytes(12);
    const payload = randomBytes(100);
    bad(() => p.protect(header.subarray(0, 11), payload, 1, 2, 0), /header must be at least 12 bytes/);
    bad(() => p.protect(header, 'x' as unknown as Buffer, 1, 2, 0), /payload must be a Buffer/);
    bad(() => p.protect(header, payload, -1, 2, 0), /ssrc must be an integer from 0 to 4294967295/);
    bad(() => p.protect(header, payload, 2 ** 32, 2, 0), /ssrc must be an integer/);
    bad(() => p.protect(header, payload, 1, 65536, 0), /seq must be an integer from 0 to 65535/);
    bad(() => p.protect(header, payload, 1, 2, 1.5), /roc must be an integer/);
    bad(() => p.protect(header, payload, 1, 2, NaN), /roc must be an integer/);
    bad(() => (p.protect as (...a: unknown[]) => Buffer)(header, payload, 1, 2), /roc must be an integer/);
    bad(() => p.protect.call({}, header, payload, 1, 2, 0), /private member/);
    // Still usable after refusing: the bad calls left no state behind.
    expect(p.protect(header, payload, 0xffffffff, 65535, 0xffffffff).length).toBe(12 + 100 + 10);
  });

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

  afterAll(() => preferJsSrtp(false));

  for (const srtp of ['native', 'js'] as const) it(`delivers forwarded packets with the MID extension, answers NACKs from its cache and keeps Sender Reports counting (${srtp} SRTP)`, async () => {
    preferJsSrtp(srtp === 'js'); // read when the sender's SRTP keys are first used, below
    const sentAs = new Set<string>();
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
    // RTP, not RTCP or STUN (RFC 5761: RTCP's second byte is 192..223): the addon's one buffer or the JS path's parts.
    const isRtp = (b: unknown) => Array.isArray(b) || (Buffer.isBuffer(b) && b.length > 12 && b[0]! >> 6 === 2 && (b[1]! < 192 || b[1]! > 223));
    sock.send = (...a: unknown[]) => {
      if (isRtp(a[0])) sentAs.add(Array.isArray(a[0]) ? 'parts' : 'buffer');
      if (isRtp(a[0]) && ++n === 20 && !dropped) {
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
    // The path under test did the SRTP (werift's own NACK answers go out as one buffer either way).
    expect(sentAs.has(srtp === 'native' ? 'buffer' : 'parts')).toBe(true);
    if (srtp === 'native') expect(sentAs.has('parts')).toBe(false);
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
