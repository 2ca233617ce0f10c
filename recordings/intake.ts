import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { broadcastRoom, classroomRoom } from '../core/contract/lesson.js';
import type { RecordingTransfer } from '../core/contract/recording.js';
import { BoxError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { LessonStore } from '../media/lesson-store.js';
import { verifyFileList, type FilePeer, type ListedFile } from '../sync/recording-fetch.js';
import type { UploadedRecording } from './catalogue.js';
import { fetchTransfers, readMeta, uploadedRecordingId } from './metadata.js';

// The hub's side of a teaching point's upload (recordings/upload.ts is the other): the teaching point
// is usually behind NAT, so the hub never dials. It takes the offered list (signed with the teaching
// point's box key), answers with its torrent port, and its fetching client waits to be dialled. It
// uses no web seed (it could not reach one) and ignores any address in the list; its fetch resumes
// from its saved bitfield, as a master's fetch does.

export interface OfferReply {
  /** The hub's BitTorrent port: the teaching point dials it. Null until the hub's client listens. */
  torrentPort: number | null;
  /** receivedBytes: what reached the hub from peers since the hub started (duplicates included). */
  files: Array<{ infohash: string; state: 'fetching' | 'complete'; progress: number; receivedBytes: number }>;
  refused: Array<{ infohash: string; code: string; message: string }>;
}

export interface RecordingsIntake {
  /** A teaching point offers its recordings (already authenticated as `from`). */
  offer(from: { boxId: string; publicKey: string; name: string; status: string } | undefined, doc: unknown): Promise<OfferReply>;
  /** Recordings received (or on their way) from teaching points. */
  received(): UploadedRecording[];
  /** An infohash the hub's tracker may serve. */
  knows(infohash: string): boolean;
  transfers(): RecordingTransfer[];
  /** After a restart (power cut, kill -9) every unfinished fetch resumes from its saved bitfield. */
  start(): Promise<void>;
}

interface Incoming { fromBoxId: string; fromName: string; file: ListedFile }

export function createRecordingsIntake(o: {
  log: Logger; dir: string; lessons: LessonStore; peer: FilePeer;
  /** The hub's own tracker URLs (announce), empty until it listens. */
  trackers: () => string[];
  /** Free space kept after taking a teaching point's recording (bytes). */
  reserveBytes?: number;
  /** Bytes one teaching point may have on their way up at once (offered, not yet received). */
  quotaBytes?: number;
}): RecordingsIntake {
  const log = o.log.child({ part: 'intake' });
  let incoming: Incoming[] = [];
  try { incoming = JSON.parse(readFileSync(join(o.dir, 'uploads-in.json'), 'utf8')) as Incoming[]; } catch { /* none yet */ }
  const asFetched = (f: ListedFile): ListedFile => ({ ...f, trackers: o.trackers(), webSeeds: [], peers: [] });

  async function offer(from: Parameters<RecordingsIntake['offer']>[0], doc: unknown): Promise<OfferReply> {
    if (!from || from.status !== 'active') throw new BoxError('E_FORBIDDEN', 'This box is not an enrolled teaching point of this hub.');
    const list = verifyFileList(doc, [from.publicKey]);
    if (list.boxId !== from.boxId) throw new BoxError('E_MANIFEST_WRONG_KEY', 'The recording list names another box.');
    const refused: OfferReply['refused'] = [];
    const byIh = new Map(incoming.map((i) => [i.file.infohash, i]));
    let changed = false;
    // A new file is taken only while the hub keeps its reserve free afterwards (recording comes first),
    // counting what it already agreed to take and has not received yet; and no teaching point may have
    // more than its quota on the way at once, so one box cannot claim the hub's disk for itself.
    const pending = (i: Incoming) => (o.peer.heldPath(i.file) === undefined ? i.file.bytes : 0);
    let room = Infinity;
    try {
      const fs = await statfs(o.dir);
      room = fs.bavail * fs.bsize - (o.reserveBytes ?? 500 * 1024 * 1024) - incoming.reduce((a, i) => a + pending(i), 0);
    } catch { /* unknown: try */ }
    let quota = (o.quotaBytes ?? 4 * 1024 ** 3) - incoming.filter((i) => i.fromBoxId === from.boxId).reduce((a, i) => a + pending(i), 0);
    for (const f of list.files) {
      const meta = readMeta(f.meta);
      const lesson = meta ? o.lessons.get(meta.lessonId) : undefined;
      if (!meta || !lesson) {
        refused.push({ infohash: f.infohash, code: 'E_VALIDATION', message: 'Not a recording of a lesson this hub knows.' });
        continue;
      }
      // A teaching point sends what it recorded of its own lessons: the broadcast it received, or its classroom.
      if (!lesson.teachingPoints.includes(from.boxId) || (meta.room !== broadcastRoom(lesson.id) && meta.room !== classroomRoom(lesson.id, from.boxId))) {
        refused.push({ infohash: f.infohash, code: 'E_FORBIDDEN', message: 'This teaching point did not take part in that lesson room.' });
        continue;
      }
      const known = byIh.get(f.infohash);
      if (known && known.fromBoxId !== from.boxId) {
        refused.push({ infohash: f.infohash, code: 'E_FORBIDDEN', message: 'Already offered by another box.' });
        continue;
      }
      if (!known && f.bytes > room) {
        refused.push({ infohash: f.infohash, code: 'E_DISK_FULL', message: 'The hub has no room for this recording now.' });
        continue;
      }
      if (!known && f.bytes > quota) {
        refused.push({ infohash: f.infohash, code: 'E_RECORDING_QUOTA', message: 'This teaching point has as much on its way to the hub as it may; the rest follows once that has arrived.' });
        continue;
      }
      if (!known) {
        room -= f.bytes;
        quota -= f.bytes;
        byIh.set(f.infohash, { fromBoxId: from.boxId, fromName: from.name, file: { ...f, webSeeds: [], trackers: [], peers: [] } });
        changed = true;
        log.info({ from: from.boxId, infohash: f.infohash, bytes: f.bytes, lesson: meta.lessonId }, 'teaching point offers a recording');
      }
    }
    if (changed) {
      incoming = [...byIh.values()];
      writeFileAtomic(join(o.dir, 'uploads-in.json'), JSON.stringify(incoming));
    }
    const mine = incoming.filter((i) => i.fromBoxId === from.boxId && list.files.some((f) => f.infohash === i.file.infohash));
    // One source: pieces in order, so a hub that loses power holds whole pieces, not many half ones.
    await o.peer.want(mine.map((i) => asFetched(i.file)), { strategy: 'sequential' });
    const progress = new Map(o.peer.status().map((s) => [s.infohash, s.progress]));
    return {
      torrentPort: o.peer.torrentPort || null,
      files: mine.map((i) => {
        const held = o.peer.heldPath(i.file) !== undefined;
        return {
          infohash: i.file.infohash, state: held ? 'complete' as const : 'fetching' as const, progress: held ? 1 : progress.get(i.file.infohash) ?? 0,
          receivedBytes: o.peer.received.get(i.file.infohash) ?? 0,
        };
      }),
      refused,
    };
  }

  function received(): UploadedRecording[] {
    const progress = new Map(o.peer.status().map((s) => [s.infohash, s.progress]));
    return incoming.flatMap((i) => {
      const meta = readMeta(i.file.meta);
      if (!meta) return [];
      const path = o.peer.heldPath(i.file);
      return [{ infohash: i.file.infohash, bytes: i.file.bytes, fromBoxId: i.fromBoxId, fromName: i.fromName, meta, path, progress: path ? 1 : progress.get(i.file.infohash) ?? 0 }];
    });
  }

  return {
    offer, received,
    knows: (ih) => incoming.some((i) => i.file.infohash === ih),
    transfers: () => fetchTransfers(o.peer, incoming.map((i) => ({ file: i.file, id: (m) => uploadedRecordingId(i.fromBoxId, m.lessonId, m.room) })), null),
    async start() {
      await o.peer.want(incoming.map((i) => asFetched(i.file)), { strategy: 'sequential' });
    },
  };
}
