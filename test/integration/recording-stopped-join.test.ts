// A recording made of several runs (the box restarted mid-lesson) and then stopped early (recording
// turned off in the settings) is still joined into one playable file when the lesson ends.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { startDemoCamera } from '../../main/demo/camera.js';
import { silentLogger } from '../../core/log.js';
import { generateKeyPair } from '../../core/signing.js';
import { pinSession, startTestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { createLesson, fastMedia } from '../support/live-boxes.js';
import { ffprobe, recRow, segRows } from '../support/recording.js';
import { recordingFixture } from '../support/recording-fixture.js';

const start = { media: fastMedia, recording: { segmentSeconds: 4 } };
const camOpts = { width: 320, height: 240, fps: 15, kbps: 300 };

describe('joining a recording that was stopped early', () => {
  const { dir, boxes, cams } = recordingFixture('box-rec-stopjoin-');

  it('joins every run of a restarted, then stopped, recording at lesson end', async () => {
    const county = generateKeyPair();
    const dataDir = join(dir.path, 'hub');
    let hub = await startTestBox({ county, dataDir, draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' }, start });
    boxes.push(hub);
    const lesson = await createLesson(hub.box.url, [], -5000, 60_000);
    cams.push(await startDemoCamera(hub.box.context.media!.sfu, lesson.id, silentLogger(), camOpts));
    const segs = () => segRows(hub.box.context.db, lesson.id, lesson.id);
    await waitFor(() => (segs().length >= 1 ? true : undefined), 60_000, 250);

    // The box restarts mid-lesson: a second ffmpeg run.
    await cams.pop()!.close();
    await boxes.pop()!.close();
    hub = await startTestBox({ county, dataDir, start });
    boxes.push(hub);
    cams.push(await startDemoCamera(hub.box.context.media!.sfu, lesson.id, silentLogger(), camOpts));
    await waitFor(() => (segs().some((s) => s.idx >= 2 * 100_000) ? true : undefined), 60_000, 250);

    // Recording turned off before the lesson ends: stopped, its segments kept.
    const session = await pinSession(hub.box.url);
    const put = await fetch(`${hub.box.url}/api/settings`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ recording: { enabled: false } }) });
    expect(put.status).toBe(200);
    const stopped = await waitFor(() => {
      const r = recRow(hub.box.context.db, lesson.id, lesson.id);
      return r?.state === 'stopped' ? r : undefined;
    }, 30_000, 250);
    expect(stopped.warning).toMatch(/^E_RECORDING_OFF/);
    expect(Date.now()).toBeLessThan(Date.parse(lesson.endsAt));

    // The lesson ends by the timetable: every run's segments are joined.
    const done = await waitFor(() => {
      const r = recRow(hub.box.context.db, lesson.id, lesson.id);
      return r?.state === 'joined' ? r : undefined;
    }, 90_000, 250);
    const all = segs();
    expect(new Set(all.map((s) => Math.floor(s.idx / 100_000))).size).toBeGreaterThanOrEqual(2);
    const sum = all.reduce((a, s) => a + s.duration_ms, 0) / 1000;
    const p = await ffprobe(done.joined_file!);
    expect(p.codecs).toEqual(['opus', 'vp8']);
    expect(Math.abs(p.durationS - sum)).toBeLessThan(1 + 0.2 * all.length);
    expect(done.warning).toMatch(/^E_RECORDING_OFF/);
    console.log(`stopped recording joined: ${all.length} segments from ${new Set(all.map((s) => Math.floor(s.idx / 100_000))).size} runs, sum ${sum.toFixed(1)} s, joined ${p.durationS.toFixed(1)} s`);
  }, 240_000);
});
