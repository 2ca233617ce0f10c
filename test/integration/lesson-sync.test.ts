// A live lesson has first claim on a teaching point's link: while one of its lessons is in progress,
// sync takes only its lesson share (or pauses when the link speed is unknown), and goes back to full
// speed when the lesson ends; the lesson's courseware is protected from eviction as "wanted soon".
import { describe, it, expect, afterAll } from 'vitest';
import { tempDir, pinSession } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { createLesson, startLive, type LiveSetup } from '../support/live-boxes.js';

interface CatalogStatus { lessonActive: boolean; plan: { paused: boolean; reason: string; downloadBps: number } }

async function catalogStatus(url: string): Promise<CatalogStatus> {
  return (await (await fetch(`${url}/api/catalog/status`)).json()) as CatalogStatus;
}

describe('live lessons and the resource sync', () => {
  const dir = tempDir('box-lesson-sync-');
  let live: LiveSetup | undefined;
  afterAll(async () => {
    await live?.close();
    dir.remove();
  });

  it('throttles or pauses sync while a lesson is in progress and lifts it when the lesson ends', async () => {
    live = await startLive(dir.path, 1, { lesson: false });
    const { hub, tps } = live;
    const tp = tps[0]!;
    expect((await catalogStatus(tp.box.url)).plan.reason).toBe('open');

    // A lesson that started a minute ago reaches the teaching point's timetable: sync pauses (link speed unknown).
    const lesson = await createLesson(hub.box.url, [tp.box.identity.boxId], -60_000, 20 * 60_000);
    const paused = await waitFor(async () => { const s = await catalogStatus(tp.box.url); return s.lessonActive ? s : undefined; }, 30_000, 200);
    expect(paused.plan).toMatchObject({ paused: true, reason: 'lesson-paused' });
    // The hub runs the lesson too: its own sync yields as well.
    await waitFor(async () => ((await catalogStatus(hub.box.url)).lessonActive ? true : undefined), 10_000, 200);

    // With the link speed stated, sync goes on at the lesson share (default 10 %) instead.
    const session = await pinSession(tp.box.url);
    const put = await fetch(`${tp.box.url}/api/catalog/preferences`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ linkKbps: 2000 }),
    });
    expect(put.status).toBe(200);
    const shared = await waitFor(async () => { const s = await catalogStatus(tp.box.url); return s.plan.reason === 'lesson-share' ? s : undefined; }, 10_000, 200);
    expect(shared.plan.downloadBps).toBe(25_000); // 10 % of 2 Mbit/s in bytes per second

    // The lesson is cut short on the hub: full speed again once the teaching point's timetable says so.
    const hubSession = await pinSession(hub.box.url);
    const { subject, grade, title, hubTeacher, teachingPoints, startsAt, courseware } = lesson;
    const end = await fetch(`${hub.box.url}/api/lessons/${lesson.id}`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${hubSession}` },
      body: JSON.stringify({ subject, grade, title, hubTeacher, teachingPoints, startsAt, courseware, endsAt: new Date(Date.now() - 1000).toISOString() }),
    });
    expect(end.status).toBe(200);
    const open = await waitFor(async () => { const s = await catalogStatus(tp.box.url); return s.lessonActive ? undefined : s; }, 30_000, 200);
    expect(open.plan).toMatchObject({ paused: false, reason: 'open' });
  }, 120_000);
});
