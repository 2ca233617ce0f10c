// What a recording carries when it moves between boxes (the hub's masters down, a teaching point's own
// up) and what it is called in the list: one schema, one builder, one view of a fetch, one set of ids,
// so the two directions cannot drift apart.
import { basename } from 'node:path';
import { z } from 'zod';
import type { Lesson } from '../core/contract/lesson.js';
import type { RecordingTransfer } from '../core/contract/recording.js';
import type { RecordingRow, SegmentRow } from '../media/recorder-store.js';
import { describeFile, type FilePeer, type ListedFile } from '../sync/recording-fetch.js';

/** A listed recording's `meta` (ListedFile.meta), checked when read: it comes from another box. */
const recordingMetaSchema = z.strictObject({
  lessonId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), room: z.string().min(1).max(200), title: z.string().max(500),
  subject: z.string().max(200).nullable(), grade: z.string().max(200).nullable(),
  // The span of the recorded media on the hub-following clock.
  startedAtMs: z.number().int(), endedAtMs: z.number().int(), durationMs: z.number().int().min(0),
});
export type RecordingMeta = z.infer<typeof recordingMetaSchema>;

export function readMeta(meta: unknown): RecordingMeta | undefined {
  const r = recordingMetaSchema.safeParse(meta);
  return r.success ? r.data : undefined;
}

/** The meta of a joined recording, from the recorder's row and segments and the lesson (when known). */
export function recordingMeta(row: RecordingRow, segments: SegmentRow[], lesson: Lesson | undefined): RecordingMeta {
  const timed = segments.filter((s) => s.startedAt > 0);
  return {
    lessonId: row.lessonId, room: row.room, title: lesson?.title ?? row.lessonId, subject: lesson?.subject ?? null, grade: lesson?.grade ?? null,
    startedAtMs: timed[0]?.startedAt ?? row.startedAt,
    endedAtMs: timed.length ? Math.max(...timed.map((s) => s.startedAt + s.durationMs)) : row.startedAt,
    durationMs: segments.reduce((a, s) => a + s.durationMs, 0),
  };
}

/** A file as this box lists it before the addresses (trackers, web seeds, peers) are filled in. */
export type StoredFile = Omit<ListedFile, 'webSeeds' | 'trackers' | 'peers'>;

/** A joined recording as a listed file: its private torrent is made here (hashing the whole file). */
export async function describeRecording(path: string, fileId: string, meta: RecordingMeta): Promise<StoredFile> {
  const d = await describeFile(path, basename(path), { trackers: [], webSeeds: [] });
  return { id: fileId, infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: basename(path), torrent: d.torrent.toString('base64'), meta: { ...meta } };
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

/** Ids in the box's list of recordings (the API's :id). */
export const recordingId = (source: 'own' | 'master', lessonId: string, room: string) => `${source}.${lessonId}.${safe(room)}`;
export const uploadedRecordingId = (fromBoxId: string, lessonId: string, room: string) => `tp.${safe(fromBoxId)}.${lessonId}.${safe(room)}`;

/** Ids of files in the signed lists between boxes (kept in published.json and uploads-out.json). */
export const masterFileId = (lessonId: string) => `master.${lessonId}`;
export const uploadFileId = (lessonId: string, room: string) => `tp.${safe(lessonId)}.${safe(room)}`;

/**
 * Files this box fetches from another box (a hub's masters on a teaching point, teaching points'
 * recordings on the hub) as transfers for the doctor and /metrics; `pausedReason`: why the link plan holds them.
 */
export function fetchTransfers(peer: FilePeer, files: Array<{ file: ListedFile; id: (meta: RecordingMeta) => string }>, pausedReason: string | null): RecordingTransfer[] {
  const fetches = new Map(peer.fetches().map((f) => [f.infohash, f]));
  return files.flatMap(({ file, id }) => {
    const meta = readMeta(file.meta);
    if (!meta) return [];
    const f = fetches.get(file.infohash);
    const held = peer.heldPath(file) !== undefined;
    const state: RecordingTransfer['state'] = held ? 'done' : !f ? 'waiting' : f.state === 'fetching' ? 'moving' : f.state;
    return [{
      recordingId: id(meta), lessonId: meta.lessonId, room: meta.room, title: meta.title,
      direction: 'download' as const, state, reason: state === 'paused' ? pausedReason : state === 'failed' ? f?.code ?? null : null,
      bytes: file.bytes, doneBytes: held ? file.bytes : f?.doneBytes ?? 0, progress: held ? 1 : f?.progress ?? 0,
      linkBytes: peer.received.get(file.infohash) ?? 0, limitBps: peer.paused ? 0 : peer.downloadLimit,
    }];
  });
}
