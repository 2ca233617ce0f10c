// Recordings on the whiteboard: the hub console runs a short lesson (real camera over WHIP, page turns and
// a pen stroke on the control channel) while the hub records it; then the recordings screen lists it,
// plays it from the Range URL, seeks, and the courseware pane shows each page at its moment in the video.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ControlEvent } from '../../core/contract/lesson.js';
import type { RecordingEntry } from '../../core/contract/recording.js';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { pinSession, tempDir, TEST_PIN } from '../support/boxes.js';
import { createLesson, startKioskBoxes, type KioskBoxes } from '../support/kiosk-boxes.js';
import { authoriseScreen } from '../support/kiosk-page.js';
import { waitFor } from '../support/daemon.js';

async function seekTo(page: Page, seconds: number): Promise<number> {
  return page.evaluate((s) => new Promise<number>((resolve) => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')!;
    v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
    v.currentTime = s;
  }), seconds);
}

const paneLabel = (page: Page) => page.getByTestId('courseware').getAttribute('aria-label');

describe('recordings screen: list, play, seek, courseware at its time', () => {
  const dir = tempDir('box-e2e-recordings-');
  let boxes: KioskBoxes;
  let browser: Browser;
  let page: Page;
  let lessonId: string;
  let rec: RecordingEntry;
  let pageTwoAtS = 0;
  const ranges: number[] = [];
  /** Every URL the page asked for: the <video> plays with a ticket, never the screen's token. */
  const urls: string[] = [];

  beforeAll(async () => {
    boxes = await startKioskBoxes(dir.path, {}, { recording: { tickMs: 500, segmentSeconds: 2 } });
    lessonId = (await createLesson(boxes.hub.box.url, boxes.tp.box.identity.boxId, '录像回放课')).id;
    browser = await launchBrowser();
    page = (await whiteboard(browser)).page;
    page.on('response', (r) => { if (r.url().includes('/api/recordings/') && r.url().includes('/media')) ranges.push(r.status()); });
    page.on('request', (r) => { urls.push(r.url()); });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    dir.remove();
  }, 120_000);

  it('the hub console shows the recording indicator while a lesson is recorded', async () => {
    onTestFailed(() => screenshot(page, 'FAILED-recordings-console').catch(() => undefined));
    await page.goto(boxes.hub.box.url);
    await authoriseScreen(page, TEST_PIN);
    await page.getByTestId('nav-console').tap();
    await page.getByTestId('start-lesson').tap();
    await page.getByTestId('end-lesson').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="hub-self"]');
      return !!v && v.videoWidth > 0 && v.currentTime > 0.5;
    }, undefined, { timeout: 60_000 });
    const indicator = page.getByTestId('recording-indicator');
    await expect.poll(() => indicator.getAttribute('data-recording'), { timeout: 30_000 }).toBe('true');
    expect(await indicator.textContent()).toContain('正在录像');
    await page.waitForTimeout(4000);
    await page.getByTestId('page-next').tap();
    await expect.poll(() => page.getByTestId('console-page').textContent()).toBe('第 2 页');
    await page.getByTestId('pen').tap();
    const board = (await page.getByTestId('strokes').boundingBox())!;
    await page.mouse.move(board.x + 100, board.y + 100);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(board.x + 100 + i * 30, board.y + 100 + i * 15);
    await page.mouse.up();
    await page.waitForTimeout(4000);
    await page.getByTestId('page-next').tap();
    await expect.poll(() => page.getByTestId('console-page').textContent()).toBe('第 3 页');
    await page.waitForTimeout(3000);
    await screenshot(page, 'hub-console-recording');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('end-lesson').tap();
    await page.getByTestId('start-lesson').waitFor({ timeout: 30_000 });
  }, 180_000);

  it('lists the finished recording and plays it, seeking, with the courseware page of each moment', async () => {
    onTestFailed(() => screenshot(page, 'FAILED-recordings-play').catch(() => undefined));
    const session = await pinSession(boxes.hub.box.url, TEST_PIN);
    const get = async <T>(path: string) => (await (await fetch(`${boxes.hub.box.url}${path}`, { headers: { authorization: `Bearer ${session}` } })).json()) as T;
    rec = await waitFor(async () => (await get<{ recordings: RecordingEntry[] }>('/api/recordings')).recordings.find((r) => r.lessonId === lessonId && r.state === 'complete'), 90_000, 1000);
    // Where the page-2 turn is on the media clock, worked out here from the lesson, independently of the screen.
    const lesson = boxes.hub.box.context.media!.lessons.get(lessonId)!;
    const events = await get<ControlEvent[]>(`/api/recordings/${encodeURIComponent(rec.id)}/timeline`);
    const turn = events.find((e) => e.type === 'page' && e.body.page === 2)!;
    pageTwoAtS = (turn.at - (Date.parse(rec.startedAt) - Date.parse(lesson.startsAt))) / 1000;
    expect(pageTwoAtS).toBeGreaterThan(2);

    await page.getByTestId('nav-recordings').tap();
    const row = page.getByTestId(`recording-${rec.id}`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('录像回放课');
    expect(await row.getAttribute('data-state')).toBe('complete');
    await screenshot(page, 'recordings-list');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByTestId(`play-${rec.id}`).tap();
    await page.getByTestId('recording-player').waitFor();
    await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')?.readyState ?? 0) >= 1, undefined, { timeout: 20_000 });
    await page.getByTestId('recording-toggle').tap();
    await page.waitForFunction(() => { const v = document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')!; return v.currentTime > 0.5 && v.videoWidth > 0; }, undefined, { timeout: 20_000 });
    expect(await paneLabel(page)).toBe('课件 — 第 1 页');
    expect(ranges).toContain(206);
    const media = urls.filter((u) => u.includes('/api/recordings/') && u.includes('/media'));
    expect(media.length).toBeGreaterThan(0);
    expect(media.every((u) => /\/api\/recordings\/[^/?]+\/media\?ticket=tk_[A-Za-z0-9_-]{32}$/.test(u))).toBe(true);
    expect(urls.filter((u) => /mt_[A-Za-z0-9_-]{8,}|[?&]token=/.test(u))).toEqual([]);

    // Seek past the turn: page 2 with its stroke; back before it: page 1 again, no stroke.
    expect(await seekTo(page, pageTwoAtS + 1.5)).toBeGreaterThan(pageTwoAtS + 1);
    await expect.poll(() => paneLabel(page), { timeout: 10_000 }).toBe('课件 — 第 2 页');
    await expect.poll(() => page.getByTestId('strokes').getAttribute('data-count'), { timeout: 10_000 }).toBe('1');
    await screenshot(page, 'recordings-play-page2');
    expect(await seriousViolations(page)).toEqual([]);
    await seekTo(page, Math.max(0, pageTwoAtS - 1.5));
    await expect.poll(() => paneLabel(page), { timeout: 10_000 }).toBe('课件 — 第 1 页');
    expect(await page.getByTestId('strokes').getAttribute('data-count')).toBe('0');
    // Playing on through the turn, the page changes by itself at its moment.
    await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')!.play());
    await expect.poll(() => paneLabel(page), { timeout: 15_000 }).toBe('课件 — 第 2 页');
    const shownAt = await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="recording-video"]')!.currentTime);
    expect(shownAt).toBeGreaterThanOrEqual(pageTwoAtS - 0.05);
    expect(shownAt).toBeLessThan(pageTwoAtS + 1.5);
  }, 180_000);

  it('plays in English too, with touch targets of at least 64 px', async () => {
    await page.getByTestId('lang-switch').tap();
    expect(await page.getByTestId('recording-toggle').textContent()).toMatch(/^(Play|Pause)$/);
    await page.getByTestId('recordings-back').tap();
    await page.getByTestId(`recording-${rec.id}`).waitFor();
    expect(await page.getByTestId(`recording-${rec.id}`).textContent()).toContain('Ready to play');
    await screenshot(page, 'recordings-list-en');
    const small = await page.evaluate(() => [...document.querySelectorAll('button, a[href], input')].map((el) => {
      const r = el.getBoundingClientRect();
      return r.width < 64 || r.height < 64 ? `${el.textContent?.trim()} ${Math.round(r.width)}×${Math.round(r.height)}` : null;
    }).filter((x) => x !== null));
    expect(small).toEqual([]);
    await page.getByTestId(`play-${rec.id}`).tap();
    await page.getByTestId('recording-player').waitFor();
    const smallInPlayer = await page.evaluate(() => [...document.querySelectorAll('button, a[href], input')].map((el) => {
      const r = el.getBoundingClientRect();
      return r.width < 64 || r.height < 64 ? `${el.textContent?.trim() || el.getAttribute('aria-label')} ${Math.round(r.width)}×${Math.round(r.height)}` : null;
    }).filter((x) => x !== null));
    expect(smallInPlayer).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
  }, 60_000);
});
