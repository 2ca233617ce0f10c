// The teaching point in its own network namespace behind a veth "WAN": a 10 s outage in the middle
// of a lesson, and the local screen plays again without anyone touching anything.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { provision, startTestBox, tempDir, testConfig, writeConfigFile, type TestBox } from '../support/boxes.js';
import { waitFor, type Daemon } from '../support/daemon.js';
import { createLesson, fastMedia, mediaToken } from '../support/live-boxes.js';
import { createSite, type Site } from '../support/live-netns.js';
import { expectPlaying, pageOn, play, playerStats, publish } from '../support/chromium-webrtc.js';

const TP_PORT = 8431;

describe('WAN outage between hub and teaching point', () => {
  const dir = tempDir('box-wan-');
  let site: Site;
  let hub: TestBox;
  let tpd: Daemon | undefined;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    site = createSite(dir.path);
  });
  afterAll(async () => {
    for (const b of browsers) await b.close().catch(() => undefined);
    if (tpd && tpd.child.exitCode === null) {
      tpd.child.kill('SIGTERM');
      await Promise.race([tpd.exited, new Promise((r) => setTimeout(r, 5000))]);
      if (tpd.child.exitCode === null) tpd.child.kill('SIGKILL');
    }
    await hub?.close();
    site?.remove();
    dir.remove();
  });

  it('the teaching point resumes the lesson by itself after a 10 s outage and after a hub restart', async () => {
    const county = generateKeyPair();
    hub = await startTestBox({
      county, dataDir: join(dir.path, 'hub'), configExtra: { listen: { host: site.hubAddress, port: 0 } },
      draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' }, start: { media: fastMedia },
    });
    const hubUrl = `http://${site.hubAddress}:${hub.box.port}`;

    // The teaching point runs as a real daemon inside its namespace.
    const tpDir = join(dir.path, 'tp');
    const { code } = hub.box.context.codes.create('山村教学点', 1);
    const tpConfig = testConfig(tpDir, county, { listen: { host: '0.0.0.0', port: TP_PORT } });
    provision(tpConfig, county, { role: 'teaching-point', schoolId: 'tp-wan', name: '山村教学点', hub: { url: hubUrl, publicKey: hub.box.identity.publicKey }, enrolmentCode: code });
    const cfgFile = writeConfigFile(dir.path, { dataDir: tpDir, listen: { host: '0.0.0.0', port: TP_PORT }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } });
    tpd = site.spawnCli(['start', '--config', cfgFile]);
    const tpUrl = `http://${site.siteAddress}:${TP_PORT}`;
    const health = await waitFor(async () => {
      const r = await fetch(`${tpUrl}/api/health`, { signal: AbortSignal.timeout(1000) });
      return r.ok ? ((await r.json()) as { boxId: string }) : undefined;
    }, 30_000, 250);
    const lesson = await createLesson(hub.box.url, [health.boxId]);
    const hubToken = await mediaToken(hub.box.url);
    const tpToken = await mediaToken(tpUrl);
    // The teaching point finds the lesson in its timetable and pulls it by itself.
    await waitFor(async () => {
      const s = (await (await fetch(`${tpUrl}/api/media/stats`, { headers: { authorization: `Bearer ${tpToken}` } })).json()) as { links: Array<{ lessonId: string; pull: { state: string } }> };
      return s.links.some((l) => l.lessonId === lesson.id && l.pull.state === 'connected') ? true : undefined;
    }, 40_000, 500);

    const hubBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${hubUrl}`] });
    browsers.push(hubBrowser);
    const cam = await pageOn(hubBrowser, hubUrl);
    await publish(cam, `${hubUrl}/whip/${lesson.id}`, hubToken);

    const siteBrowser = await chromium.launch({ executablePath: site.chromium, headless: true, args: CHROMIUM_ARGS });
    browsers.push(siteBrowser);
    const local = `http://127.0.0.1:${TP_PORT}`;
    const kiosk = await pageOn(siteBrowser, local);
    await play(kiosk, `${local}/whep/${lesson.id}`, tpToken);
    await expectPlaying(kiosk, 30_000);

    site.linkDown();
    await new Promise((r) => setTimeout(r, 3000));
    const during1 = await playerStats(kiosk);
    await new Promise((r) => setTimeout(r, 7000));
    const during2 = await playerStats(kiosk);
    // The outage is real: the screen froze (at most a few frames from the jitter buffer).
    expect(during2.framesDecoded - during1.framesDecoded).toBeLessThan(5);
    site.linkUp();

    const linkState = async () => JSON.stringify(await (await fetch(`${tpUrl}/api/media/stats`, { headers: { authorization: `Bearer ${tpToken}` } })).json());
    const resumed = await waitFor(async () => {
      const s = await playerStats(kiosk);
      return s.framesDecoded > during2.framesDecoded + 30 ? s : undefined;
    }, 60_000, 500).catch(async (e: Error) => {
      throw new Error(`${e.message}; player ${JSON.stringify(await playerStats(kiosk))}; links ${await linkState()}; tp stderr ${tpd?.stderr().slice(-1500)}`);
    });
    expect(resumed.videoWidth).toBeGreaterThan(0);
    expect(resumed.connection).toBe('connected'); // the kiosk's own session was never touched
    const again = await expectPlaying(kiosk, 20_000);
    expect(again.later.audioPackets).toBeGreaterThan(again.first.audioPackets);

    // The hub box restarts mid-lesson (same data, same address); its camera page publishes again.
    const port = hub.box.port;
    await hub.close();
    await new Promise((r) => setTimeout(r, 2000));
    const frozen = await playerStats(kiosk);
    hub = await startTestBox({
      county, dataDir: join(dir.path, 'hub'), configExtra: { listen: { host: site.hubAddress, port } }, start: { media: fastMedia },
    });
    await cam.context().close();
    const cam2 = await pageOn(hubBrowser, hubUrl);
    await publish(cam2, `${hubUrl}/whip/${lesson.id}`, hubToken); // the token survived the restart (stored hashed)
    const back = await waitFor(async () => {
      const st = await playerStats(kiosk);
      return st.framesDecoded > frozen.framesDecoded + 30 ? st : undefined;
    }, 60_000, 500).catch(async (e: Error) => {
      throw new Error(`${e.message} (after hub restart); player ${JSON.stringify(await playerStats(kiosk))}; links ${await linkState()}; hub ${JSON.stringify(hub.box.context.media!.sfu.counts())}; tp stderr ${tpd?.stderr().slice(-1500)}`);
    });
    expect(back.connection).toBe('connected');
  }, 300_000);
});
