// The offline library on the whiteboard, filled by real sync from a seed: search in Chinese, browse by
// grade and subject, play a video and seek (Range), turn a PDF page (pdf.js), show a picture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { startKioskBoxes, type KioskBoxes } from '../support/kiosk-boxes.js';
import { publishToSeed, refresh, setPreferences, startSeed, waitForLibrary } from '../support/sync-fixtures.js';
import { makePdf, makeVideo } from '../support/library-content.js';

describe('library on the whiteboard', () => {
  const dir = tempDir('box-e2e-library-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  let seed: TestBox;
  let boxes: KioskBoxes;
  let browser: Browser;
  let page: Page;
  const ranges: number[] = [];
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    const content = join(dir.path, 'content');
    mkdirSync(content, { recursive: true });
    makeVideo(content, 'fractions.webm');
    makePdf(content, 'fractions.pdf', 3);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=800x600', '-frames:v', '1', join(content, 'poem.png')]);
    const base = { grade: 3, edition: '人教版', tags: [] as string[] };
    const meta = {
      publisher: '县教育局资源中心',
      items: [
        { ...base, id: 'math-3-fractions-video', title: '分数的初步认识 微课视频', subject: '数学', unit: '第八单元 分数的初步认识', kind: 'video' as const, file: 'fractions.webm' },
        { ...base, id: 'math-3-fractions-pdf', title: '分数的初步认识 课件', subject: '数学', unit: '第八单元 分数的初步认识', kind: 'courseware-pdf' as const, file: 'fractions.pdf' },
        { ...base, id: 'chinese-3-poem-image', title: '古诗三首 插图', subject: '语文', unit: '第一单元', kind: 'image' as const, file: 'poem.png' },
      ],
    };
    seed = await startSeed(county, publisher, join(dir.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, content, meta);
    await seed.box.context.sync!.engine.tick();
    boxes = await startKioskBoxes(dir.path, {}, { county, publisherKeys: [publisher.publicKey] });
    await setPreferences(boxes.tp.box.url, { sources: [seed.box.url], webSeedFallbackMs: 3000, reserveBytes: 0 });
    expect((await refresh(boxes.tp.box.url)).status).toBe(200);
    await waitForLibrary(boxes.tp.box.url, 3, 90_000);
    browser = await launchBrowser();
    page = (await whiteboard(browser)).page;
    page.on('console', (m) => { if (/Content Security Policy|standard ?font|Unable to load|cmap/i.test(m.text())) consoleProblems.push(m.text()); });
    page.on('response', (r) => { if (r.url().includes('/api/library/items/') && r.url().endsWith('/file')) ranges.push(r.status()); });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    await seed?.close();
    dir.remove();
  });

  it('browses by grade and subject, and searches in Chinese', async () => {
    await page.goto(boxes.tp.box.url);
    await page.getByTestId('nav-library').tap();
    const results = page.getByTestId('library-results');
    await expect.poll(() => results.locator('li').count(), { timeout: 15_000 }).toBe(3);
    expect(await page.getByTestId('library-count').textContent()).toBe('共 3 项');
    expect(await page.getByTestId('library-more').count()).toBe(0); // all shown: no "show more"
    await screenshot(page, 'library-browse');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('group', { name: '学科' }).getByRole('button', { name: '语文' }).tap();
    await expect.poll(() => results.locator('li').allTextContents()).toEqual([expect.stringContaining('古诗三首 插图')]);
    await page.getByRole('group', { name: '学科' }).getByRole('button', { name: '全部' }).tap();
    await expect.poll(() => results.locator('li').count()).toBe(3);

    // What the whiteboard's IME commits into the plain input: Chinese text, then the search button.
    await page.getByTestId('library-search').tap();
    await page.keyboard.insertText('分数');
    await page.getByTestId('library-search-go').tap();
    await expect.poll(() => results.locator('li').count()).toBe(2);
    expect(await page.getByTestId('library-count').textContent()).toBe('共 2 项');
    expect((await results.textContent())).not.toContain('古诗');
    await screenshot(page, 'library-search');

    await page.getByTestId('library-search').fill('');
    await page.keyboard.insertText('几何图形');
    await page.getByTestId('library-search-go').tap();
    await page.getByTestId('library-empty').waitFor();
    expect(await page.getByTestId('library-empty').textContent()).toBe('没有找到相关的资源。');
  }, 60_000);

  it('plays a video and seeks in it (Range requests)', async () => {
    await page.getByTestId('library-search').fill('');
    await page.getByTestId('library-search-go').tap();
    await page.getByTestId('item-math-3-fractions-video').tap();
    const video = page.getByTestId('video-player');
    await video.waitFor();
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 1, undefined, { timeout: 20_000 });
    const seeked = await page.evaluate(() => new Promise<number>((resolve) => {
      const v = document.querySelector('video')!;
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.currentTime = 8;
    }));
    expect(seeked).toBeGreaterThan(7.5);
    await page.evaluate(() => document.querySelector('video')!.play());
    await page.waitForFunction(() => { const v = document.querySelector('video')!; return v.currentTime > 8.3 && v.videoWidth === 640; }, undefined, { timeout: 20_000 });
    expect(ranges).toContain(206);
    await screenshot(page, 'library-video');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('library-back').tap();
  }, 60_000);

  it('opens a PDF and turns to the next page', async () => {
    await page.getByTestId('item-math-3-fractions-pdf').tap();
    const canvas = page.getByTestId('pdf-canvas');
    await expect.poll(() => canvas.getAttribute('data-rendered-page'), { timeout: 30_000 }).toBe('1');
    // pdf.js really drew the page: the coloured band is on the canvas.
    const coloured = () => page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="pdf-canvas"]')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4 * 97) if (d[i + 2]! > 150 && d[i]! < 150) n++;
      return n;
    });
    expect(await coloured()).toBeGreaterThan(50);
    // The page text ("Page 1", Helvetica not embedded) is drawn with the font data the box ships.
    const dark = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="pdf-canvas"]')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! < 80 && d[i + 1]! < 80 && d[i + 2]! < 80) n++;
      return n;
    });
    expect(dark).toBeGreaterThan(200);
    expect(consoleProblems).toEqual([]);
    expect(await page.getByTestId('pdf-page').textContent()).toBe('第 1 页，共 3 页');
    await page.getByTestId('pdf-next').tap();
    await expect.poll(() => canvas.getAttribute('data-rendered-page'), { timeout: 15_000 }).toBe('2');
    expect(await page.getByTestId('pdf-page').textContent()).toBe('第 2 页，共 3 页');
    await screenshot(page, 'library-pdf');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('library-back').tap();
  }, 60_000);

  it('shows a picture', async () => {
    await page.getByTestId('item-chinese-3-poem-image').tap();
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('[data-testid="image-view"]')?.naturalWidth ?? 0) === 800, undefined, { timeout: 15_000 });
    await screenshot(page, 'library-image');
    expect(await seriousViolations(page)).toEqual([]);
  }, 30_000);
});
