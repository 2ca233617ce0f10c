// The rural teacher's one tap: home → 加入课堂 → the hub's video plays on the whiteboard → hand-raise is
// seen on the hub console → leave; then the same in English. A hub and an enrolled teaching point composed
// as the demo composes them (startBox, real enrolment, real lesson links), real Chromium, real WebRTC.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { tempDir, TEST_PIN } from '../support/boxes.js';
import { startKioskBoxes, createLesson, type KioskBoxes } from '../support/kiosk-boxes.js';
import { authoriseScreen } from '../support/kiosk-page.js';
import { waitFor } from '../support/daemon.js';
import { broadcastRoom } from '../../core/contract/lesson.js';

const LIVE_TIMEOUT = 60_000;

async function videoPlays(page: Page, testid: string): Promise<void> {
  // Frames really arrive: the picture has a size and its clock moves.
  await page.waitForFunction((id) => {
    const v = document.querySelector<HTMLVideoElement>(`[data-testid="${id}"]`);
    return !!v && v.videoWidth > 0 && v.currentTime > 0.5 && !v.paused;
  }, testid, { timeout: LIVE_TIMEOUT });
}

describe('live lesson: whiteboard and hub console', () => {
  const dir = tempDir('box-e2e-live-');
  let boxes: KioskBoxes;
  let browser: Browser;
  let hubPage: Page;
  let tpPage: Page;
  let tpId: string;
  let lessonId: string;
  let pin: string;
  const lessonTitle = '分数的初步认识';
  /** Every URL the two pages ask for (HTTP and WebSocket): a screen's token must be in none of them. */
  const urls: string[] = [];

  beforeAll(async () => {
    boxes = await startKioskBoxes(dir.path);
    tpId = boxes.tp.box.identity.boxId;
    lessonId = (await createLesson(boxes.hub.box.url, tpId, lessonTitle)).id;
    pin = TEST_PIN;
    browser = await launchBrowser();
    hubPage = (await whiteboard(browser)).page;
    tpPage = (await whiteboard(browser)).page;
    for (const p of [hubPage, tpPage]) {
      p.on('request', (r) => { urls.push(r.url()); });
      p.on('websocket', (ws) => { urls.push(ws.url()); });
    }
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    dir.remove();
  }, 120_000);

  it('hub console shows the lesson with its teaching point, starts it and sends its camera', async () => {
    await hubPage.goto(boxes.hub.box.url);
    await authoriseScreen(hubPage, pin);
    await hubPage.getByTestId('nav-console').tap();
    await hubPage.getByTestId(`point-${tpId}`).waitFor({ timeout: LIVE_TIMEOUT });
    expect(await hubPage.getByTestId('start-lesson').textContent()).toBe('开始上课');
    await screenshot(hubPage, 'hub-console');
    expect(await seriousViolations(hubPage)).toEqual([]);
    await hubPage.getByTestId('start-lesson').tap();
    await hubPage.getByTestId('end-lesson').waitFor({ timeout: LIVE_TIMEOUT });
    await videoPlays(hubPage, 'hub-self');

    // The hub box ends the camera's session (as it does after 10 s disconnected, on a starved box): the
    // console puts the camera back on the air by itself, and the lesson goes on for every teaching point.
    const sfu = boxes.hub.box.context.media!.sfu;
    const room = broadcastRoom(lessonId);
    const first = sfu.listSessions(room).find((x) => x.kind === 'whip');
    expect(first).toBeDefined();
    const endedAt = Date.now();
    await sfu.end(first!.id, 'test: session dropped');
    const again = await waitFor(() => sfu.listSessions(room).find((x) => x.kind === 'whip' && x.id !== first!.id), 45_000, 250);
    await expect.poll(() => sfu.roomStats(room)?.publisher?.rateBps ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => hubPage.getByTestId('console-problem').count(), { timeout: 10_000 }).toBe(0);
    console.log(`hub camera back on the air ${again.createdAt - endedAt} ms after its session was dropped`);
    await screenshot(hubPage, 'hub-console-live');
    expect(await seriousViolations(hubPage)).toEqual([]);
  }, 120_000);

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`teaching point joins with one tap, sees the hub, raises a hand the hub sees, leaves (${lang})`, async () => {
      onTestFailed(async () => {
        console.warn('on failure: tp room', JSON.stringify(boxes.tp.box.context.media?.sfu.roomStats(lessonId)), 'links', JSON.stringify(boxes.tp.box.context.media?.agent?.status()));
        const hubSfu = boxes.hub.box.context.media?.sfu;
        console.warn('on failure: hub room', JSON.stringify(hubSfu?.roomStats(broadcastRoom(lessonId))), 'sessions', JSON.stringify(hubSfu?.listSessions()),
          'egress', JSON.stringify([...(hubSfu?.findRoom(broadcastRoom(lessonId))?.subscribers ?? [])].map((p) => ({ linkOf: p.linkOf, layer: p.layer, rung: p.ladder?.rung, video: p.sentVideo, audio: p.sentAudio }))));
        await screenshot(tpPage, `FAILED-kiosk-${lang}`).catch(() => undefined);
        await screenshot(hubPage, `FAILED-hub-${lang}`).catch(() => undefined);
      });
      const words = lang === 'zh-CN' ? { join: '加入课堂', leave: '离开课堂', hand: '举手' } : { join: 'Join lesson', leave: 'Leave lesson', hand: 'Raise hand' };
      if (lang === 'zh-CN') {
        await tpPage.goto(boxes.tp.box.url);
        await authoriseScreen(tpPage, pin);
        await tpPage.getByTestId('nav-home').tap();
      } else {
        await tpPage.getByTestId('lang-switch').tap();
      }
      const join = tpPage.getByTestId('join');
      await expect.poll(async () => (await join.textContent())?.trim(), { timeout: LIVE_TIMEOUT }).toBe(words.join);
      await expect.poll(() => tpPage.getByTestId('next-lesson').textContent(), { timeout: 10_000 }).toContain(lessonTitle);
      await screenshot(tpPage, `kiosk-home-${lang}`);
      expect(await seriousViolations(tpPage)).toEqual([]);

      await join.tap();
      await tpPage.getByTestId('screen-lesson').waitFor();
      await videoPlays(tpPage, 'hub-video');
      await expect.poll(() => tpPage.getByTestId('lesson-status').getAttribute('data-playing')).toBe('true');
      expect(await tpPage.getByTestId('leave').textContent()).toBe(words.leave);
      expect(await tpPage.getByTestId('hand').textContent()).toBe(words.hand);

      await tpPage.getByTestId('hand').tap();
      await tpPage.getByTestId('hand-raised').waitFor({ timeout: 15_000 });
      await hubPage.getByTestId(`hand-${tpId}`).waitFor({ timeout: 20_000 });
      await screenshot(tpPage, `kiosk-lesson-${lang}`);
      await screenshot(hubPage, `hub-console-hand-${lang}`);
      expect(await seriousViolations(tpPage)).toEqual([]);

      if (lang === 'zh-CN') {
        // The hub teacher writes on the courseware and turns the page; the whiteboard follows live.
        await hubPage.getByTestId('pen').tap();
        const board = await hubPage.getByTestId('strokes').boundingBox();
        await hubPage.mouse.move(board!.x + 100, board!.y + 100);
        await hubPage.mouse.down();
        for (let i = 1; i <= 10; i++) await hubPage.mouse.move(board!.x + 100 + i * 30, board!.y + 100 + i * 15);
        await hubPage.mouse.up();
        await expect.poll(() => tpPage.getByTestId('strokes').getAttribute('data-count'), { timeout: 15_000 }).toBe('1');
        await hubPage.getByTestId('page-next').tap();
        await expect.poll(() => tpPage.getByTestId('courseware').getAttribute('aria-label'), { timeout: 15_000 }).toBe('课件 — 第 2 页');
        // Strokes belong to their page: the new page starts clean.
        expect(await tpPage.getByTestId('strokes').getAttribute('data-count')).toBe('0');
        // Mute from the hub switches the classroom microphone off at the whiteboard.
        await hubPage.getByTestId(`point-${tpId}`).getByRole('button', { name: '静音' }).tap();
        await tpPage.getByTestId('muted-by-hub').waitFor({ timeout: 15_000 });
        expect(await tpPage.evaluate(() => (document.querySelector<HTMLVideoElement>('[data-testid="self-view"]')!.srcObject as MediaStream).getAudioTracks().every((tr) => !tr.enabled))).toBe(true);
        await screenshot(tpPage, 'kiosk-lesson-muted-strokes');
        await hubPage.getByTestId(`point-${tpId}`).getByRole('button', { name: '取消静音' }).tap();
        await tpPage.getByTestId('muted-by-hub').waitFor({ state: 'detached', timeout: 15_000 });
        await hubPage.getByTestId('page-prev').tap();
        await expect.poll(() => tpPage.getByTestId('strokes').getAttribute('data-count'), { timeout: 15_000 }).toBe('1');
      }

      // Lower the hand again so the next round starts clean, then leave.
      await tpPage.getByTestId('hand').tap();
      await hubPage.getByTestId(`hand-${tpId}`).waitFor({ state: 'detached', timeout: 20_000 });
      // Leaving ends the whiteboard's WHEP session on its box (DELETE), not only the page's peer connection.
      const watchers = () => boxes.tp.box.context.media!.sfu.roomStats(lessonId)?.subscribers ?? 0;
      expect(watchers()).toBeGreaterThanOrEqual(1);
      await tpPage.getByTestId('leave').tap();
      await tpPage.getByTestId('screen-home').waitFor();
      await expect.poll(watchers, { timeout: 15_000 }).toBe(0);
    }, 200_000);
  }

  it('hub console ends the lesson; the whiteboard then offers no lesson to join', async () => {
    await hubPage.getByTestId('end-lesson').tap();
    await hubPage.getByTestId('start-lesson').waitFor({ timeout: 15_000 });
    // The end reaches the teaching point through its box: the big button no longer offers the lesson.
    await expect.poll(async () => (await tpPage.getByTestId('join').textContent())?.trim(), { timeout: LIVE_TIMEOUT }).toBe('No lesson to join now');
    expect(await tpPage.getByTestId('join').isDisabled()).toBe(true);
  }, 120_000);

  it('no URL either page asked for carries a media token; the control channel opened with a single-use ticket', () => {
    expect(urls.length).toBeGreaterThan(50);
    expect(urls.filter((u) => /mt_[A-Za-z0-9_-]{8,}|[?&]token=/.test(u))).toEqual([]);
    const controls = urls.filter((u) => u.includes('/control'));
    expect(controls.length).toBeGreaterThanOrEqual(2);
    expect(controls.every((u) => /^ws:\/\/[^/]+\/api\/lessons\/[A-Za-z0-9_-]+\/control\?ticket=tk_[A-Za-z0-9_-]{32}$/.test(u))).toBe(true);
    expect(new Set(controls).size).toBe(controls.length);
  });
});
