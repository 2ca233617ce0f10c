// A teaching point's own recording travels up to its hub after the lesson: it waits while the link is
// held for a live lesson, the teaching point dials the hub (never the other way: it sits behind NAT),
// a hub killed with -9 mid-transfer picks the file up again from its saved pieces after restart, and
// a teaching point that restarts mid-transfer carries on seeding from its saved queue.
// The hub ends up listing the teaching point's recording, complete, playable, sha256 equal.
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startDemoCamera, type DemoCamera } from '../../main/demo/camera.js';
import { silentLogger } from '../../core/log.js';
import { generateKeyPair } from '../../core/signing.js';
import type { RecordingEntry, RecordingTransfer } from '../../core/contract/recording.js';
import { describeFile, signFileList, type ListedFile } from '../../sync/recording-fetch.js';
import { issueBoxToken } from '../../core/box-token.js';
import { systemClock } from '../../core/clock.js';
import { boxIdOf } from '../../core/identity.js';
import { sha256File } from '../../sync/file-hash.js';
import { PIECE_LENGTH } from '../../sync/torrent-files.js';
import { pinSession, startTestBox, tempDir, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { boxDaemon, type BoxDaemon } from '../support/sync-daemon.js';
import { createLesson, fastMedia } from '../support/live-boxes.js';
import { ffprobe, recRow } from '../support/recording.js';

const json = { 'content-type': 'application/json' };

function setBits(buf: Buffer): number {
  let n = 0;
  for (const b of buf) for (let v = b; v; v &= v - 1) n++;
  return n;
}

describe('a teaching point recording going up to the hub', () => {
  const dir = tempDir('box-rec-upload-');
  let hub: BoxDaemon | undefined;
  let tp: TestBox | undefined;
  let cam: DemoCamera | undefined;
  afterAll(async () => {
    await cam?.close();
    await tp?.close();
    await hub?.kill9();
    dir.remove();
  });

  it('waits out the live lesson, survives kill -9 of the hub and a teaching point restart mid-transfer, and arrives whole', async () => {
    const county = generateKeyPair();
    hub = await boxDaemon(join(dir.path, 'hub'), county, { role: 'hub', schoolId: 'hub-school', name: '中心校' });
    await hub.start();
    const hubUrl = hub.url;
    const hubKey = ((await (await fetch(`${hubUrl}/api/health`)).json()) as { publicKey: string }).publicKey;
    const hubSession = await pinSession(hubUrl);
    const codeRes = await fetch(`${hubUrl}/api/admin/enrolment-codes`, { method: 'POST', headers: { ...json, authorization: `Bearer ${hubSession}` }, body: JSON.stringify({ label: '教学点1', ttlHours: 1 }) });
    expect(codeRes.status).toBe(201);
    const { code } = (await codeRes.json()) as { code: string };

    const tpStart = { media: fastMedia, recording: { segmentSeconds: 4, catchupIntervalMs: 1000 }, hubCheckIntervalMs: 60_000 };
    tp = await startTestBox({
      county, dataDir: join(dir.path, 'tp'), start: tpStart,
      draft: { role: 'teaching-point', schoolId: 'tp-1', name: '教学点1', hub: { url: hubUrl, publicKey: hubKey }, enrolmentCode: code },
    });
    await tp.box.context.hubLink!.tick();
    const tpId = tp.box.identity.boxId;
    const tpSession = await pinSession(tp.box.url);
    const put = (path: string, body: unknown) => fetch(`${tp!.box.url}${path}`, { method: 'PUT', headers: { ...json, authorization: `Bearer ${tpSession}` }, body: JSON.stringify(body) });
    // The technician's upload cap for the link (1600 kbit/s = 200 kB/s), so the kill lands mid-transfer.
    expect((await put('/api/settings', { sync: { uploadLimitKbps: 1600 } })).status).toBe(200);
    // The technician's sync window (two hours from now) keeps the link closed until it is lifted below.
    const hhmm = (ms: number) => { const t = new Date(ms); return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`; };
    expect((await put('/api/settings', { sync: { window: { start: hhmm(Date.now() + 2 * 3600_000), end: hhmm(Date.now() + 3 * 3600_000) } } })).status).toBe(200);

    const lesson = await createLesson(hubUrl, [tpId], -5000, 35_000);
    const classroom = `${lesson.id}~${tpId}`;
    cam = await startDemoCamera(tp.box.context.media!.sfu, classroom, silentLogger(), { width: 640, height: 360, fps: 15, kbps: 1200 });

    // The lesson ends by the timetable; the teaching point joins its classroom recording.
    const row = await waitFor(() => {
      const r = recRow(tp!.box.context.db, lesson.id, classroom);
      return r?.state === 'joined' && r.joined_file ? r : undefined;
    }, 150_000, 500);
    await cam.close();
    cam = undefined;
    const own = row.joined_file!;
    const d = await describeFile(own, basename(own), { trackers: [], webSeeds: [] });
    const pieces = Math.ceil(d.bytes / PIECE_LENGTH);
    expect(pieces, 'a recording of several pieces').toBeGreaterThanOrEqual(6);
    let rec = tp.box.context.recordings!;
    const ownEntry = async () => tp!.box.context.recordings!.catalogue.list().find((e) => e.source === 'own' && e.room === classroom);

    // Held: nothing leaves the teaching point outside the sync window ...
    await waitFor(async () => ((await ownEntry())?.upload?.state === 'paused' ? true : undefined), 30_000, 250);
    expect((await ownEntry())?.upload).toEqual({ state: 'paused', reason: 'outside-window' });
    const upMove = () => tp!.box.context.recordings!.transfers().find((t) => t.direction === 'upload' && t.room === classroom);
    expect(upMove()).toMatchObject({ state: 'paused', reason: 'outside-window', linkBytes: 0, progress: 0, limitBps: 0, bytes: d.bytes });
    // ... nor while another live lesson holds the link, once the window is lifted.
    const lesson2 = await createLesson(hubUrl, [tpId], -1000, 15_000);
    await waitFor(() => (rec.upload.plan().reason === 'lesson-paused' ? true : undefined), 30_000, 100);
    expect((await put('/api/settings', { sync: { window: null } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await ownEntry())?.upload).toEqual({ state: 'paused', reason: 'lesson-paused' });
    expect(rec.upload.sentBytes(d.infohash)).toBe(0);

    // Lesson 2 over: the upload starts by itself; the hub is killed with -9 part-way through.
    await waitFor(() => (rec.upload.plan().reason === 'open' ? true : undefined), 60_000, 100);
    const releasedAt = Date.now();
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(lesson2.endsAt) - 2000);
    await waitFor(() => (rec.upload.sentBytes(d.infohash) >= d.bytes * 0.35 ? true : undefined), 120_000, 50);
    await hub.kill9();
    const sentBeforeKill = rec.upload.sentBytes(d.infohash);
    const hubBeforeKill = rec.upload.hubSays(d.infohash);
    const firstRunMs = Date.now() - releasedAt;
    let kept = 0;
    try {
      kept = setBits(readFileSync(join(hub.dataDir, 'recordings-shared', 'partial', `${d.infohash}.bitfield`)));
    } catch {
      kept = 0;
    }
    expect(kept, `the hub saved verified pieces before it died (queued ${sentBeforeKill}, hub said ${JSON.stringify(hubBeforeKill)})`).toBeGreaterThan(0);
    expect(kept).toBeLessThan(pieces);

    await hub.start();
    const restartedAt = Date.now();
    // The teaching point loses power too, part-way through: it comes back and carries on where it was.
    await waitFor(() => (rec.upload.sentBytes(d.infohash) - sentBeforeKill >= 2 * PIECE_LENGTH ? true : undefined), 120_000, 50);
    await tp.close();
    const sentByFirstTp = rec.upload.sentBytes(d.infohash) - sentBeforeKill;
    tp = await startTestBox({ county, dataDir: join(dir.path, 'tp'), start: tpStart });
    rec = tp.box.context.recordings!;
    const session2 = await pinSession(hubUrl);
    const hubList = async () => ((await (await fetch(`${hubUrl}/api/recordings`, { headers: { authorization: `Bearer ${session2}` } })).json()) as { recordings: RecordingEntry[] }).recordings;
    const entry = await waitFor(async () => (await hubList()).find((e) => e.source === 'teaching-point' && e.room === classroom && e.state === 'complete'), 150_000, 500);
    const secondRunMs = Date.now() - restartedAt;
    const sentAfter = sentByFirstTp + rec.upload.sentBytes(d.infohash);
    // What reached the restarted hub, as it tells the teaching point once it holds the file.
    const hubFinal = await waitFor(() => (rec.upload.hubSays(d.infohash)?.state === 'complete' ? rec.upload.hubSays(d.infohash) : undefined), 30_000, 250);
    const receivedAfter = hubFinal.receivedBytes;
    const missing = d.bytes - Math.min(d.bytes, kept * PIECE_LENGTH);

    expect(entry.fromBox).toEqual({ boxId: tpId, name: '教学点1' });
    expect(entry.lessonId).toBe(lesson.id);
    expect(entry.bytes).toBe(d.bytes);
    expect(entry.mediaUrl).toBe(`/api/recordings/${entry.id}/media`);
    const held = join(hub.dataDir, 'recordings-shared', 'files', d.infohash, basename(own));
    expect(statSync(held).size).toBe(d.bytes);
    expect(await sha256File(held)).toBe(await sha256File(own));
    const [pHub, pTp] = [await ffprobe(held), await ffprobe(own)];
    expect(pHub.codecs).toEqual(['opus', 'vp8']);
    expect(Math.abs(pHub.durationS - pTp.durationS)).toBeLessThan(0.1);
    const ranged = await fetch(`${hubUrl}${entry.mediaUrl!}`, { headers: { authorization: `Bearer ${session2}`, range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    // Only what the hub had not verified and saved is sent again (plus pieces in flight).
    expect(receivedAfter).toBeGreaterThan(0);
    expect(receivedAfter).toBeLessThanOrEqual(missing + 2 * PIECE_LENGTH);
    expect(sentAfter).toBeLessThanOrEqual(missing + 2 * PIECE_LENGTH);
    // The teaching point learns the hub holds it and stops offering it.
    await waitFor(async () => ((await ownEntry())?.upload?.state === 'done' ? true : undefined), 30_000, 250);
    expect(upMove()).toMatchObject({ state: 'done', reason: null, progress: 1, doneBytes: d.bytes });
    // The hub's side, as `box doctor` on the hub reads it: the teaching point's recording received, done.
    const hubHealth = (await (await fetch(`${hubUrl}/api/health`)).json()) as { recordingTransfers: RecordingTransfer[] };
    expect(hubHealth.recordingTransfers.find((t) => t.room === classroom)).toMatchObject({ direction: 'download', state: 'done', progress: 1, bytes: d.bytes, recordingId: entry.id });

    // The hub takes only what the teaching point recorded of its own lessons, under its own key.
    const offer = async (body: unknown, auth = true) => {
      const token = await issueBoxToken(tp!.box.identity, { audience: boxIdOf(hubKey), ttlSeconds: 60, clock: systemClock });
      return fetch(`${hubUrl}/api/peer/recordings/offer`, { method: 'POST', headers: { ...json, ...(auth ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    };
    const other: ListedFile = {
      id: 'tp.other', infohash: 'a'.repeat(40), sha256: 'b'.repeat(64), bytes: 1000, fileName: 'x.mkv', torrent: d.torrent.toString('base64'), webSeeds: [], trackers: [], peers: [],
      meta: { lessonId: lesson.id, room: `${lesson.id}~box-someone-else`, title: 't', subject: null, grade: null, startedAtMs: 0, endedAtMs: 1, durationMs: 1 },
    };
    const signed = signFileList(tp.box.identity, { format: 'tpbox-files/1', boxId: tpId, issuedAt: new Date().toISOString(), files: [other] });
    expect((await offer(signed, false)).status).toBe(401);
    const refused = (await (await offer(signed)).json()) as { refused: Array<{ code: string }>; files: unknown[] };
    expect(refused.refused.map((r) => r.code)).toEqual(['E_FORBIDDEN']);
    expect(refused.files).toEqual([]);
    const tampered = await offer({ ...signed, payload: { ...signed.payload, files: [{ ...other, meta: { ...other.meta, room: lesson.id } }] } });
    expect(tampered.status).toBe(400);
    expect(((await tampered.json()) as { code: string }).code).toBe('E_MANIFEST_TAMPERED');
    expect((await hubList()).filter((e) => e.source === 'teaching-point')).toHaveLength(1);

    console.log(`upload: ${d.bytes} bytes (${pieces} pieces, ${pTp.durationS.toFixed(1)} s); first run queued ${sentBeforeKill} bytes in ${firstRunMs} ms before kill -9 (hub's last word: ${JSON.stringify(hubBeforeKill)}); hub had saved ${kept} pieces; after restart the hub received ${receivedAfter} bytes (teaching point queued ${sentAfter}, ${sentByFirstTp} of them before its own restart; missing was ${missing}) and completed in ${secondRunMs} ms`);
  }, 400_000);
});
