// The recorder's ffmpeg listens for RTP on loopback only: bound on every interface, anyone on the LAN could
// inject packets into a lesson recording. Checked with `ss` while the hub really records a lesson.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startDemoCamera, type DemoCamera } from '../../main/demo/camera.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { recRow, segRows } from '../support/recording.js';

/** Local addresses of the UDP sockets `pid` holds, as `ss -uanp` shows them. */
function udpSocketsOf(pid: number): string[] {
  return execFileSync('ss', ['-uanp'], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]!);
}

describe('recorder sockets', () => {
  const dir = tempDir('box-rec-lo-');
  let live: LiveSetup | undefined;
  let camera: DemoCamera | undefined;
  afterAll(async () => {
    await camera?.close();
    await live?.close();
    dir.remove();
  });

  it('during a recorded lesson, no ffmpeg socket of the recorder is on a non-loopback address', async () => {
    live = await startLive(dir.path, 0);
    const { hub, lesson } = live;
    const db = hub.box.context.db;
    camera = await startDemoCamera(hub.box.context.media!.sfu, lesson.id, silentLogger(), { width: 320, height: 240, fps: 15, kbps: 300 });
    // Recording for real: a segment is finished, so ffmpeg is receiving on its sockets.
    await waitFor(() => (segRows(db, lesson.id, lesson.id).length >= 1 ? true : undefined), 60_000, 250);
    const pid = recRow(db, lesson.id, lesson.id)!.ffmpeg_pid!;
    expect(pid).toBeGreaterThan(0);
    const sockets = udpSocketsOf(pid);
    // RTP and RTCP for video and audio.
    expect(sockets.length, sockets.join(' ')).toBeGreaterThanOrEqual(4);
    expect(sockets.filter((a) => !a.startsWith('127.0.0.1:')), sockets.join(' ')).toEqual([]);
  }, 120_000);
});
