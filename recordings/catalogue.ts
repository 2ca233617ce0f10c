import { existsSync, statSync } from 'node:fs';
import { BoxError } from '../core/errors.js';
import type { LessonClock } from '../core/lesson-clock.js';
import { broadcastRoom, type ControlEvent, type Lesson } from '../core/contract/lesson.js';
import type { RecordingEntry, RecordingStatus, RecordingState } from '../core/contract/recording.js';
import { readArrivalGaps } from '../media/recorder.js';
import type { RecordingRow } from '../media/recorder-store.js';
import type { RecorderSchedule } from '../media/recorder-schedule.js';
import type { LessonStore } from '../media/lesson-store.js';
import type { ControlHub } from '../media/control-hub.js';
import { recordingGaps, type Span } from './gaps.js';
import { recordingId, uploadedRecordingId, type RecordingMeta } from './metadata.js';

/** A recording fetched from another box: the hub's master on a teaching point, a teaching point's own on the hub. */
export interface FetchedRecording {
  infohash: string;
  bytes: number;
  meta: RecordingMeta;
  /** Set once fetched and verified. */
  path: string | undefined;
  progress: number;
}

/** A teaching point's own recording held (or being received) by the hub. */
export interface UploadedRecording extends FetchedRecording {
  fromBoxId: string;
  fromName: string;
}

export interface RecordingsCatalogue {
  list(): RecordingEntry[];
  get(id: string): RecordingEntry;
  mediaFile(id: string): string;
  timeline(id: string): ControlEvent[];
  status(): RecordingStatus;
}

const DISK_FULL_MESSAGE = '磁盘空间不足，录制已停止；已录好的片段都已保存。';

function problemCode(warning: string | null): string | null {
  if (!warning) return null;
  const m = /^(E_[A-Z_]+)/.exec(warning);
  return m ? m[1]! : 'E_INTERNAL';
}

