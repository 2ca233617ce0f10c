// A teaching point records what it receives and its own classroom; it goes offline (box stopped)
// for part of the lesson; when the lesson ends the hub's master recording reaches it through a
// signed list + private torrent, is verified and listed as 'master', and the teaching point's own
// recording shows its gap, filled by the master.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { startDemoCamera } from '../../main/demo-camera.js';
import { silentLogger } from '../../core/log.js';
import { generateKeyPair } from '../../core/signing.js';
import type { RecordingEntry, RecordingStatus } from '../../core/contract/recording.js';
import { pinSession, startTestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { createLesson, fastMedia, mediaToken } from '../support/live-boxes.js';
import { ffprobe, recRow, segRows } from '../support/recording.js';
import { recordingFixture } from '../support/recording-fixture.js';

const start = { media: fastMedia, recording: { segmentSeconds: 4, catchupIntervalMs: 1000 } };
const camOpts = { width: 320, height: 240, fps: 15, kbps: 300 };

describe('recording catch-up on a teaching point', () => {
  const { dir, boxes, cams } = recordingFixture('box-rec-catchup-');
  const county = generateKeyPair();

  it('records both rooms on the teaching point, and an offline stretch ends up filled by the master', async () => {
    const hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' }, start });
    boxes.push(hub);
    const { code } = hub.box.context.codes.create('教学点1', 1);
    const tpDir = join(dir.path, 'tp');
    let tp = await startTestBox({
      county, dataDir: tpDir, start: { ...start, hubCheckIntervalMs: 60_000 },
      draft: { role: 'teaching-point', schoolId: 'tp-1', name: '教学点1', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code },
    });
    boxes.push(tp);
    await tp.box.context.hubLink!.tick();
    const tpId = tp.box.identity.boxId;
    const lesson = await createLesson(hub.box.url, [tpId]);
    const classroom = `${lesson.id}~${tpId}`;
    cams.push(await startDemoCamera(hub.box.context.media!.sfu, lesson.id, silentLogger(), camOpts));
    cams.push(await startDemoCamera(tp.box.context.media!.sfu, classroom, silentLogger(), camOpts));

    // The teaching point records what it receives (the broadcast) and its own classroom.
    const tpSegs = (room: string) => segRows(tp.box.context.db, lesson.id, room);
    await waitFor(() => (tpSegs(lesson.id).length >= 2 && tpSegs(classroom).length >= 2 ? true : undefined), 90_000, 250);
    for (const room of [lesson.id, classroom]) {
      const row = recRow(tp.box.context.db, lesson.id, room)!;
      for (const s of tpSegs(room)) {
        const p = await ffprobe(join(row.dir, s.file));
        expect(p.codecs, `${room} ${s.file}`).toEqual(['opus', 'vp8']);
        expect(p.durationS).toBeGreaterThan(0);
      }
    }

    // Offline: the teaching point's box stops for a while, then comes back and resumes.
    await cams.pop()!.close();
    await tp.close();
    boxes.pop();
    const offFrom = Date.now();
    await new Promise((r) => setTimeout(r, 12_000));
    tp = await startTestBox({ county, dataDir: tpDir, start: { ...start, hubCheckIntervalMs: 60_000 } });
    boxes.push(tp);
    const offMs = Date.now() - offFrom;
    cams.push(await startDemoCamera(tp.box.context.media!.sfu, classroom, silentLogger(), camOpts));
    const resumed = () => tpSegs(lesson.id).filter((s) => s.started_at > offFrom);
    await waitFor(() => (resumed().length >= 2 ? true : undefined), 90_000, 250);

    // The lesson ends on the hub.
    const hubMedia = hub.box.context.media!;
    hubMedia.control.accept(lesson.id, { sender: 'hub-teacher', seq: 1, type: 'lesson', body: { state: 'ended' } });
    const endedAt = Date.now();
    const hubRow = await waitFor(() => {
      const r = recRow(hub.box.context.db, lesson.id, lesson.id);
      return r && r.state === 'joined' ? r : undefined;
    }, 90_000, 250);
    const hubProbe = await ffprobe(hubRow.joined_file!);

    const token = await mediaToken(tp.box.url);
    const list = async () => {
      const res = await fetch(`${tp.box.url}/api/recordings`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as { recordings: RecordingEntry[]; status: RecordingStatus };
    };
    const master = await waitFor(async () => (await list()).recordings.find((r) => r.source === 'master' && r.state === 'complete'), 120_000, 500);
    const catchupMs = Date.now() - endedAt;
    expect(master.lessonId).toBe(lesson.id);
    expect(master.room).toBe(lesson.id);
    expect(master.mediaUrl).toBe(`/api/recordings/${master.id}/media`);

    // Playable with the full duration of the hub's master.
    const file = tp.box.context.recordings!.catalogue.mediaFile(master.id);
    const probe = await ffprobe(file);
    expect(probe.codecs).toEqual(['opus', 'vp8']);
    expect(Math.abs(probe.durationS - hubProbe.durationS)).toBeLessThan(0.5);
    expect(master.bytes).toBeGreaterThan(0);

    // Range for the kiosk's seeking, through the contract's media route.
    const ranged = await fetch(`${tp.box.url}${master.mediaUrl!}?token=${token}`, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);

    // The teaching point's own broadcast recording: the offline stretch is a gap, filled by the master.
    const own = await waitFor(async () => (await list()).recordings.find((r) => r.source === 'own' && r.room === lesson.id && r.state === 'complete'), 90_000, 500);
    const big = own.gaps.filter((g) => g.toMs - g.fromMs >= 5000);
    expect(big.length, JSON.stringify(own.gaps)).toBeGreaterThanOrEqual(1);
    expect(big.every((g) => g.filledBy === 'master'), JSON.stringify(own.gaps)).toBe(true);
    const longest = Math.max(...big.map((g) => g.toMs - g.fromMs));
    // The gap holds the whole time the box was down, and ends where its resumed recording begins.
    const t0 = Date.parse(lesson.startsAt);
    const resumedAt = resumed()[0]!.started_at - t0;
    expect(big.some((g) => g.fromMs <= offFrom - t0 + 1000 && g.toMs >= offFrom + offMs - t0 - 1000 && Math.abs(g.toMs - resumedAt) <= 1500), JSON.stringify({ gaps: own.gaps, offFrom: offFrom - t0, offMs, resumedAt })).toBe(true);

    const timeline = await fetch(`${tp.box.url}/api/recordings/${master.id}/timeline`, { headers: { authorization: `Bearer ${token}` } });
    expect(timeline.status).toBe(200);
    const health = (await (await fetch(`${tp.box.url}/api/health`)).json()) as { recording: RecordingStatus };
    expect(health.recording.enabled).toBe(true);
    // Without a media token or PIN session: refused.
    expect((await fetch(`${tp.box.url}/api/recordings`)).status).toBe(401);
    expect((await fetch(`${tp.box.url}/api/recordings/${master.id}/media`)).status).toBe(401);
    // The per-box switch: recording off shows in the status.
    const session = await pinSession(tp.box.url);
    const put = await fetch(`${tp.box.url}/api/settings`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ recording: { enabled: false } }) });
    expect(put.status).toBe(200);
    expect(((await (await fetch(`${tp.box.url}/api/health`)).json()) as { recording: RecordingStatus }).recording.enabled).toBe(false);
    console.log(`catch-up: offline ${offMs} ms; master ${master.bytes} bytes, ${probe.durationS.toFixed(1)} s, complete on the teaching point ${catchupMs} ms after the lesson ended; own gaps ${JSON.stringify(own.gaps)} (longest ${longest} ms)`);
  }, 420_000);
});
