// A flood on the lesson control channel, from the most trusted screens there are (the hub console, a
// teaching point's whiteboard): throttled per credential, closed with a stable code, and the stored
// timeline, on the hub and replicated to the teaching point, grows by less than 1 MB.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, mediaToken, type LiveSetup } from '../support/live-boxes.js';
import { ControlClient } from '../support/live-control-client.js';
import type { TestBox } from '../support/boxes.js';

const MB = 1024 * 1024;

/** Bytes of control-message bodies a box has stored for a lesson, read from its database. */
function storedBytes(b: TestBox, lessonId: string): number {
  const row = b.box.context.db.prepare('SELECT COALESCE(sum(length(CAST(body AS BLOB))), 0) AS n FROM lesson_events WHERE lesson_id = ?').get(lessonId) as { n: number };
  return row.n;
}

async function flood(client: ControlClient, n: number, msg: (i: number) => Parameters<ControlClient['send']>[0]): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (client.closed) break;
    client.send(msg(i));
    // Let the box's answers in now and then, as a real flooder's socket would.
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
}

describe('control channel quotas', () => {
  const dir = tempDir('box-flood-');
  let live: LiveSetup;
  beforeAll(async () => {
    live = await startLive(dir.path, 1);
  });
  afterAll(async () => {
    await live?.close();
    dir.remove();
  });

  it('1,000 messages of 30 kB from a console token: throttled, the connection closed with E_CONTROL_QUOTA, under 1 MB stored on hub and teaching point', async () => {
    const { hub, tps, lesson, hubToken } = live;
    const tp = tps[0]!;
    await waitFor(() => (tp.box.context.media!.agent!.status()[0]?.control.connected ? true : undefined), 20_000);
    const before = { hub: storedBytes(hub, lesson.id), tp: storedBytes(tp, lesson.id) };
    const started = Date.now();
    const pad = 'x'.repeat(30_000);
    const stroke = (i: number) => ({ sender: 'x', seq: 10_000 + i, type: 'stroke' as const, body: { page: 1, points: [[0, 0], [1, 1]], color: '#000', width: 2, pad } });
    const flooder = new ControlClient(`${hub.box.url}/api/lessons/${lesson.id}/control`, hubToken);
    await flooder.connect();
    await flood(flooder, 1000, stroke);
    await waitFor(() => (flooder.closed ? true : undefined), 15_000);
    expect(flooder.closed).toEqual({ code: 1008, reason: 'E_CONTROL_QUOTA' });
    expect(flooder.errors.filter((c) => c === 'E_CONTROL_QUOTA').length).toBeGreaterThanOrEqual(10);

    // Reconnecting does not refill the account: the same token's second flood is refused as well.
    const again = new ControlClient(`${hub.box.url}/api/lessons/${lesson.id}/control`, hubToken);
    await again.connect();
    await flood(again, 1000, (i) => stroke(2000 + i));
    await waitFor(() => (again.closed ? true : undefined), 15_000);
    expect(again.acks.length).toBeLessThan(15);

    // Whatever got through reaches the teaching point; wait for its copy to settle, then measure both.
    await new Promise((r) => setTimeout(r, 2000));
    const grown = { hub: storedBytes(hub, lesson.id) - before.hub, tp: storedBytes(tp, lesson.id) - before.tp };
    console.log(`control flood (2 × 1,000 × 30 kB in ${Date.now() - started} ms): stored on hub +${grown.hub} B, on teaching point +${grown.tp} B; accepted ${flooder.acks.length + again.acks.length} messages`);
    expect(grown.hub).toBeLessThan(MB);
    expect(grown.tp).toBeLessThan(MB);

    // The lesson goes on for everyone else: another console screen's message is taken at once.
    const other = new ControlClient(`${hub.box.url}/api/lessons/${lesson.id}/control`, await mediaToken(hub.box.url, 'console'));
    await other.connect();
    other.send({ sender: 'x', seq: 1, type: 'page', body: { item: 'item-1', page: 3 } });
    await waitFor(() => (other.acks.length === 1 ? true : undefined), 5000);
    other.close();
  }, 90_000);

  it('a teaching point\'s whiteboard flooding raised hands is throttled there, and its box relays no more than it stored', async () => {
    const { hub, tps, lesson, tpTokens } = live;
    const tp = tps[0]!;
    const before = { hub: storedBytes(hub, lesson.id), tp: storedBytes(tp, lesson.id) };
    const pad = 'y'.repeat(30_000);
    const kiosk = new ControlClient(`${tp.box.url}/api/lessons/${lesson.id}/control`, tpTokens[0]!);
    await kiosk.connect();
    await flood(kiosk, 1000, (i) => ({ sender: 'x', seq: 50_000 + i, type: 'hand', body: { raised: i % 2 === 0, pad } }));
    await waitFor(() => (kiosk.closed ? true : undefined), 15_000);
    expect(kiosk.closed?.reason).toBe('E_CONTROL_QUOTA');
    await waitFor(() => (tp.box.context.media!.agent!.status()[0]?.control.pending === 0 ? true : undefined), 20_000);
    const grown = { hub: storedBytes(hub, lesson.id) - before.hub, tp: storedBytes(tp, lesson.id) - before.tp };
    console.log(`hand flood (1,000 × 30 kB): stored on teaching point +${grown.tp} B, relayed to hub +${grown.hub} B`);
    expect(grown.tp).toBeLessThan(MB);
    expect(grown.hub).toBeLessThanOrEqual(grown.tp);
    kiosk.close();
  }, 60_000);
});
