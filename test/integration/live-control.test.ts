// The lesson control channel across hub and teaching point: in order, at least once, de-duplicated,
// timestamped on the lesson timeline, stored, and caught up after a reconnect.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { ControlClient } from '../support/live-control-client.js';
import type { ControlEvent } from '../../core/contract/lesson.js';

describe('lesson control channel', () => {
  const dir = tempDir('box-ctl-');
  let live: LiveSetup;
  beforeAll(async () => {
    live = await startLive(dir.path, 1);
  });
  afterAll(async () => {
    await live?.close();
    dir.remove();
  });

  it('relays hub and teaching-point messages both ways, in order, once each, and catches up after reconnect', async () => {
    const { hub, tps, lesson, hubToken, tpTokens } = live;
    const tp = tps[0]!.box;
    // Each box stores a message under the sender its credential names (a screen speaks for its own box),
    // whatever the message calls itself: the names the clients give below are ignored.
    const hubId = hub.box.identity.boxId;
    const tpId = tp.identity.boxId;
    await waitFor(() => (tp.context.media!.agent!.status()[0]?.control.connected ? true : undefined), 20_000);
    const consoleUrl = `${hub.box.url}/api/lessons/${lesson.id}/control`;
    const kioskUrl = `${tp.url}/api/lessons/${lesson.id}/control`;

    // Wrong token: refused before the upgrade.
    await expect(new ControlClient(consoleUrl, 'mt_wrong').connect()).rejects.toThrow(/401/);

    const hubConsole = new ControlClient(consoleUrl, hubToken);
    const kiosk = new ControlClient(kioskUrl, tpTokens[0]!);
    await hubConsole.connect();
    await kiosk.connect();

    hubConsole.send({ sender: 'hub-console', seq: 1, type: 'lesson', body: { state: 'started' } });
    for (let p = 1; p <= 5; p++) hubConsole.send({ sender: 'hub-console', seq: p + 1, type: 'page', body: { item: 'item-1', page: p } });
    kiosk.send({ sender: 'tp-kiosk', seq: 1, type: 'hand', body: { raised: true } });
    kiosk.send({ sender: 'tp-kiosk', seq: 1, type: 'hand', body: { raised: true } }); // a resend after a lost ack
    // (Was a stroke: a classroom screen may send only its hand now; pen strokes are the hub console's.)
    kiosk.send({ sender: 'tp-kiosk', seq: 2, type: 'hand', body: { raised: false } });

    const pages = (es: ControlEvent[]) => es.filter((e) => e.type === 'page').map((e) => e.body.page);
    await waitFor(() => (pages(kiosk.events).length === 5 ? true : undefined), 15_000);
    expect(pages(kiosk.events)).toEqual([1, 2, 3, 4, 5]);
    await waitFor(() => (hubConsole.events.filter((e) => e.sender === tpId).length === 2 ? true : undefined), 15_000);
    const fromTp = hubConsole.events.filter((e) => e.sender === tpId);
    expect(fromTp.map((e) => [e.type, e.seq])).toEqual([['hand', 1], ['hand', 2]]);
    expect(hubConsole.events.some((e) => e.sender === 'tp-kiosk' || e.sender === 'hub-console')).toBe(false);
    expect(kiosk.acks.filter((a) => a.seq === 1)).toHaveLength(2); // acked twice, stored once
    expect(hub.box.context.media!.lessons.get(lesson.id)!.status).toBe('live');

    // Timestamped on the lesson timeline (the lesson began a minute ago) and stored on both boxes.
    const hand = fromTp[0]!;
    expect(hand.at).toBeGreaterThan(50_000);
    expect(hand.at).toBeLessThan(5 * 60_000);
    const timeline = async (url: string, token: string) =>
      ((await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as { events: ControlEvent[] }).events;
    const onHub = await timeline(`${hub.box.url}/api/lessons/${lesson.id}/timeline`, hubToken);
    expect(onHub.filter((e) => e.sender === tpId)).toHaveLength(2);
    const onTp = await timeline(`${tp.url}/api/lessons/${lesson.id}/timeline`, tpTokens[0]!);
    expect(pages(onTp)).toEqual([1, 2, 3, 4, 5]);
    // The hub's timestamp travels with the message: same `at` on both boxes.
    expect(onTp.find((e) => e.sender === hubId && e.seq === 3)!.at).toBe(onHub.find((e) => e.sender === hubId && e.seq === 3)!.at);

    // The kiosk drops off; the hub goes on; the kiosk comes back and gets exactly what it missed.
    kiosk.close();
    const had = kiosk.events.length;
    for (let p = 6; p <= 8; p++) hubConsole.send({ sender: 'hub-console', seq: p + 1, type: 'page', body: { item: 'item-1', page: p } });
    await waitFor(() => (pages(tp.context.media!.control.since(lesson.id, 0)).length === 8 ? true : undefined), 15_000);
    await kiosk.connect();
    await waitFor(() => (kiosk.events.length === had + 3 ? true : undefined), 15_000);
    expect(pages(kiosk.events)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(kiosk.errors).toEqual([]);

    // A malformed message gets an error frame, not a dropped connection.
    kiosk.send({ sender: 'tp-kiosk', seq: 0, type: 'hand', body: {} });
    await waitFor(() => (kiosk.errors.length === 1 ? true : undefined), 5000);
    expect(kiosk.errors[0]).toBe('E_VALIDATION');
    hubConsole.close();
    kiosk.close();
  });
});
