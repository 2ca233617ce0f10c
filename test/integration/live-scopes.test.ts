// Scoped media tokens and one publisher per room, tried as an attacker holding a screen's token would:
// the lesson (the hub teacher's camera on the air, the lesson live on hub and teaching point) survives.
import { describe, it, expect } from 'vitest';
import { issueBoxToken } from '../../core/box-token.js';
import { classroomRoom, type ControlEvent } from '../../core/contract/lesson.js';
import { TAKEOVER_HEADER, type MediaSessionState } from '../../core/contract/media-scope.js';
import { waitFor } from '../support/daemon.js';
import { liveFixture, relayConnected } from '../support/live-fixture.js';
import { createLesson, mediaToken } from '../support/live-boxes.js';
import { ControlClient } from '../support/live-control-client.js';
import { pageOn, publish } from '../support/chromium-webrtc.js';
import { weriftSession, type ClientSession } from '../support/live-werift-client.js';

const code = async (res: Response) => ((await res.json()) as { code: string }).code;
const sessionId = (location: string) => location.split('/').pop()!;

describe('media token scopes and one publisher per room', () => {
  const f = liveFixture('box-scopes-', 1);
  const open: ClientSession[] = [];
  const whip = (url: string, token: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}`, ...headers }, body: OFFER });

  it('with only a view token: no publishing into the broadcast, no takeover, no forged page/mute/lesson end; the lesson runs on', async () => {
    const { hub, tps, lesson, hubToken } = f.live;
    const tp = tps[0]!.box;
    const room = lesson.id;
    const hubUrl = hub.box.url;
    const sfu = hub.box.context.media!.sfu;

    // The hub teacher: camera on the air, lesson started, on page 1.
    const cam = await pageOn(f.browser, hubUrl);
    const camLocation = await publish(cam, `${hubUrl}/whip/${room}`, hubToken);
    const teacher = new ControlClient(`${hubUrl}/api/lessons/${room}/control`, hubToken);
    await teacher.connect();
    teacher.send({ sender: 'x', seq: 1, type: 'lesson', body: { state: 'started' } });
    teacher.send({ sender: 'x', seq: 2, type: 'page', body: { item: 'item-1', page: 1 } });
    await relayConnected(tps[0]!, 20_000);
    await waitFor(() => (tp.context.media!.lessons.get(room)?.status === 'live' ? true : undefined), 15_000);
    await waitFor(() => ((sfu.roomStats(room)?.publisher?.rateBps ?? 0) > 0 ? true : undefined), 20_000);

    const view = await mediaToken(hubUrl, 'view');
    // WHIP into the broadcast: refused before any peer connection is made, with or without a takeover.
    for (const headers of [{}, { [TAKEOVER_HEADER]: '1' }] as Array<Record<string, string>>) {
      const res = await fetch(`${hubUrl}/whip/${room}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${view}`, ...headers }, body: OFFER });
      expect(res.status).toBe(403);
      expect(await code(res)).toBe('E_SCOPE');
    }
    const viaQuery = await fetch(`${hubUrl}/whip/${room}?takeover=1`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${view}` }, body: OFFER });
    expect(viaQuery.status).toBe(403);
    expect(await code(viaQuery)).toBe('E_SCOPE');

    // Forged console messages from the view token on the hub: each refused, none stored.
    const spy = new ControlClient(`${hubUrl}/api/lessons/${room}/control`, view);
    await spy.connect();
    spy.send({ sender: hub.box.identity.boxId, seq: 900, type: 'page', body: { item: 'item-1', page: 99 } });
    spy.send({ sender: hub.box.identity.boxId, seq: 901, type: 'mute', body: { target: tp.identity.boxId, muted: true } });
    spy.send({ sender: hub.box.identity.boxId, seq: 902, type: 'lesson', body: { state: 'ended' } });
    await waitFor(() => (spy.errors.length === 3 ? true : undefined), 5000);
    expect(spy.errors).toEqual(['E_SCOPE', 'E_SCOPE', 'E_SCOPE']);
    // It still reads the lesson (view = watch and read).
    await waitFor(() => (spy.events.some((e) => e.type === 'page') ? true : undefined), 5000);

    // At the teaching point: a view token, its own classroom whiteboard, and even a console token there
    // cannot end the lesson or turn the page: those come only from the hub, through the box's own link.
    const tpTokens = [await mediaToken(tp.url, 'view'), f.live.tpTokens[0]!, await mediaToken(tp.url, 'console')];
    const onTp = tpTokens.map((t) => new ControlClient(`${tp.url}/api/lessons/${room}/control`, t));
    for (const c of onTp) {
      await c.connect();
      c.send({ sender: hub.box.identity.boxId, seq: 903, type: 'lesson', body: { state: 'ended' } });
      c.send({ sender: hub.box.identity.boxId, seq: 904, type: 'page', body: { item: 'item-1', page: 42 } });
    }
    await waitFor(() => (onTp.every((c) => c.errors.length === 2) ? true : undefined), 5000);
    expect(onTp.map((c) => c.errors)).toEqual([['E_SCOPE', 'E_SCOPE'], ['E_SCOPE', 'E_SCOPE'], ['E_FORBIDDEN', 'E_FORBIDDEN']]);

    // The lesson runs on: live on both boxes, the teacher's camera the same session and still sending.
    await new Promise((r) => setTimeout(r, 1500));
    expect(hub.box.context.media!.lessons.get(room)!.status).toBe('live');
    expect(tp.context.media!.lessons.get(room)!.status).toBe('live');
    const stored = (es: ControlEvent[]) => es.filter((e) => e.type === 'lesson' || e.type === 'page' || e.type === 'mute').map((e) => [e.type, e.body.state ?? e.body.page ?? e.body.muted]);
    expect(stored(hub.box.context.media!.control.since(room, 0))).toEqual([['lesson', 'started'], ['page', 1]]);
    expect(stored(tp.context.media!.control.since(room, 0))).toEqual([['lesson', 'started'], ['page', 1]]);
    const whips = sfu.listSessions(room).filter((s) => s.kind === 'whip');
    expect(whips.map((s) => s.id)).toEqual([sessionId(camLocation)]);
    expect(sfu.roomStats(room)!.publisher!.rateBps).toBeGreaterThan(0);
    expect((tp.context.media!.sfu.findRoom(room)?.publisher?.lastPacketAt ?? 0)).toBeGreaterThan(Date.now() - 3000);
    for (const c of [teacher, spy, ...onTp]) c.close();
    expect((await fetch(camLocation, { method: 'DELETE' })).status).toBe(200);
    await cam.context().close();
  }, 120_000);

  it('a classroom token publishes only its own classroom room; a second publisher gets 409; a console takes over and the old one is told', async () => {
    const { hub, tps, lesson, tpTokens } = f.live;
    const tp = tps[0]!.box;
    const own = classroomRoom(lesson.id, tp.identity.boxId);
    const classroom = tpTokens[0]!;

    // Its own classroom room on its own box: yes. The teaching point's broadcast room, or a classroom
    // room on the hub: no. A takeover: not for a classroom.
    const first = await weriftSession('whip', `${tp.url}/whip/${own}`, classroom);
    open.push(first);
    expect(first.status).toBe(201);
    const tpBroadcast = await whip(`${tp.url}/whip/${lesson.id}`, classroom);
    expect([tpBroadcast.status, await code(tpBroadcast)]).toEqual([403, 'E_FORBIDDEN']);
    const hubClassroom = await whip(`${hub.box.url}/whip/${own}`, await mediaToken(hub.box.url, 'classroom'));
    expect([hubClassroom.status, await code(hubClassroom)]).toEqual([403, 'E_FORBIDDEN']);
    const hubBroadcast = await whip(`${hub.box.url}/whip/${lesson.id}`, await mediaToken(hub.box.url, 'classroom'));
    expect([hubBroadcast.status, await code(hubBroadcast)]).toEqual([403, 'E_SCOPE']);
    const grab = await whip(`${tp.url}/whip/${own}`, await mediaToken(tp.url, 'classroom'), { [TAKEOVER_HEADER]: '1' });
    expect([grab.status, await code(grab)]).toEqual([403, 'E_SCOPE']);
    // A second classroom screen while the first is live: 409, and the first is untouched.
    const second = await whip(`${tp.url}/whip/${own}`, await mediaToken(tp.url, 'classroom'));
    expect([second.status, await code(second)]).toEqual([409, 'E_ROOM_HAS_PUBLISHER']);
    expect(tp.context.media!.sfu.sessionState(sessionId(first.location)).state).toBe('live');

    // The broadcast on the hub: a publisher is on the air (the console); another console without a
    // takeover gets 409; with one it takes over, and the old session says why it ended.
    const consoleA = await mediaToken(hub.box.url, 'console');
    const consoleB = await mediaToken(hub.box.url, 'console');
    const a = await weriftSession('whip', `${hub.box.url}/whip/${lesson.id}`, consoleA);
    open.push(a);
    expect(a.status).toBe(201);
    const busy = await whip(`${hub.box.url}/whip/${lesson.id}`, consoleB);
    expect([busy.status, await code(busy)]).toEqual([409, 'E_ROOM_HAS_PUBLISHER']);
    const b = await weriftSession('whip', `${hub.box.url}/whip/${lesson.id}?takeover=1`, consoleB);
    open.push(b);
    expect(b.status).toBe(201);
    const told = (await (await fetch(`${hub.box.url}/api/media/sessions/${sessionId(a.location)}`)).json()) as MediaSessionState;
    expect(told).toEqual({ id: sessionId(a.location), state: 'ended', reason: 'taken-over' });
    expect(hub.box.context.media!.sfu.listSessions(lesson.id).filter((s) => s.kind === 'whip').map((s) => s.id)).toEqual([sessionId(b.location)]);
    // The console that was taken over does not get the room back by publishing again…
    const back = await whip(`${hub.box.url}/whip/${lesson.id}`, consoleA);
    expect([back.status, await code(back)]).toEqual([409, 'E_ROOM_HAS_PUBLISHER']);
    // …while the one on the air republishing (its session lingering after a network blip) replaces its own.
    const again = await weriftSession('whip', `${hub.box.url}/whip/${lesson.id}`, consoleB);
    open.push(again);
    expect(again.status).toBe(201);
    expect(hub.box.context.media!.sfu.sessionState(sessionId(b.location))).toEqual({ state: 'ended', reason: 'replaced' });
    // The takeover and the refusals are in the audit log.
    const audit = hub.box.context.audit.list(200);
    expect(audit.some((e) => e.action === 'media.takeover' && e.target === lesson.id)).toBe(true);
    expect(audit.some((e) => e.action === 'media.refused' && (e.details as { reason?: string } | null)?.reason === 'room-has-publisher')).toBe(true);
  }, 90_000);

  it('a teaching point box reconnecting while its old push still lingers replaces its own session; another lesson\'s room stays closed to it', async () => {
    const { hub, tps } = f.live;
    const tp = tps[0]!.box;
    const lesson = await createLesson(hub.box.url, [tp.identity.boxId]);
    const room = classroomRoom(lesson.id, tp.identity.boxId);
    const token = () => issueBoxToken(tp.identity, { audience: hub.box.identity.boxId, ttlSeconds: 60, clock: tp.context.clock });
    const first = await weriftSession('whip', `${hub.box.url}/whip/${room}`, await token());
    open.push(first);
    expect(first.status).toBe(201);
    // The outage is over; the old session has not timed out yet: the box's new push takes its place.
    const second = await weriftSession('whip', `${hub.box.url}/whip/${room}`, await token());
    open.push(second);
    expect(second.status).toBe(201);
    expect(hub.box.context.media!.sfu.sessionState(sessionId(first.location))).toEqual({ state: 'ended', reason: 'replaced' });
    // A box never asks for a takeover, and never into the broadcast.
    const grab = await fetch(`${hub.box.url}/whip/${room}?takeover=1`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${await token()}` }, body: OFFER });
    expect([grab.status, await code(grab)]).toEqual([403, 'E_FORBIDDEN']);
    for (const s of open.splice(0)) await s.close();
  }, 60_000);
});

const OFFER = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');
