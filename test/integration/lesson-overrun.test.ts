// Hub teachers often run past the timetable's end. A lesson the hub teacher started runs until the hub
// teacher ends it: the teaching point keeps pulling the hub's picture, its whiteboard keeps playing it and
// its recorder keeps recording; the end reaches the whiteboard at once; a hub that vanished mid-lesson
// ends it by the overrun cap. Real boxes, the synthetic camera the demo uses, a real kiosk in Chromium.
// Both boxes read a clock the test moves, so "5 minutes past endsAt" takes seconds, not minutes.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OffsetClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { broadcastRoom, type Lesson, type LessonLinkStatus } from '../../core/contract/lesson.js';
import type { RecordingEntry } from '../../core/contract/recording.js';
import type { Sfu } from '../../media/sfu.js';
import { startDemoCamera, type DemoCamera } from '../../main/demo/camera.js';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { tempDir, TEST_PIN, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { authoriseScreen } from '../support/kiosk-page.js';
import { startKioskBoxes } from '../support/kiosk-boxes.js';
import { createLesson, mediaToken } from '../support/live-boxes.js';
import { ControlClient } from '../support/live-control-client.js';
import { recRow, segRows } from '../support/recording.js';

const MIN = 60_000;

/** Packets arriving in a room of a box, counted by a tap beside the recorder's. */
function countPackets(sfu: Sfu, room: string): () => number {
  let n = 0;
  sfu.room(room).taps.add({ video: () => { n++; }, audio: () => { n++; } });
  return () => n;
}

const linkOf = (tp: TestBox, lessonId: string): LessonLinkStatus | undefined =>
  tp.box.context.media!.agent!.status().find((l) => l.lessonId === lessonId);

async function lessonsOn(tp: TestBox, token: string): Promise<{ lessons: Lesson[]; links: LessonLinkStatus[] }> {
  const res = await fetch(`${tp.box.url}/api/lessons`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { lessons: Lesson[]; links: LessonLinkStatus[] };
}

/** The hub teacher's console: the control channel on the hub, sending as the console does (its box id as sender). */
async function hubConsole(hub: TestBox, lessonId: string, token: string): Promise<{ say(state: 'started' | 'ended'): void; close(): void }> {
  const c = new ControlClient(`${hub.box.url}/api/lessons/${lessonId}/control`, token);
  await c.connect();
  let seq = Date.now();
  return {
    say: (state) => c.send({ sender: hub.box.identity.boxId, seq: ++seq, type: 'lesson', body: { state } }),
    close: () => c.close(),
  };
}

/** Hub and teaching point with a lesson ending 2 minutes from now, started by the hub teacher, the demo camera on air. */
async function startedLesson(root: string, clock: OffsetClock, lessonOverrunCapMs?: number) {
  const boxes = await startKioskBoxes(root, {}, { start: { clock, recording: { segmentSeconds: 3 }, ...(lessonOverrunCapMs ? { lessonOverrunCapMs } : {}) } });
  let camera: DemoCamera | undefined;
  let teacher: Awaited<ReturnType<typeof hubConsole>> | undefined;
  try {
    const tpId = boxes.tp.box.identity.boxId;
    const lesson = await createLesson(boxes.hub.box.url, [tpId], -MIN, 3 * MIN);
    const [hubToken, tpToken] = await Promise.all([mediaToken(boxes.hub.box.url), mediaToken(boxes.tp.box.url)]);
    camera = await startDemoCamera(boxes.hub.box.context.media!.sfu, broadcastRoom(lesson.id), silentLogger(), { width: 320, height: 240, fps: 15, kbps: 300 });
    teacher = await hubConsole(boxes.hub, lesson.id, hubToken);
    teacher.say('started');
    const tpMedia = boxes.tp.box.context.media!;
    await waitFor(() => (tpMedia.lessons.get(lesson.id)?.status === 'live' ? true : undefined), 20_000, 100);
    await waitFor(() => (linkOf(boxes.tp, lesson.id)?.pull.state === 'connected' ? true : undefined), 30_000, 100);
    // The teaching point records what it receives: at least one finished segment before time moves.
    await waitFor(() => (segRows(boxes.tp.box.context.db, lesson.id, broadcastRoom(lesson.id)).length >= 1 ? true : undefined), 60_000, 250);
    return { boxes, lesson, hubToken, tpToken, camera, hubTeacher: teacher };
  } catch (e) {
    teacher?.close();
    await camera?.close();
    await boxes.close();
    throw e;
  }
}

/** Moves both boxes' clock to `at` (ms since epoch on their clock). */
function jumpTo(clock: OffsetClock, at: number): void {
  clock.setOffset(clock.offset + at - clock.now());
}

function recorded(tp: TestBox, lessonId: string): { segments: number; bytes: number } {
  const rows = tp.box.context.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM recording_segments WHERE lesson_id = ? AND room = ?')
    .get(lessonId, broadcastRoom(lessonId)) as { n: number; b: number };
  return { segments: rows.n, bytes: rows.b };
}

describe('a lesson the hub teacher runs past its end', () => {
  const dir = tempDir('box-overrun-');
  const clock = new OffsetClock();
  let s: Awaited<ReturnType<typeof startedLesson>>;
  let browser: Browser;
  let tpPage: Page;

  beforeAll(async () => {
    s = await startedLesson(dir.path, clock);
    browser = await launchBrowser();
    tpPage = (await whiteboard(browser)).page;
  }, 180_000);

  afterAll(async () => {
    s?.hubTeacher.close();
    await browser?.close();
    await s?.camera.close();
    await s?.boxes.close();
    dir.remove();
  }, 120_000);

  const dump = (name: string) => onTestFailed(async () => {
    const { boxes, lesson } = s;
    console.warn(`on failure (${name}): tp links`, JSON.stringify(boxes.tp.box.context.media?.agent?.status()),
      'tp lesson', JSON.stringify(boxes.tp.box.context.media?.lessons.get(lesson.id)), 'tp recording', JSON.stringify(recRow(boxes.tp.box.context.db, lesson.id, lesson.id)),
      'clock offset', clock.offset);
    await screenshot(tpPage, `FAILED-overrun-${name}`).catch(() => undefined);
  });

  it('5 minutes past endsAt the teaching point still pulls, plays and records the hub', async () => {
    dump('past-end');
    const { boxes, lesson } = s;
    const tp = boxes.tp;
    // The rural teacher joined during the lesson: the whiteboard plays the hub's picture.
    await tpPage.goto(tp.box.url);
    await authoriseScreen(tpPage, TEST_PIN);
    await tpPage.getByTestId('nav-home').tap();
    await expect.poll(async () => (await tpPage.getByTestId('join').textContent())?.trim(), { timeout: 30_000 }).toBe('加入课堂');
    await tpPage.getByTestId('join').tap();
    await tpPage.getByTestId('screen-lesson').waitFor();
    const playedS = () => tpPage.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="hub-video"]')?.currentTime ?? 0);
    await expect.poll(playedS, { timeout: 60_000 }).toBeGreaterThan(0.5);

    const packets = countPackets(tp.box.context.media!.sfu, broadcastRoom(lesson.id));
    const connects = linkOf(tp, lesson.id)!.pull.connects;
    jumpTo(clock, Date.parse(lesson.endsAt) + 5 * MIN);
    const at = { packets: packets(), rec: recorded(tp, lesson.id), playedS: await playedS() };
    // Several agent rounds (500 ms), timetable refreshes (1 s) and recorder rounds (1 s) on the moved clock.
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const link = linkOf(tp, lesson.id);
      expect(link?.pull.state, `round ${i}`).toBe('connected');
      expect(link?.pull.connects).toBe(connects);
    }
    const after = { packets: packets(), rec: recorded(tp, lesson.id), playedS: await playedS() };
    console.log(`at endsAt + 5 min, over 10 s: ${after.packets - at.packets} packets into the broadcast room, ${after.rec.segments - at.rec.segments} segments / ${after.rec.bytes - at.rec.bytes} bytes recorded, whiteboard played ${(after.playedS - at.playedS).toFixed(1)} s`);
    expect(after.packets - at.packets).toBeGreaterThan(200);
    expect(recRow(tp.box.context.db, lesson.id, broadcastRoom(lesson.id))!.state).toBe('recording');
    expect(after.rec.segments - at.rec.segments).toBeGreaterThanOrEqual(2);
    expect(after.rec.bytes).toBeGreaterThan(at.rec.bytes);
    expect(after.playedS - at.playedS).toBeGreaterThan(5);
    const onTp = await lessonsOn(tp, s.tpToken);
    expect(onTp.lessons.find((l) => l.id === lesson.id)?.status).toBe('live');
    expect(onTp.links.find((l) => l.lessonId === lesson.id)?.pull.state).toBe('connected');
    expect(tp.box.context.media!.lessons.get(lesson.id)!.endsAt).toBe(lesson.endsAt);
  }, 180_000);

  it('the hub teacher ends it: the whiteboard says so within 3 s, the links go, the recording is joined', async () => {
    dump('ended');
    const { boxes, lesson } = s;
    const tp = boxes.tp;
    const t0 = Date.now();
    s.hubTeacher.say('ended');
    const [screenMs, apiMs, linksMs] = await Promise.all([
      tpPage.getByTestId('lesson-ended').waitFor({ timeout: 15_000 }).then(() => Date.now() - t0),
      waitFor(async () => ((await lessonsOn(tp, s.tpToken)).lessons.find((l) => l.id === lesson.id)?.status === 'ended' ? Date.now() - t0 : undefined), 15_000, 100),
      waitFor(async () => ((await lessonsOn(tp, s.tpToken)).links.some((l) => l.lessonId === lesson.id) ? undefined : Date.now() - t0), 15_000, 100),
    ]);
    console.log(`after 'ended': whiteboard said so in ${screenMs} ms, /api/lessons status in ${apiMs} ms, links gone in ${linksMs} ms`);
    expect(await tpPage.getByTestId('lesson-ended').textContent()).toBe('这节课已经结束。');
    expect(screenMs).toBeLessThanOrEqual(3000);
    expect(apiMs).toBeLessThanOrEqual(3000);
    expect(linksMs).toBeLessThanOrEqual(3000);
    await screenshot(tpPage, 'kiosk-lesson-ended-after-overrun');

    const done = await waitFor(() => {
      const r = recRow(tp.box.context.db, lesson.id, broadcastRoom(lesson.id));
      return r && r.state !== 'recording' ? r : undefined;
    }, 60_000, 250);
    expect(done.state, done.warning ?? '').toBe('joined');
    const list = (await (await fetch(`${tp.box.url}/api/recordings`, { headers: { authorization: `Bearer ${s.tpToken}` } })).json()) as { recordings: RecordingEntry[] };
    const own = list.recordings.find((r) => r.source === 'own' && r.lessonId === lesson.id && r.room === broadcastRoom(lesson.id));
    expect(own?.state).toBe('complete');
    console.log(`teaching point's recording joined ${Date.now() - t0} ms after 'ended': ${own?.durationSeconds} s`);
  }, 120_000);
});

