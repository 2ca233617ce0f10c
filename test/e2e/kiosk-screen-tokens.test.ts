// The technician's list of screens behind the PIN (what each may do, until when, and a big button to
// take it away), and two hub consoles on one broadcast: the second is told the room is busy, takes it
// over on purpose, and the first says why its camera left the air instead of fighting back.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { tempDir, TEST_PIN } from '../support/boxes.js';
import { createLesson, startKioskBoxes, type KioskBoxes } from '../support/kiosk-boxes.js';
import { authoriseScreen, openSettings, typePin } from '../support/kiosk-page.js';
import { mediaToken } from '../support/live-boxes.js';
import { broadcastRoom } from '../../core/contract/lesson.js';

const LIVE_TIMEOUT = 60_000;

async function onAir(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid="hub-self"]');
    return !!v && v.videoWidth > 0 && v.currentTime > 0.5;
  }, undefined, { timeout: LIVE_TIMEOUT });
}

describe('screens: the list in settings, and one broadcast for two consoles', () => {
  const dir = tempDir('box-e2e-screens-');
  let boxes: KioskBoxes;
  let browser: Browser;
  let first: Page;
  let lessonId: string;

  beforeAll(async () => {
    boxes = await startKioskBoxes(dir.path);
    lessonId = (await createLesson(boxes.hub.box.url, boxes.tp.box.identity.boxId, '两块主讲屏')).id;
    browser = await launchBrowser();
    first = (await whiteboard(browser)).page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    dir.remove();
  }, 120_000);

  it('settings lists each screen with what it may do and until when; removing one stops its token at once', async () => {
    onTestFailed(() => screenshot(first, 'FAILED-screen-tokens').catch(() => undefined));
    const hub = boxes.hub.box.url;
    const tablet = await mediaToken(hub, 'view');
    await first.goto(hub);
    await openSettings(first);
    await typePin(first, TEST_PIN);
    await first.getByTestId('screen-settings').waitFor();
    await first.getByTestId('screen-authorise').tap();
    await first.getByTestId('screen-revoke').waitFor();
    const list = first.getByTestId('screen-tokens');
    // This screen (the hub's: a console) and the tablet issued a moment ago (watch only).
    await expect.poll(() => list.locator('li').count()).toBe(2);
    const mine = list.locator('li[data-scope="console"]');
    expect(await mine.textContent()).toContain('（就是这块屏幕）');
    expect(await mine.textContent()).toContain('主讲控制台');
    const other = list.locator('li[data-scope="view"]');
    expect(await other.textContent()).toMatch(/只能观看 · 有效期到 \d{4}\/\d{1,2}\/\d{1,2}/);
    await screenshot(first, 'settings-screen-tokens');
    expect(await seriousViolations(first)).toEqual([]);
    const small = await first.evaluate(() => [...document.querySelectorAll('[data-testid="screen-tokens"] button')].map((el) => {
      const r = el.getBoundingClientRect();
      return r.width < 64 || r.height < 64 ? `${el.textContent?.trim()} ${Math.round(r.width)}×${Math.round(r.height)}` : null;
    }).filter((x) => x !== null));
    expect(small).toEqual([]);

    expect((await fetch(`${hub}/api/lessons`, { headers: { authorization: `Bearer ${tablet}` } })).status).toBe(200);
    await other.getByRole('button').tap();
    await expect.poll(() => list.locator('li').count()).toBe(1);
    expect((await fetch(`${hub}/api/lessons`, { headers: { authorization: `Bearer ${tablet}` } })).status).toBe(401);
    await first.getByTestId('settings-lock').tap();
  }, 90_000);

  it('a second console finds the broadcast busy, takes it over on purpose; the first shows why and stays off the air', async () => {
    const second = (await whiteboard(browser)).page;
    onTestFailed(async () => {
      await screenshot(first, 'FAILED-console-first').catch(() => undefined);
      await screenshot(second, 'FAILED-console-second').catch(() => undefined);
    });
    const sfu = boxes.hub.box.context.media!.sfu;
    const room = broadcastRoom(lessonId);
    const whips = () => sfu.listSessions(room).filter((s) => s.kind === 'whip');

    await first.getByTestId('nav-console').tap();
    await first.getByTestId('start-lesson').tap();
    await first.getByTestId('end-lesson').waitFor({ timeout: LIVE_TIMEOUT });
    await onAir(first);
    const firstSession = whips()[0]!.id;

    await second.goto(boxes.hub.box.url);
    await authoriseScreen(second, TEST_PIN);
    await second.getByTestId('nav-console').tap();
    // The lesson is already running (the first console started it): the second offers to go on the air.
    await second.getByTestId('go-on-air').tap();
    const blocked = second.getByTestId('console-blocked');
    await blocked.waitFor({ timeout: LIVE_TIMEOUT });
    expect(await blocked.getAttribute('data-why')).toBe('busy');
    expect(await blocked.textContent()).toContain('已经有别的设备在播出主讲画面');
    expect(whips().map((s) => s.id)).toEqual([firstSession]);
    await screenshot(second, 'console-room-busy');
    expect(await seriousViolations(second)).toEqual([]);

    await second.getByTestId('take-over').tap();
    await onAir(second);
    await expect.poll(() => second.getByTestId('console-blocked').count(), { timeout: 10_000 }).toBe(0);
    const taken = first.getByTestId('console-blocked');
    await expect.poll(() => taken.getAttribute('data-why').catch(() => null), { timeout: 45_000 }).toBe('taken');
    expect(await taken.textContent()).toContain('另一块主讲屏幕接管了播出');
    await screenshot(first, 'console-taken-over');
    // The first console does not fight back: after a while the room still has the second's camera only.
    await new Promise((r) => setTimeout(r, 8000));
    const now = whips();
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(firstSession);
    expect(sfu.sessionState(firstSession)).toEqual({ state: 'ended', reason: 'taken-over' });
    expect(sfu.roomStats(room)?.publisher?.rateBps ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
