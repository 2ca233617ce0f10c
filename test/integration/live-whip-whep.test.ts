// WHIP/WHEP as other software sees it: tokens, unknown lessons, bad SDP, DELETE, and no leaks.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { issueBoxToken } from '../../core/box-token.js';
import { classroomRoom } from '../../core/contract/lesson.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { openUdpSockets } from '../support/live-udp.js';
import { weriftSession } from '../support/live-werift-client.js';

const OFFER = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');

describe('WHIP and WHEP endpoints', () => {
  const dir = tempDir('box-whip-');
  let live: LiveSetup;
  beforeAll(async () => {
    live = await startLive(dir.path, 1);
  });
  afterAll(async () => {
    await live?.close();
    dir.remove();
  });

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${live.hub.box.url}${path}`, { method: 'POST', headers, body });

  it('refuses a missing or wrong token with 401, an unknown lesson with 404, bad SDP with 400, non-SDP with 415', async () => {
    const { lesson, hubToken } = live;
    for (const kind of ['whip', 'whep']) {
      const sdp = { 'content-type': 'application/sdp' };
      expect((await post(`/${kind}/${lesson.id}`, OFFER, sdp)).status).toBe(401);
      expect((await post(`/${kind}/${lesson.id}`, OFFER, { ...sdp, authorization: 'Bearer mt_wrong' })).status).toBe(401);
      expect((await post(`/${kind}/${lesson.id}`, OFFER, { ...sdp, authorization: 'Bearer a.b.c' })).status).toBe(401);
      const auth = { ...sdp, authorization: `Bearer ${hubToken}` };
      const unknown = await post(`/${kind}/Lnope`, OFFER, auth);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { code: string }).code).toBe('E_NOT_FOUND');
      expect((await post(`/${kind}/${lesson.id}~box-0000000000000000`, OFFER, auth)).status).toBe(404);
      const bad = await post(`/${kind}/${lesson.id}`, 'hello', auth);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('E_SDP_MALFORMED');
      expect((await post(`/${kind}/${lesson.id}`, OFFER.replace('v=0', 'v=0\r\nnonsense'), auth)).status).toBe(400);
      expect((await post(`/${kind}/${lesson.id}`, JSON.stringify({ sdp: OFFER }), { 'content-type': 'application/json', authorization: `Bearer ${hubToken}` })).status).toBe(415);
    }
    // A box token from a teaching point opens its own classroom room only.
    const tp = live.tps[0]!.box;
    const token = () => issueBoxToken(tp.identity, { audience: live.hub.box.identity.boxId, ttlSeconds: 60, clock: tp.context.clock });
    const other = await post(`/whip/${lesson.id}`, OFFER, { 'content-type': 'application/sdp', authorization: `Bearer ${await token()}` });
    expect(other.status).toBe(403);
    // A replayed box token is refused.
    const once = await token();
    await post(`/whep/Lnope`, OFFER, { 'content-type': 'application/sdp', authorization: `Bearer ${once}` });
    expect((await post(`/whep/${lesson.id}`, OFFER, { 'content-type': 'application/sdp', authorization: `Bearer ${once}` })).status).toBe(401);
    void classroomRoom;
  });

  it('DELETE ends a session and frees its peer connection; 50 join/leave cycles end back at idle', async () => {
    const { lesson, hubToken, hub } = live;
    const sfu = hub.box.context.media!.sfu;
    // Let the teaching point's own links settle first: they are part of the idle level.
    await waitFor(() => (live.tps[0]!.box.context.media!.agent!.status()[0]?.pull.state === 'connected' ? true : undefined), 20_000);
    const idle = { pcs: sfu.counts().peerConnections, sessions: sfu.counts().sessions, udp: openUdpSockets() };

    const s = await weriftSession('whep', `${hub.box.url}/whep/${lesson.id}`, hubToken);
    expect(s.status).toBe(201);
    expect(s.location).toMatch(new RegExp(`/whep/${lesson.id}/[A-Za-z0-9_-]{20,}$`));
    expect(sfu.counts().sessions).toBe(idle.sessions + 1);
    expect((await fetch(s.location, { method: 'DELETE' })).status).toBe(200);
    expect(sfu.counts().sessions).toBe(idle.sessions);
    expect((await fetch(s.location, { method: 'DELETE' })).status).toBe(404);
    await s.close();

    for (let i = 0; i < 50; i++) {
      const kind = i % 2 === 0 ? 'whep' : 'whip';
      const room = kind === 'whep' ? lesson.id : `${lesson.id}`;
      const c = await weriftSession(kind, `${hub.box.url}/${kind}/${room}`, hubToken);
      expect(c.status).toBe(201);
      if (i % 10 === 0) await waitFor(() => (c.pc.connectionState === 'connected' ? true : undefined), 10_000);
      expect((await fetch(c.location, { method: 'DELETE' })).status).toBe(200);
      await c.close();
    }
    const after = await waitFor(() => {
      const now = { pcs: sfu.counts().peerConnections, sessions: sfu.counts().sessions, udp: openUdpSockets() };
      return now.pcs === idle.pcs && now.sessions === idle.sessions && now.udp <= idle.udp ? now : undefined;
    }, 20_000, 250).catch(() => ({ pcs: sfu.counts().peerConnections, sessions: sfu.counts().sessions, udp: openUdpSockets() }));
    expect(after).toEqual(idle);
  }, 180_000);
});
