// One hub, four teaching points at once, each relaying the lesson to its own local player.
import { describe, it, expect } from 'vitest';
import { waitFor } from '../support/daemon.js';
import { liveFixture, relayConnected } from '../support/live-fixture.js';
import { expectPlaying, pageOn, play, publish } from '../support/chromium-webrtc.js';

describe('a hub with four teaching points', () => {
  const f = liveFixture('box-live4-', 4);

  it('every teaching point plays the lesson on its local screen at the same time', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = f.live;
    const browser = f.browser;
    const cam = await pageOn(browser, hub.box.url);
    await publish(cam, `${hub.box.url}/whip/${lesson.id}`, hubToken);
    const players = [];
    for (const [i, tp] of tps.entries()) {
      await relayConnected(tp);
      const page = await pageOn(browser, tp.box.url);
      await play(page, `${tp.box.url}/whep/${lesson.id}`, tpTokens[i]!);
      players.push(page);
    }
    const results = await Promise.all(players.map((p) => expectPlaying(p, 40_000)));
    for (const r of results) {
      expect(r.later.videoWidth).toBeGreaterThan(0);
      expect(r.later.framesDecoded).toBeGreaterThan(r.first.framesDecoded);
      expect(r.later.audioPackets).toBeGreaterThan(r.first.audioPackets);
    }
    // The hub sends one copy per teaching point, not one per screen (a relay that re-pulled under
    // load may briefly leave an old session behind, so wait for the steady state).
    await waitFor(() => (hub.box.context.media!.sfu.roomStats(lesson.id)!.subscribers === 4 ? true : undefined), 30_000, 250);
  }, 240_000);
});
