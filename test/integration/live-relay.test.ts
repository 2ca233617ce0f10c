// The live path with real Chromium peers: hub camera → hub box → teaching-point box (WHEP pull by
// the box itself) → a player on the teaching point; and the classroom camera back to the hub.
import { describe, it, expect } from 'vitest';
import { classroomRoom } from '../../core/contract/lesson.js';
import { waitFor } from '../support/daemon.js';
import { liveFixture, relayConnected } from '../support/live-fixture.js';
import { expectPlaying, pageOn, play, publish } from '../support/chromium-webrtc.js';

describe('live lesson through the hub and the teaching-point relay', () => {
  const f = liveFixture('box-live-', 1);

  it('a hub publisher is seen on a teaching-point player, and the classroom is seen on the hub', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = f.live;
    const browser = f.browser;
    const tp = tps[0]!;
    const hubCam = await pageOn(browser, hub.box.url);
    await publish(hubCam, `${hub.box.url}/whip/${lesson.id}`, hubToken);

    // The teaching point joined by itself (lesson due): its relay pulls the hub's room.
    await relayConnected(tp, 20_000);
    const kiosk = await pageOn(browser, tp.box.url);
    await play(kiosk, `${tp.box.url}/whep/${lesson.id}`, tpTokens[0]!);
    const { later } = await expectPlaying(kiosk);
    expect(later.videoWidth).toBeGreaterThan(0);
    // One copy crosses the WAN: the hub has one subscriber (the relay) however many screens play locally.
    expect(hub.box.context.media!.sfu.roomStats(lesson.id)!.subscribers).toBe(1);

    // Return path: the kiosk publishes the classroom to its own box, which pushes it to the hub.
    const room = classroomRoom(lesson.id, tp.box.identity.boxId);
    await publish(kiosk, `${tp.box.url}/whip/${room}`, tpTokens[0]!);
    await waitFor(() => (hub.box.context.media!.sfu.findRoom(room)?.publisher ? true : undefined), 20_000);
    const console_ = await pageOn(browser, hub.box.url);
    await play(console_, `${hub.box.url}/whep/${room}`, hubToken);
    const back = await expectPlaying(console_);
    expect(back.later.framesDecoded).toBeGreaterThan(back.first.framesDecoded);
    for (const p of [hubCam, kiosk, console_]) await p.context().close();
  }, 180_000);

  it('receives a simulcast publisher with its layers and gives each subscriber the layer it asks for', async () => {
    const { hub, hubToken } = f.live;
    const browser = f.browser;
    const { createLesson } = await import('../support/live-boxes.js');
    const lesson = await createLesson(hub.box.url, []);
    const cam = await pageOn(browser, hub.box.url);
    await publish(cam, `${hub.box.url}/whip/${lesson.id}`, hubToken, { width: 640, height: 480, simulcast: true });
    const sfu = hub.box.context.media!.sfu;
    await waitFor(() => ((sfu.roomStats(lesson.id)?.publisher?.layers.length ?? 0) >= 2 ? true : undefined), 20_000);
    const small = await pageOn(browser, hub.box.url);
    await play(small, `${hub.box.url}/whep/${lesson.id}?layer=l`, hubToken);
    const big = await pageOn(browser, hub.box.url);
    await play(big, `${hub.box.url}/whep/${lesson.id}`, hubToken);
    const [s, b] = await Promise.all([expectPlaying(small), expectPlaying(big)]);
    const layers = sfu.roomStats(lesson.id)!.publisher!.layers;
    expect(layers).toEqual(expect.arrayContaining(['l']));
    expect(s.later.frameWidth).toBeGreaterThan(0);
    expect(b.later.frameWidth).toBeGreaterThan(s.later.frameWidth);
  }, 120_000);
});
