import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Identity } from '../core/identity.js';
import type { PeerClient } from '../core/peer-client.js';
import type { SignedDocument } from '../core/signing.js';
import { broadcastRoom } from '../core/contract/lesson.js';
import type { RecordingTransfer } from '../core/contract/recording.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { LessonStore } from '../media/lesson-store.js';
import type { RecorderSchedule } from '../media/recorder-schedule.js';
import { signFileList, verifyFileList, type FilePeer, type FileList, type ListedFile } from '../sync/recording-fetch.js';
import type { FetchedRecording } from './catalogue.js';
import { describeRecording, fetchTransfers, masterFileId, readMeta, recordingId, recordingMeta, type StoredFile } from './metadata.js';

// Catch-up: when a lesson ends the hub publishes its joined master recording (a private torrent,
// listed in a small list signed with the hub's box key; the hub is peer, tracker and web seed), and
// each teaching point of the lesson fetches it (resuming), checks signature and sha256, and lists it
// as source 'master'.

/**
 * The list carries each master's torrent inline (about 100 kB per lesson hour at 256 KiB pieces) and
 * the hub lists every master of the teaching point so far: some hundreds of lesson hours fit.
 */
const MASTER_LIST_MAX_BYTES = 32 * 1024 * 1024;

export interface RecordingsCatchup {
  /** Hub: publishes each joined broadcast recording not published yet. */
  publishJoined(): Promise<void>;
  /** Hub: seeds what it published before (after a restart), once it knows its own URL. */
  seedPublished(): Promise<void>;
  /** Hub: the signed list of master recordings a teaching point may fetch. */
  signedList(forBoxId: string): SignedDocument<FileList>;
  /** Hub: the file behind a published infohash (web seed). */
  publishedFile(infohash: string): string | undefined;
  /** Teaching point: reads the hub's list and wants every master on it. */
  fetchList(): Promise<void>;
  /** Teaching point: the masters listed by the hub, fetched or on their way. */
  masters(): FetchedRecording[];
  /** Teaching point: the masters' downloads; `pausedReason`: why the link plan holds them. */
  transfers(pausedReason: string | null): RecordingTransfer[];
}

interface Published { file: StoredFile; path: string }

export function createRecordingsCatchup(o: {
  clock: Clock; log: Logger; dir: string; identity: Identity; lessons: LessonStore; recorder: RecorderSchedule; peer: FilePeer;
  /** This box's base URL, empty until it listens. */
  selfUrl: () => string;
  trackers: () => string[];
  /** Teaching point: its hub (the list is signed with the hub's box key). */
  hub?: { client: PeerClient; publicKey: string };
}): RecordingsCatchup {
  const log = o.log.child({ part: 'catchup' });
  const { peer } = o;
  const read = <T>(name: string, fallback: T): T => {
    try { return JSON.parse(readFileSync(join(o.dir, name), 'utf8')) as T; } catch { return fallback; }
  };
  let published: Published[] = read('published.json', []);
  let listed: ListedFile[] = read('masters.json', []);

  async function publish(lessonId: string, room: string): Promise<void> {
    if (published.some((p) => p.file.meta.lessonId === lessonId && p.file.meta.room === room)) return;
    const row = o.recorder.store.get(lessonId, room);
    if (!row?.joinedFile) return;
    const meta = recordingMeta(row, o.recorder.store.segments(lessonId, room), o.lessons.get(lessonId));
    const entry: Published = { path: row.joinedFile, file: await describeRecording(row.joinedFile, masterFileId(lessonId), meta) };
    published = [...published, entry];
    writeFileAtomic(join(o.dir, 'published.json'), JSON.stringify(published));
    log.info({ lesson: lessonId, infohash: entry.file.infohash, bytes: entry.file.bytes }, 'master recording published to the teaching points');
    if (o.selfUrl()) await peer.seed(Buffer.from(entry.file.torrent, 'base64'), dirname(entry.path), o.trackers());
  }

  async function fetchList(): Promise<void> {
    if (!o.hub) return;
    const doc = await o.hub.client.json('/api/peer/recordings', { timeoutMs: 15_000, maxBytes: MASTER_LIST_MAX_BYTES });
    const list = verifyFileList(doc, [o.hub.publicKey]);
    const fresh = list.files.filter((f) => readMeta(f.meta) !== undefined);
    const byIh = new Map(listed.map((f) => [f.infohash, f]));
    let changed = false;
    for (const f of fresh) {
      // Addresses may change between lists (the hub moved); the content is pinned by the infohash.
      if (JSON.stringify(byIh.get(f.infohash)) !== JSON.stringify(f)) { byIh.set(f.infohash, f); changed = true; }
    }
    if (changed) {
      listed = [...byIh.values()];
      writeFileAtomic(join(o.dir, 'masters.json'), JSON.stringify(listed));
    }
    // Sequential (the hub is the one source): the link plan pauses a fetch often, and a pause keeps
    // only whole verified pieces — rarest-first under a cap spread the bytes over many half pieces.
    await peer.want(listed, { strategy: 'sequential' });
  }

  return {
    async publishJoined() {
      for (const row of o.recorder.store.byState('joined')) if (row.room === broadcastRoom(row.lessonId)) await publish(row.lessonId, row.room);
    },
    async seedPublished() {
      for (const p of published) await peer.seed(Buffer.from(p.file.torrent, 'base64'), dirname(p.path), o.trackers()).catch((e: Error) => log.warn({ err: e.message }, 'cannot seed a published recording'));
    },
    signedList(forBoxId) {
      const selfUrl = o.selfUrl();
      const host = selfUrl ? new URL(selfUrl).host : '';
      const port = peer.torrentPort;
      const files: ListedFile[] = published
        .filter((p) => o.lessons.get(String(p.file.meta.lessonId))?.teachingPoints.includes(forBoxId))
        .map((p) => ({
          ...p.file, webSeeds: selfUrl ? [`${selfUrl}/recordings/files/${p.file.infohash}`] : [], trackers: o.trackers(),
          peers: host && port ? [`${host.replace(/:\d+$/, '')}:${port}`] : [],
        }));
      return signFileList(o.identity, { format: 'tpbox-files/1', boxId: o.identity.boxId, issuedAt: new Date(o.clock.now()).toISOString(), files });
    },
    publishedFile: (ih) => published.find((p) => p.file.infohash === ih)?.path,
    fetchList,
    masters() {
      // fetches(): progress stays visible while the link plan holds a fetch (paused, pieces kept).
      const progress = new Map(peer.fetches().map((s) => [s.infohash, s.progress]));
      return listed.flatMap((f) => {
        const meta = readMeta(f.meta);
        if (!meta) return [];
        const path = peer.heldPath(f);
        return [{ infohash: f.infohash, bytes: f.bytes, meta, path, progress: path ? 1 : progress.get(f.infohash) ?? 0 }];
      });
    },
    transfers: (pausedReason) => (o.hub ? fetchTransfers(peer, listed.map((file) => ({ file, id: (m) => recordingId('master', m.lessonId, m.room) })), pausedReason) : []),
  };
}
