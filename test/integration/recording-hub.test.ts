// The hub records a live lesson in ≤ 10 s Matroska segments (VP8 + Opus, no transcoding); a killed
// ffmpeg is replaced with a new segment; at lesson end the segments are joined beside the timeline.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoCamera, type DemoCamera } from '../../main/demo/camera.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { ffprobe, recRow, segRows } from '../support/recording.js';

describe('recording on the hub', () => {
  const dir = tempDir('box-rec-');
  let live: LiveSetup | undefined;
  let camera: DemoCamera | undefined;
  afterAll(async () => {
    await camera?.close();
    await live?.close();
    dir.remove();
  });

  it('records in playable segments, survives kill -9 of ffmpeg, joins at the end', async () => {
    live = await startLive(dir.path, 0);
    const { hub, lesson } = live;
    const db = hub.box.context.db;
    const media = hub.box.context.media!;
    camera = await startDemoCamera(media.sfu, lesson.id, silentLogger(), { width: 320, height: 240, fps: 15, kbps: 300 });
    media.control.accept(lesson.id, { sender: 'hub-teacher', seq: 1, type: 'page', body: { page: 2 } });

    // Two finished segments of the first ffmpeg run.
    await waitFor(() => (segRows(db, lesson.id, lesson.id).length >= 2 ? true : undefined), 60_000, 250);
    const first = recRow(db, lesson.id, lesson.id)!;
    expect(first.state).toBe('recording');
    // The technician's gauges see it (box_recording_*).
    const metrics = await (await fetch(`${hub.box.url}/metrics`)).text();
    const gauge = (name: string) => Number(metrics.split('\n').find((l) => l.startsWith(`${name}{`))?.split(' ').at(-1));
    expect(gauge('box_recording_enabled')).toBe(1);
    expect(gauge('box_recording_active_rooms')).toBeGreaterThanOrEqual(1);
    expect(gauge('box_recording_segments')).toBeGreaterThanOrEqual(2);
    expect(metrics).not.toMatch(/^box_recording_warning\{/m);
    const pid = first.ffmpeg_pid!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();

    // A new run takes over and finishes segments of its own.
    await waitFor(() => (segRows(db, lesson.id, lesson.id).filter((s) => s.idx >= 200_000).length >= 2 ? true : undefined), 60_000, 250);
    const after = recRow(db, lesson.id, lesson.id)!;
    expect(after.runs).toBeGreaterThanOrEqual(2);
    expect(after.ffmpeg_pid).not.toBe(pid);

    const segs = segRows(db, lesson.id, lesson.id);
    const run1 = segs.filter((s) => s.idx < 200_000);
    const run2 = segs.filter((s) => s.idx >= 200_000);
    // What was lost: from the end of run 1's last finished segment to the start of run 2's first.
    const lastOf1 = run1[run1.length - 1]!;
    const lostMs = run2[0]!.started_at - (lastOf1.started_at + lastOf1.duration_ms);
    console.log(`recorder kill -9: lost ${lostMs} ms (new run listening ${run2[0]!.started_at - killedAt} ms after the kill)`);
    expect(lostMs).toBeGreaterThanOrEqual(0);
    expect(lostMs).toBeLessThanOrEqual(10_000);

    for (const s of segs) {
      expect(s.duration_ms).toBeLessThanOrEqual(10_500);
      const p = await ffprobe(join(first.dir, s.file));
      expect(p.codecs, s.file).toEqual(['opus', 'vp8']);
      expect(p.durationS, s.file).toBeGreaterThan(0);
    }

    // Lesson ends: recording stops, segments are joined, the timeline sits beside the media.
    media.control.accept(lesson.id, { sender: 'hub-teacher', seq: 2, type: 'lesson', body: { state: 'ended' } });
    const done = await waitFor(() => {
      const r = recRow(db, lesson.id, lesson.id);
      return r && r.state !== 'recording' ? r : undefined;
    }, 60_000, 250);
    expect(done.state, done.warning ?? '').toBe('joined');
    const all = segRows(db, lesson.id, lesson.id);
    const sum = all.reduce((a, s) => a + s.duration_ms, 0) / 1000;
    const joined = await ffprobe(done.joined_file!);
    console.log(`joined: ${all.length} segments, sum ${sum.toFixed(2)} s, joined file ${joined.durationS.toFixed(2)} s`);
    expect(joined.codecs).toEqual(['opus', 'vp8']);
    expect(Math.abs(joined.durationS - sum)).toBeLessThan(1 + 0.2 * all.length);
    const timeline = JSON.parse(readFileSync(join(first.dir, `${lesson.id}.timeline.json`), 'utf8')) as { events: Array<{ type: string }>; segments: unknown[] };
    expect(timeline.events.map((e) => e.type)).toEqual(['page', 'lesson']);
    expect(timeline.segments).toHaveLength(all.length);
    expect(existsSync(`${done.joined_file!}.part`)).toBe(false);
  }, 240_000);
});
