// H.264 end to end with real Chromium peers: an H.264 publisher on the hub, the teaching-point box's
// own WHEP pull, and a player on the teaching point. The relay pull and the player both subscribe
// before the publisher arrives (their answers offer VP8 and H.264), the case that used to get no video.
import { describe, it, expect } from 'vitest';
import { liveFixture, relayConnected } from '../support/live-fixture.js';
import { expectPlaying, pageOn, play, playerStats, publish } from '../support/chromium-webrtc.js';

describe('H.264 through the hub and the teaching-point relay', () => {
  const f = liveFixture('box-live-h264-', 1);

  it('an H.264 publisher on the hub decodes as H.264 on a teaching-point player that joined first', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = f.live;
    const browser = f.browser;
    const tp = tps[0]!;
    // The relay pull is up before anyone publishes: its codec is not known yet.
    await relayConnected(tp);
    expect(hub.box.context.media!.sfu.roomStats(lesson.id)!.codec).toBeNull();
    const kiosk = await pageOn(browser, tp.box.url);
    await play(kiosk, `${tp.box.url}/whep/${lesson.id}`, tpTokens[0]!);

    const cam = await pageOn(browser, hub.box.url);
    await publish(cam, `${hub.box.url}/whip/${lesson.id}`, hubToken, { codec: 'video/H264' });
    const { first, later } = await expectPlaying(kiosk, 30_000);
    expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
    expect(later.videoWidth).toBeGreaterThan(0);
    expect(later.videoCodec).toBe('video/H264');
    expect(hub.box.context.media!.sfu.roomStats(lesson.id)!.codec).toBe('video/h264');
    expect(tp.box.context.media!.sfu.roomStats(lesson.id)!.codec).toBe('video/h264');

    // A player joining once the room's codec is known gets an H.264-only answer and plays too.
    const late = await pageOn(browser, tp.box.url);
    await play(late, `${tp.box.url}/whep/${lesson.id}`, tpTokens[0]!);
    const l = await expectPlaying(late, 30_000);
    expect(l.later.videoCodec).toBe('video/H264');
    expect((await playerStats(kiosk)).framesDecoded).toBeGreaterThan(later.framesDecoded);
    for (const p of [cam, kiosk, late]) await p.context().close();
  }, 180_000);
});
