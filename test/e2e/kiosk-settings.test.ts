// Settings behind the PIN on the whiteboard: five wrong PINs lock it with a plain message; the right PIN
// after the lockout opens settings (pairing, storage, self-check, log export, language).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, TEST_PIN } from '../support/boxes.js';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { startKioskBoxes, type KioskBoxes } from '../support/kiosk-boxes.js';
import { openSettings, typePin } from '../support/kiosk-page.js';
import { RENDERER_CSP } from '../../main/http/routes/renderer.js';

const LOCKOUT_SECONDS = 3;

describe('kiosk settings behind the PIN', () => {
  const dir = tempDir('box-e2e-settings-');
  let boxes: KioskBoxes;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    boxes = await startKioskBoxes(dir.path, { security: { pinLockoutSeconds: LOCKOUT_SECONDS } });
    browser = await launchBrowser();
    page = (await whiteboard(browser)).page;
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    dir.remove();
  });

  it('serves the app under a CSP without inline scripts, and the page breaks none of it', async () => {
    const res = await page.goto(boxes.tp.box.url);
    expect(res?.headers()['content-security-policy']).toBe(RENDERER_CSP);
    expect(RENDERER_CSP).toContain("script-src 'self'");
    expect(RENDERER_CSP).not.toContain('unsafe-inline');
    const html = await (await fetch(boxes.tp.box.url)).text();
    // Every script is an external file: no inline code for the CSP to have to allow.
    expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\bsrc="\/[^"]+"/.test(tag))).toBe(true);
    await page.getByTestId('screen-home').waitFor();
    // Not set up for lessons yet: the home screen says so instead of an empty timetable.
    await page.getByTestId('screen-unauthorised').waitFor();
    await screenshot(page, 'kiosk-home-not-set-up');
    expect(await seriousViolations(page)).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('locks after five wrong PINs with a plain message, and opens with the right PIN once the lockout is over', async () => {
    await openSettings(page);
    await screenshot(page, 'kiosk-settings-pin');
    expect(await seriousViolations(page)).toEqual([]);
    const message = page.getByTestId('pin-message');
    for (let i = 1; i <= 4; i++) {
      await typePin(page, '000000');
      await expect.poll(() => message.textContent()).toBe(`密码不对。还可以再试 ${5 - i} 次。`);
    }
    await typePin(page, '000000');
    await expect.poll(() => message.textContent()).toMatch(/^密码错误次数太多，设置已锁定。请 \d+ 秒后再试。$/);
    await screenshot(page, 'kiosk-settings-locked');
    // Locked means locked: even the right PIN is refused until the time is up.
    await typePin(page, TEST_PIN);
    await expect.poll(() => message.textContent()).toContain('设置已锁定');
    expect(await page.getByTestId('screen-settings').count()).toBe(0);

    await new Promise((r) => setTimeout(r, LOCKOUT_SECONDS * 1000 + 500));
    await typePin(page, TEST_PIN);
    await page.getByTestId('screen-settings').waitFor();
    await expect.poll(() => page.getByTestId('hub-pairing').textContent()).toBe('已配对，连接正常');
    expect(await page.getByTestId('storage').textContent()).toMatch(/^剩余 .+，共 .+$/);
    await screenshot(page, 'kiosk-settings');
    expect(await seriousViolations(page)).toEqual([]);
  }, 60_000);

  it('runs the box self-check and exports the log from settings', async () => {
    await page.getByTestId('doctor-run').tap();
    const results = page.getByTestId('doctor-results');
    await results.waitFor({ timeout: 30_000 });
    expect(await results.textContent()).toContain('中心校连接 Hub reachable');
    await screenshot(page, 'kiosk-settings-doctor');
    const download = page.waitForEvent('download');
    await page.getByTestId('log-export').tap();
    const file = await (await download).path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string });
    expect(lines.some((l) => l.action === 'settings.lockout')).toBe(true);
  }, 60_000);

  it('downloads the audit log as a spreadsheet file (CSV with BOM and Chinese headers) from settings', async () => {
    const button = page.getByTestId('audit-export');
    expect(await button.textContent()).toBe('导出审计日志（表格）');
    // A big touch target on the whiteboard.
    expect((await button.boundingBox())!.height).toBeGreaterThanOrEqual(72);
    const download = page.waitForEvent('download');
    await button.tap();
    const d = await download;
    expect(d.suggestedFilename()).toMatch(/^audit-.+\.csv$/);
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync((await d.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.split('\r\n')[0]).toBe('编号,时间,操作者,操作,对象,结果,详情');
    expect(text).toContain('settings.lockout');
    await screenshot(page, 'kiosk-settings-audit-export');
  }, 60_000);

  it('switches the box to English from settings, and a fresh screen opens in English', async () => {
    await page.getByTestId('language-en').tap();
    await expect.poll(() => page.getByTestId('nav-home').textContent()).toBe('Home');
    const fresh = (await whiteboard(browser)).page;
    await fresh.goto(boxes.tp.box.url);
    await expect.poll(() => fresh.getByTestId('nav-home').textContent(), { timeout: 15_000 }).toBe('Home');
    await fresh.getByTestId('nav-settings').tap();
    await fresh.getByTestId('pinpad').waitFor();
    expect(await fresh.locator('.pinpad h2').textContent()).toBe('Enter the settings PIN');
    await screenshot(fresh, 'kiosk-settings-pin-en');
    expect(await seriousViolations(fresh)).toEqual([]);
  }, 60_000);

  it('says plainly why a screen not set up for lessons shows no recordings', async () => {
    const fresh = (await whiteboard(browser)).page;
    await fresh.goto(`${boxes.tp.box.url}/recordings`);
    await fresh.getByTestId('screen-recordings').waitFor();
    // Recordings are read with the screen's media token: a screen not set up says so in plain words.
    await fresh.getByTestId('screen-unauthorised').waitFor({ timeout: 15_000 });
    expect(await fresh.getByTestId('screen-unauthorised').textContent()).toContain('This screen is not set up for lessons yet.');
    await screenshot(fresh, 'kiosk-recordings');
    expect(await seriousViolations(fresh)).toEqual([]);
  });

  it('every touch target on every kiosk screen is at least 64 px at 1920×1080', async () => {
    const fresh = (await whiteboard(browser)).page;
    const small: string[] = [];
    let checked = 0;
    for (const path of ['/', '/library', '/recordings', '/settings']) {
      await fresh.goto(`${boxes.tp.box.url}${path}`);
      await fresh.getByTestId('app').and(fresh.locator('[data-state="ready"]')).waitFor();
      await fresh.waitForTimeout(300);
      checked += await fresh.locator('button, a[href], input').count();
      small.push(...await fresh.evaluate((p) => [...document.querySelectorAll('button, a[href], input')].map((el) => {
        const r = el.getBoundingClientRect();
        return r.width < 64 || r.height < 64 ? `${p}: ${el.textContent?.trim() || el.getAttribute('aria-label')} ${Math.round(r.width)}×${Math.round(r.height)}` : null;
      }).filter((x): x is string => x !== null), path));
    }
    expect(checked).toBeGreaterThan(20);
    expect(small).toEqual([]);
  }, 60_000);
});