export function createRecordingsCatalogue(o: {
  recorder: RecorderSchedule; lessons: LessonStore; control: ControlHub; lessonClock: LessonClock; masters: () => FetchedRecording[];
  /** Hub: teaching points' recordings sent up to it. */
  uploads?: () => UploadedRecording[];
  /** Teaching point: how each own recording's copy to the hub stands. */
  uploadState?: (lessonId: string, room: string) => RecordingEntry['upload'];
}): RecordingsCatalogue {
  const { store } = o.recorder;
  const lessonOf = (id: string): Lesson | undefined => o.lessons.get(id);
  // Over on the lesson clock: a lesson the hub teacher overruns is still being recorded.
  const over = (l: Lesson | undefined) => !l || o.lessonClock.phase(l) === 'over';

  function ownEntry(row: RecordingRow, masters: FetchedRecording[]): RecordingEntry {
    const l = lessonOf(row.lessonId);
    const segs = store.segments(row.lessonId, row.room);
    const id = recordingId('own', row.lessonId, row.room);
    const active = o.recorder.active().some((a) => a.lessonId === row.lessonId && a.room === row.room);
    let state: RecordingState;
    if (row.state === 'joined') state = 'complete';
    else if (row.state === 'stopped') state = 'stopped';
    else if (row.state === 'failed') state = 'failed';
    else state = !active && over(l) ? 'joining' : 'recording';
    const timed: Span[] = segs.filter((s) => s.startedAt > 0).map((s) => ({ from: s.startedAt, to: s.startedAt + s.durationMs }));
    const m = row.room === broadcastRoom(row.lessonId) ? masters.find((x) => x.meta.lessonId === row.lessonId && x.meta.room === row.room) : undefined;
    const gaps = l ? recordingGaps({
      segments: timed, silences: readArrivalGaps(row.dir), lessonStartMs: Date.parse(l.startsAt),
      master: m ? { from: m.meta.startedAtMs, to: m.meta.endedAtMs, complete: m.path !== undefined } : null,
    }) : [];
    const durMs = segs.reduce((a, s) => a + s.durationMs, 0);
    const joined = row.joinedFile && existsSync(row.joinedFile) ? row.joinedFile : null;
    const first = timed[0]?.from ?? row.startedAt;
    const last = timed.length ? Math.max(...timed.map((s) => s.to)) : null;
    return {
      id, lessonId: row.lessonId, room: row.room, source: 'own',
      title: l?.title ?? row.lessonId, subject: l?.subject ?? null, grade: l?.grade ?? null,
      startedAt: new Date(first).toISOString(),
      endedAt: state === 'recording' || last === null ? null : new Date(last).toISOString(),
      durationSeconds: segs.length ? Math.round(durMs / 100) / 10 : null,
      state,
      bytes: joined ? statSync(joined).size : segs.reduce((a, s) => a + s.bytes, 0),
      gaps,
      mediaUrl: joined && state === 'complete' ? `/api/recordings/${id}/media` : null,
      timelineUrl: `/api/recordings/${id}/timeline`,
      problem: problemCode(row.warning),
      ...(o.uploadState && state === 'complete' ? { upload: o.uploadState(row.lessonId, row.room) } : {}),
    };
  }

  /** A recording fetched from another box (a master from the hub, a teaching point's on the hub). */
  function fetchedEntry(id: string, source: RecordingEntry['source'], f: FetchedRecording): RecordingEntry {
    const done = f.path !== undefined;
    return {
      id, lessonId: f.meta.lessonId, room: f.meta.room, source,
      title: f.meta.title, subject: f.meta.subject, grade: f.meta.grade,
      startedAt: new Date(f.meta.startedAtMs).toISOString(), endedAt: new Date(f.meta.endedAtMs).toISOString(),
      durationSeconds: Math.round(f.meta.durationMs / 100) / 10,
      state: done ? 'complete' : 'fetching',
      bytes: f.bytes, gaps: [],
      mediaUrl: done ? `/api/recordings/${id}/media` : null,
      timelineUrl: `/api/recordings/${id}/timeline`,
      problem: null,
    };
  }

  function uploadedEntry(u: UploadedRecording): RecordingEntry {
    return {
      ...fetchedEntry(uploadedRecordingId(u.fromBoxId, u.meta.lessonId, u.meta.room), 'teaching-point', u),
      fromBox: { boxId: u.fromBoxId, name: u.fromName },
      progress: u.path !== undefined ? 1 : Math.round(u.progress * 1000) / 1000,
    };
  }

  function masterEntry(m: FetchedRecording): RecordingEntry {
    return fetchedEntry(recordingId('master', m.meta.lessonId, m.meta.room), 'master', m);
  }

  function list(): RecordingEntry[] {
    const masters = o.masters();
    return [...store.all().map((r) => ownEntry(r, masters)), ...masters.map(masterEntry), ...(o.uploads?.() ?? []).map(uploadedEntry)]
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.id.localeCompare(b.id));
  }

  function get(id: string): RecordingEntry {
    const e = list().find((x) => x.id === id);
    if (!e) throw new BoxError('E_NOT_FOUND', `No recording ${id.slice(0, 200)} on this box.`);
    return e;
  }

  return {
    list, get,
    mediaFile(id) {
      const e = get(id);
      if (e.source === 'master') {
        const m = o.masters().find((x) => recordingId('master', x.meta.lessonId, x.meta.room) === id);
        if (m?.path) return m.path;
      } else if (e.source === 'teaching-point') {
        const u = o.uploads?.().find((x) => uploadedRecordingId(x.fromBoxId, x.meta.lessonId, x.meta.room) === id);
        if (u?.path) return u.path;
      } else {
        const row = store.get(e.lessonId, e.room);
        if (row?.joinedFile && e.state === 'complete' && existsSync(row.joinedFile)) return row.joinedFile;
      }
      throw new BoxError('E_NOT_FOUND', `Recording ${id} is not playable yet (${e.state}).`);
    },
    timeline(id) {
      const e = get(id);
      const events: ControlEvent[] = [];
      for (let after = 0; ;) {
        const page = o.control.since(e.lessonId, after, 1000);
        events.push(...page);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.id;
      }
      return events.sort((a, b) => a.at - b.at || a.id - b.id);
    },
    status() {
      const active = o.recorder.active().filter((a) => !a.recorder.warning).map(({ lessonId, room }) => {
        const row = store.get(lessonId, room);
        return { lessonId, room, since: new Date(row?.startedAt ?? 0).toISOString(), segments: store.segments(lessonId, room).length };
      });
      const full = store.byState('stopped').find((r) => r.warning?.startsWith('E_DISK_FULL') && !over(lessonOf(r.lessonId)));
      return {
        enabled: o.recorder.enabled(),
        active,
        warning: full ? { code: 'E_DISK_FULL', message: DISK_FULL_MESSAGE } : null,
      };
    },
  };
}