describe('a hub that vanishes mid-lesson', () => {
  const dir = tempDir('box-overrun-gone-');
  const clock = new OffsetClock();
  const capMs = 20_000;
  let s: Awaited<ReturnType<typeof startedLesson>> | undefined;

  afterAll(async () => {
    s?.hubTeacher.close();
    await s?.camera.close();
    await s?.boxes.close();
    dir.remove();
  }, 120_000);

  it('the teaching point ends the lesson by itself at endsAt + the cap: links stopped, recording finished', async () => {
    s = await startedLesson(dir.path, clock, capMs);
    const { boxes, lesson } = s;
    const tp = boxes.tp;
    onTestFailed(() => {
      console.warn('on failure: tp links', JSON.stringify(tp.box.context.media?.agent?.status()), 'tp recording', JSON.stringify(recRow(tp.box.context.db, lesson.id, lesson.id)));
    });
    s.hubTeacher.close();
    await s.camera.close();
    await boxes.hub.close();

    // Past endsAt, inside the cap: the hub may come back, the teaching point keeps the lesson.
    jumpTo(clock, Date.parse(lesson.endsAt) + 5000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(linkOf(tp, lesson.id)).toBeDefined();
    expect(recRow(tp.box.context.db, lesson.id, broadcastRoom(lesson.id))!.state).toBe('recording');

    jumpTo(clock, Date.parse(lesson.endsAt) + capMs + 1000);
    const t0 = Date.now();
    await waitFor(() => (linkOf(tp, lesson.id) ? undefined : true), 10_000, 100);
    const linksMs = Date.now() - t0;
    const done = await waitFor(() => {
      const r = recRow(tp.box.context.db, lesson.id, broadcastRoom(lesson.id));
      return r && r.state !== 'recording' ? r : undefined;
    }, 60_000, 250);
    console.log(`hub gone, clock past endsAt + ${capMs / 1000} s: links stopped in ${linksMs} ms, recording ${done.state} after ${Date.now() - t0} ms`);
    expect(done.state, done.warning ?? '').toBe('joined');
    expect(tp.box.context.media!.sfu.findRoom(broadcastRoom(lesson.id))?.publisher).toBeUndefined();
    // Nobody ended it: the box's copy still says started; the lesson clock says over.
    expect(tp.box.context.media!.lessons.get(lesson.id)!.status).toBe('live');
  }, 180_000);
});
