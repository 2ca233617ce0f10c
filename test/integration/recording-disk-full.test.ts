// A real small disk (tmpfs) under the recordings: when it fills, recording stops with E_DISK_FULL,
// the segment in progress is finished cleanly, and every file left there plays.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoCamera, type DemoCamera } from '../../main/demo/camera.js';
import { silentLogger } from '../../core/log.js';
import { generateKeyPair } from '../../core/signing.js';
import { startTestBox, tempDir, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { createLesson, fastMedia } from '../support/live-boxes.js';
import { ffprobe, recRow, segRows } from '../support/recording.js';

describe('recording when the disk fills', () => {
  const dir = tempDir('box-rec-full-');
  const recDir = join(dir.path, 'hub', 'recordings');
  let mounted = false;
  let hub: TestBox | undefined;
  let camera: DemoCamera | undefined;
  afterAll(async () => {
    await camera?.close();
    await hub?.close();
    if (mounted) {
      try {
        execFileSync('umount', [recDir]);
      } catch {
        execFileSync('umount', ['-l', recDir]); // still busy: detach it so the temp dir can go
      }
    }
    dir.remove();
  });

  it('stops with E_DISK_FULL and leaves only playable files', async () => {
    mkdirSync(recDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', recDir]);
    mounted = true;
    // The default reserve (200 MB) is larger than this whole disk; 1 MB keeps the test short.
    hub = await startTestBox({
      county: generateKeyPair(), dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' },
      start: { media: fastMedia, recording: { minFreeBytes: 1024 * 1024 } },
    });
    const lesson = await createLesson(hub.box.url, []);
    const db = hub.box.context.db;
    camera = await startDemoCamera(hub.box.context.media!.sfu, lesson.id, silentLogger(), { width: 640, height: 360, fps: 15, kbps: 800 });

    const stopped = await waitFor(() => {
      const r = recRow(db, lesson.id, lesson.id);
      // Stopped, and ffmpeg has finished the segment it was writing.
      return r && r.state !== 'recording' && r.ffmpeg_pid === null ? r : undefined;
    }, 90_000, 250);
    expect(stopped.state).toBe('stopped');
    expect(stopped.warning).toMatch(/^E_DISK_FULL/);
    const segs = segRows(db, lesson.id, lesson.id);
    expect(segs.length).toBeGreaterThanOrEqual(1);
    const files = readdirSync(stopped.dir).filter((f) => f.endsWith('.mkv'));
    console.log(`disk full: stopped with ${stopped.warning}; ${segs.length} segment(s) kept, files: ${files.join(' ')}`);
    // Nothing half-written is left under a segment name, and every media file there plays.
    expect(files.filter((f) => f.startsWith('part-'))).toEqual([]);
    expect(files.sort()).toEqual(segs.map((s) => s.file).sort());
    for (const f of files) {
      const p = await ffprobe(join(stopped.dir, f));
      expect(p.codecs, f).toEqual(['opus', 'vp8']);
      expect(p.durationS, f).toBeGreaterThan(0);
    }
    // The teacher sees why: the box's recording status carries the warning.
    const health = (await (await fetch(`${hub.box.url}/api/health`)).json()) as { recording: { warning: { code: string; message: string } | null } };
    expect(health.recording.warning?.code).toBe('E_DISK_FULL');
    expect(health.recording.warning?.message.length).toBeGreaterThan(0);
    // It stays stopped (no restart loop filling the last bytes).
    await new Promise((r) => setTimeout(r, 3000));
    expect(recRow(db, lesson.id, lesson.id)!.state).toBe('stopped');
  }, 150_000);
});
