// A daemon restart never leaves a blank whiteboard: the service worker serves the shell, the shell says
// in plain words that the box service is not answering, and comes back by itself when it returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { generateKeyPair } from '../../core/signing.js';
import { startTestBox, tempDir, type TestBox } from '../support/boxes.js';
import { launchBrowser, screenshot, whiteboard } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('offline shell (service worker)', () => {
  const dir = tempDir('box-e2e-offline-');
  const county = generateKeyPair();
  let hub: TestBox;
  let tp: TestBox | undefined;
  let browser: Browser;
  let page: Page;
  let port: number;

  const startTp = async (first: boolean) => {
    const { code } = first ? hub.box.context.codes.create('教学点', 1) : { code: undefined };
    tp = await startTestBox({
      county, dataDir: join(dir.path, 'tp'), configExtra: { listen: { host: '127.0.0.1', port } },
      ...(first ? { draft: { role: 'teaching-point' as const, schoolId: 'tp-1', name: '村教学点', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code } } : {}),
      start: { hubCheckIntervalMs: 2000 },
    });
    await tp.box.context.hubLink!.tick();
  };

  beforeAll(async () => {
    hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' } });
    port = await freePort();
    await startTp(true);
    browser = await launchBrowser();
    page = (await whiteboard(browser)).page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    await hub?.close();
    dir.remove();
  });

  it('reload with the daemon stopped still shows the shell with an offline message, then recovers by itself', async () => {
    const url = `http://127.0.0.1:${port}/`;
    await page.goto(url);
    await page.getByTestId('screen-home').waitFor();
    // The service worker has precached the shell and controls the page.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });

    await tp!.close();
    tp = undefined;
    await page.reload();
    const down = page.getByTestId('daemon-down');
    await down.waitFor({ timeout: 15_000 });
    expect(await down.locator('h1').textContent()).toBe('盒子服务暂时连接不上');
    await screenshot(page, 'kiosk-daemon-down');
    expect(await seriousViolations(page)).toEqual([]);

    // No reload, no touch: the page notices the daemon is back.
    await startTp(false);
    await page.getByTestId('screen-home').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('daemon-down').count()).toBe(0);
  }, 90_000);

  it('shows the hub-offline banner while the hub is unreachable and clears it when the hub returns', async () => {
    const hubPort = new URL(hub.box.url).port;
    const hubDir = hub.config.dataDir;
    await hub.close();
    const banner = page.getByTestId('hub-offline');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toBe('中心校暂时连接不上。本机的资源库和录像可以照常使用。');
    await screenshot(page, 'kiosk-hub-offline');
    expect(await seriousViolations(page)).toEqual([]);
    hub = await startTestBox({ county, dataDir: hubDir, configExtra: { listen: { host: '127.0.0.1', port: Number(hubPort) } } });
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
  }, 90_000);
});
