// kill -9 of a whole hub daemon mid-lesson (Chromium publishing): on restart the box resumes the
// lesson's recording by itself; every finished segment, including the one the orphaned recorder
// finished as it wound down, plays (VP8 + Opus).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import { daemonFolder, tempDir } from '../support/boxes.js';
import { spawnCli, waitFor, type Daemon } from '../support/daemon.js';
import { createLesson, mediaToken } from '../support/live-boxes.js';
import { pageOn, publish } from '../support/chromium-webrtc.js';
import { ffprobe, type RecRow, type SegRow } from '../support/recording.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


async function startDaemon(configFile: string, port: number): Promise<Daemon> {
  const d = spawnCli(['start', '--config', configFile]);
  cleanups.push(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  });
  await waitFor(async () => {
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${d.stderr()}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    return res.ok ? true : undefined;
  }, 30_000);
  return d;
}

describe('recording across a box crash', () => {
  it('kill -9 of the hub daemon mid-lesson: recording resumes on restart, finished segments play', async () => {
    const dir = tempDir('box-rec-crash-');
    cleanups.push(() => dir.remove());
    const { port, dataDir, configFile } = await daemonFolder(dir.path, { role: 'hub', schoolId: 'hub-school', name: '中心校' });
    const url = `http://127.0.0.1:${port}`;

    const first = await startDaemon(configFile, port);
    const lesson = await createLesson(url, []);
    const token = await mediaToken(url);
    const browser: Browser = await launchBrowser();
    cleanups.push(() => browser.close());
    const page1 = await pageOn(browser, url);
    await publish(page1, `${url}/whip/${lesson.id}`, token);

    const db = new Database(join(dataDir, 'box.sqlite'), { readonly: true, fileMustExist: true });
    cleanups.push(() => { db.close(); });
    const segs = () => db.prepare('SELECT * FROM recording_segments WHERE lesson_id = ? AND room = ? ORDER BY idx').all(lesson.id, lesson.id) as SegRow[];
    const row = () => db.prepare('SELECT * FROM recordings WHERE lesson_id = ? AND room = ?').get(lesson.id, lesson.id) as RecRow | undefined;

    await waitFor(() => (segs().length >= 1 ? true : undefined), 90_000, 250);
    const before = segs().length;
    const oldPid = row()!.ffmpeg_pid!;
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await page1.close();

    // The orphaned ffmpeg notices its box is gone (stdin closed) and finishes its segment cleanly.
    await waitFor(() => {
      try {
        process.kill(oldPid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 20_000, 100);

    await startDaemon(configFile, port);
    const page2 = await pageOn(browser, url);
    await publish(page2, `${url}/whip/${lesson.id}`, token);
    const resumedRun = await waitFor(() => {
      const r = row();
      return r && r.runs >= 2 && r.state === 'recording' ? r.runs : undefined;
    }, 30_000, 250);
    await waitFor(() => (segs().some((s) => s.idx >= resumedRun * 100_000) ? true : undefined), 90_000, 250);
    const all = segs();
    const resumed = all.filter((s) => s.idx >= resumedRun * 100_000);
    console.log(`box kill -9: ${before} segment(s) before, ${all.length - before - resumed.length} finished by the orphan, first resumed segment starts ${resumed[0]!.started_at - killedAt} ms after the kill`);
    expect(all.length).toBeGreaterThan(before);
    for (const s of all) {
      expect(s.duration_ms).toBeLessThanOrEqual(10_500);
      const p = await ffprobe(join(row()!.dir, s.file));
      expect(p.codecs, s.file).toEqual(['opus', 'vp8']);
      expect(p.durationS, s.file).toBeGreaterThan(0);
    }
  }, 300_000);
});
