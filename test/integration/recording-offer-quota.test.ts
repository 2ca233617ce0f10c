// A teaching point cannot make its hub take more recordings than its quota at once: what is over it is
// refused with its own code (and offered again by the teaching point once the rest has arrived).
import { describe, it, expect, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { issueBoxToken } from '../../core/box-token.js';
import { boxIdOf } from '../../core/identity.js';
import { systemClock } from '../../core/clock.js';
import { classroomRoom } from '../../core/contract/lesson.js';
import { describeFile, signFileList, type ListedFile } from '../../sync/recording-fetch.js';
import { startTestBox, tempDir, type TestBox } from '../support/boxes.js';
import { createLesson } from '../support/live-boxes.js';

describe('recording offers to the hub', () => {
  const dir = tempDir('box-offer-quota-');
  const boxes: TestBox[] = [];
  afterAll(async () => {
    for (const b of boxes.reverse()) await b.close();
    dir.remove();
  });

  it('refuses what is over one teaching point\'s quota on the way, and takes the rest', async () => {
    const county = generateKeyPair();
    const hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' }, start: { recording: { uploadQuotaBytes: 600_000 } } });
    boxes.push(hub);
    const { code } = hub.box.context.codes.create('教学点一', 1);
    const tp = await startTestBox({
      county, dataDir: join(dir.path, 'tp'), start: { hubCheckIntervalMs: 60_000 },
      draft: { role: 'teaching-point', schoolId: 'tp-1', name: '教学点一', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code },
    });
    boxes.push(tp);
    await tp.box.context.hubLink!.tick();
    const tpId = tp.box.identity.boxId;
    const lesson = await createLesson(hub.box.url, [tpId]);

    const files: ListedFile[] = [];
    mkdirSync(join(dir.path, 'files'));
    for (let i = 0; i < 3; i++) {
      const path = join(dir.path, 'files', `part-${i}.mkv`);
      writeFileSync(path, randomBytes(250_000));
      const d = await describeFile(path, `part-${i}.mkv`, { trackers: [], webSeeds: [] });
      files.push({
        id: `tp.${i}`, infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: `part-${i}.mkv`, torrent: d.torrent.toString('base64'), webSeeds: [], trackers: [], peers: [],
        meta: { lessonId: lesson.id, room: classroomRoom(lesson.id, tpId), title: `课 ${i}`, subject: null, grade: null, startedAtMs: i, endedAtMs: i + 1, durationMs: 1 },
      });
    }
    const offer = async () => {
      const list = signFileList(tp.box.identity, { format: 'tpbox-files/1', boxId: tpId, issuedAt: new Date().toISOString(), files });
      const token = await issueBoxToken(tp.box.identity, { audience: boxIdOf(hub.box.identity.publicKey), ttlSeconds: 60, clock: systemClock });
      const res = await fetch(`${hub.box.url}/api/peer/recordings/offer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(list) });
      expect(res.status).toBe(200);
      return (await res.json()) as { files: Array<{ infohash: string }>; refused: Array<{ infohash: string; code: string }> };
    };
    const first = await offer();
    expect(first.files.map((f) => f.infohash)).toEqual([files[0]!.infohash, files[1]!.infohash]);
    expect(first.refused).toEqual([expect.objectContaining({ infohash: files[2]!.infohash, code: 'E_RECORDING_QUOTA' })]);
    // Offering again (the teaching point does every round) does not get past it while the two are on their way.
    const again = await offer();
    expect(again.refused.map((r) => r.code)).toEqual(['E_RECORDING_QUOTA']);
    expect(hub.box.context.recordings!.intake!.received().map((r) => r.infohash).sort()).toEqual([files[0]!.infohash, files[1]!.infohash].sort());
  }, 120_000);
});
