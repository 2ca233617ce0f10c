// The media gauges in /metrics move with what the boxes do: a Chromium publisher on the hub, the
// teaching point's relay pull, and a subscriber on the teaching point that comes and goes.
import { describe, it, expect } from 'vitest';
import { waitFor } from '../support/daemon.js';
import { liveFixture, relayConnected } from '../support/live-fixture.js';
import { pageOn, publish } from '../support/chromium-webrtc.js';
import { weriftSession } from '../support/live-werift-client.js';

async function scrape(baseUrl: string): Promise<(name: string, labels?: string) => number> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return (name, labels) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && (!labels || l.includes(labels)));
    if (!line) throw new Error(`${name}${labels ? ` ${labels}` : ''} not in /metrics`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
}

describe('live-media gauges in /metrics', () => {
  const f = liveFixture('box-live-metrics-', 1);

  it('counts rooms, sources, subscribers, peer connections, packets, PLIs and links, and returns to idle', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = f.live;
    const browser = f.browser;
    const tp = tps[0]!;
    const cam = await pageOn(browser, hub.box.url);
    await publish(cam, `${hub.box.url}/whip/${lesson.id}`, hubToken);
    await relayConnected(tp);

    const h = await scrape(hub.box.url);
    expect(h('box_media_publishers')).toBe(1);
    expect(h('box_media_subscribers')).toBe(1); // the teaching point's relay pull
    expect(h('box_media_peer_connections')).toBe(2);

    const before = await scrape(tp.box.url);
    expect(before('box_media_links', 'direction="pull",state="connected"')).toBe(1);
    expect(before('box_media_link_reconnects', 'direction="pull"')).toBe(0);
    expect(before('box_media_subscribers')).toBe(0);
    const idlePcs = before('box_media_peer_connections');

    const sub = await weriftSession('whep', `${tp.box.url}/whep/${lesson.id}`, tpTokens[0]!);
    expect(sub.status).toBe(201);
    await waitFor(() => (sub.received() > 20 ? true : undefined), 30_000);
    const during = await scrape(tp.box.url);
    expect(during('box_media_subscribers')).toBe(1);
    expect(during('box_media_sessions')).toBe(1);
    expect(during('box_media_peer_connections')).toBe(idlePcs + 1);
    expect(during('box_media_rooms')).toBeGreaterThanOrEqual(1); // the broadcast room (a recorder may hold the classroom's too)
    expect(during('box_media_forwarded_packets', 'direction="in"')).toBeGreaterThan(before('box_media_forwarded_packets', 'direction="in"'));
    expect(during('box_media_forwarded_packets', 'direction="out"')).toBeGreaterThan(before('box_media_forwarded_packets', 'direction="out"'));
    expect(during('box_media_forwarded_bytes', 'direction="out"')).toBeGreaterThan(during('box_media_forwarded_packets', 'direction="out"'));
    expect(during('box_media_srtp_native')).toBe(1); // the addon built by npm install is in use
    expect(during('box_media_plis_sent')).toBeGreaterThan(0); // the join asked the hub for a keyframe

    const del = await fetch(sub.location, { method: 'DELETE', headers: { authorization: `Bearer ${tpTokens[0]!}` } });
    expect(del.status).toBeLessThan(300);
    await sub.close();
    const after = await scrape(tp.box.url);
    expect(after('box_media_subscribers')).toBe(0);
    expect(after('box_media_sessions')).toBe(0);
    expect(after('box_media_peer_connections')).toBe(idlePcs);
    await cam.context().close();
  }, 180_000);
});
