// H.264 end to end with real Chromium peers: an H.264 publisher on the hub, the teaching-point box's
// own WHEP pull, and a player on the teaching point. The relay pull and the player both subscribe
// before the publisher arrives (their answers offer VP8 and H.264), the case that used to get no video.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { expectPlaying, pageOn, play, playerStats, publish } from '../support/chromium-webrtc.js';

describe('H.264 through the hub and the teaching-point relay', () => {
  const dir = tempDir('box-live-h264-');
  let live: LiveSetup;
  let browser: Browser;

  beforeAll(async () => {
    live = await startLive(dir.path, 1);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    dir.remove();
  });

  it('an H.264 publisher on the hub decodes as H.264 on a teaching-point player that joined first', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = live;
    const tp = tps[0]!;
    // The relay pull is up before anyone publishes: its codec is not known yet.
    await waitFor(() => (tp.box.context.media!.agent!.status()[0]?.pull.state === 'connected' ? true : undefined), 30_000);
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
