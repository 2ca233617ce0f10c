// A digital textbook is content from outside: opened from the box in real Chromium, its page and SVG scripts
// run (if at all) in an opaque origin and cannot read the kiosk's media token from the box origin's
// localStorage, nor send it anywhere; every file route says so in its headers; a video still plays and seeks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { launchBrowser, whiteboard } from '../support/browser.js';
import { publishToSeed, startSeed, waitForLibrary } from '../support/sync-fixtures.js';
import { makeVideo } from '../support/library-content.js';

const SECRET = 'mt_KIOSKSECRETtoken0123456789abcdef';

/** What a hostile textbook page tries: read the token, show it, and send it to the box by every way it has. */
const STEAL = `
  var got;
  try { got = 'stolen:' + localStorage.getItem('box.mediaToken'); } catch (e) { got = 'refused:' + e.name; }
  document.title = got;
  document.getElementById('out').textContent = got;
  try { fetch('/api/library?q=' + encodeURIComponent(got)).catch(function () {}); } catch (e) {}
  try { new Image().src = '/api/library?img=' + encodeURIComponent(got); } catch (e) {}
  try { navigator.sendBeacon('/api/library?beacon=' + encodeURIComponent(got)); } catch (e) {}
`;

describe('library pages run sandboxed, away from the kiosk storage', () => {
  const dir = tempDir('box-e2e-sandbox-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  let seed: TestBox;
  let browser: Browser;
  let page: Page;
  let ih: { book: string; video: string };
  const sent: string[] = [];

  beforeAll(async () => {
    const content = join(dir.path, 'content');
    mkdirSync(join(content, 'book', 'js'), { recursive: true });
    writeFileSync(join(content, 'book', 'index.html'), `<!doctype html><html><head><meta charset="utf-8"><title>课本</title><script src="js/app.js"></script></head>
      <body><p id="out">not run</p><p id="app"></p><script>${STEAL}</script></body></html>`);
    writeFileSync(join(content, 'book', 'js', 'app.js'), "window.addEventListener('DOMContentLoaded', function () { document.getElementById('app').textContent = '课件脚本已运行'; });");
    writeFileSync(join(content, 'book', 'pic.svg'), `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text id="out">svg</text><script>${STEAL}</script></svg>`);
    makeVideo(content, 'clip.webm', 10);
    const base = { subject: '语文', grade: 3, edition: '人教版', unit: '第一单元', tags: [] as string[] };
    const meta = {
      publisher: '县教育局资源中心',
      items: [
        { ...base, id: 'book-html', title: '电子课本', kind: 'textbook' as const, file: 'book' },
        { ...base, id: 'clip', title: '微课', kind: 'video' as const, file: 'clip.webm' },
      ],
    };
    seed = await startSeed(county, publisher, join(dir.path, 'seed'));
    const { items } = await publishToSeed(seed.config.dataDir, publisher, content, meta);
    ih = { book: items.find((i) => i.id === 'book-html')!.infohash, video: items.find((i) => i.id === 'clip')!.infohash };
    await seed.box.context.sync!.engine.tick();
    await waitForLibrary(seed.box.url, 2);
    browser = await launchBrowser();
    page = (await whiteboard(browser, { serviceWorkers: 'block' })).page;
    page.on('request', (r) => sent.push(`${r.url()} ${r.postData() ?? ''}`));
    // The kiosk's own page holds its media token in the box origin's storage.
    await page.goto(seed.box.url);
    await page.evaluate((t) => localStorage.setItem('box.mediaToken', JSON.stringify({ token: t, id: 'screen-1' })), SECRET);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await seed?.close();
    dir.remove();
  });

  it('a textbook page runs its own scripts but cannot read or send the kiosk token', async () => {
    await page.goto(`${seed.box.url}/api/library/items/book-html/files/index.html`);
    await expect.poll(() => page.locator('#app').textContent()).toBe('课件脚本已运行');
    await expect.poll(() => page.locator('#out').textContent()).toMatch(/^refused:SecurityError$/);
    expect(await page.title()).toBe('refused:SecurityError');
    // The web-seed path to the same page is sandboxed the same way.
    await page.goto(`${seed.box.url}/catalog/files/${ih.book}/book/index.html`);
    await expect.poll(() => page.locator('#out').textContent()).toMatch(/^refused:/);
    await page.waitForTimeout(500);
    expect(sent.filter((s) => s.includes(SECRET))).toEqual([]);
    // The token is still there for the kiosk itself: the page was denied, not the box origin emptied.
    await page.goto(seed.box.url);
    expect(await page.evaluate(() => localStorage.getItem('box.mediaToken'))).toContain(SECRET);
  }, 60_000);

  it('an SVG opened on its own cannot read the kiosk token either', async () => {
    await page.goto(`${seed.box.url}/api/library/items/book-html/files/pic.svg`);
    await page.waitForTimeout(500);
    expect(await page.title()).not.toContain(SECRET);
    expect(await page.content()).not.toContain(SECRET);
    expect(sent.filter((s) => s.includes(SECRET))).toEqual([]);
  }, 30_000);

  it('a video opened on its own still plays and seeks (Range)', async () => {
    const statuses: number[] = [];
    page.on('response', (r) => { if (r.url().endsWith('/api/library/items/clip/file')) statuses.push(r.status()); });
    await page.goto(`${seed.box.url}/api/library/items/clip/file`);
    // The video's own document runs no script (sandbox without allow-scripts): no listener or timer fires there, so poll from here.
    const state = () => page.evaluate(() => { const v = document.querySelector('video'); return v ? { ready: v.readyState, seeking: v.seeking, t: v.currentTime } : null; });
    await expect.poll(async () => (await state())?.ready ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await page.evaluate(() => { const v = document.querySelector('video')!; v.pause(); v.currentTime = 7; });
    await expect.poll(async () => { const s = await state(); return s && !s.seeking && s.ready >= 2 ? s.t : -1; }, { timeout: 20_000 }).toBeGreaterThan(6.5);
    expect(await page.evaluate(() => document.querySelector('video')!.videoWidth)).toBe(640);
    expect(statuses).toContain(206);
  }, 60_000);

  it('sends nosniff and a sandboxing CSP on every file route', async () => {
    const urls = [
      '/api/library/items/clip/file', '/api/library/items/book-html/files/index.html', '/api/library/items/book-html/files/pic.svg',
      '/api/library/items/book-html/files/js/app.js', `/catalog/files/${ih.video}`, `/catalog/files/${ih.book}/book/index.html`,
    ];
    for (const u of urls) {
      const res = await fetch(`${seed.box.url}${u}`, { headers: { range: 'bytes=0-9' } });
      expect(res.status, u).toBe(206);
      expect(res.headers.get('x-content-type-options'), u).toBe('nosniff');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, u).toMatch(/(^|; )sandbox( |;|$)/);
      expect(csp, u).toContain("default-src 'none'");
      expect(csp, u).toContain("connect-src 'none'");
      // Script may run only in an opaque origin: never allow-scripts together with allow-same-origin.
      expect(csp.includes('allow-scripts') && csp.includes('allow-same-origin'), u).toBe(false);
    }
    for (const u of ['/api/library/items/book-html/files/index.html', '/api/library/items/book-html/files/pic.svg']) {
      expect((await fetch(`${seed.box.url}${u}`)).headers.get('content-security-policy'), u).not.toContain('allow-same-origin');
    }
  }, 30_000);
});
