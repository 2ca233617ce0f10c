// The fixture most live tests share: a hub and N teaching points with a lesson running now, and one
// Chromium, started before the file's tests and torn down after them (even when a test fails).
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.js';
import { tempDir, type TestBox } from './boxes.js';
import { waitFor } from './daemon.js';
import { startLive, type LiveSetup } from './live-boxes.js';

export interface LiveFixture {
  /** Set once beforeAll has run: read them inside tests, not at collection time. */
  live: LiveSetup;
  browser: Browser;
}

export function liveFixture(prefix: string, teachingPoints: number): LiveFixture {
  const dir = tempDir(prefix);
  const f = {} as LiveFixture;
  beforeAll(async () => {
    f.live = await startLive(dir.path, teachingPoints);
    f.browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await f.browser?.close();
    await f.live?.close();
    dir.remove();
  });
  return f;
}

/** The teaching point's own WHEP pull of the hub's lesson is up. */
export function relayConnected(tp: TestBox, timeoutMs = 30_000): Promise<true> {
  return waitFor(() => (tp.box.context.media!.agent!.status()[0]?.pull.state === 'connected' ? true : undefined), timeoutMs);
}
