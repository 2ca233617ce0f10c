import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Db } from '../core/store/database.js';
import type { LessonClock } from '../core/lesson-clock.js';
import { broadcastRoom, classroomRoom, type Lesson } from '../core/contract/lesson.js';
import { RoomRecorder } from './recorder.js';
import { RecordingStore } from './recorder-store.js';
import { joinRecording } from './recorder-join.js';
import type { Room } from './room.js';
import type { LessonStore } from './lesson-store.js';
import type { ControlHub } from './control-hub.js';

export interface RecorderScheduleOptions {
  db: Db;
  /** The box's clock for segments, and the one answer to "is this lesson running". */
  lessonClock: LessonClock;
  log: Logger;
  dataDir: string;
  /** The SFU's room of a name (Sfu.room): what a recorder taps. */
  room: (name: string) => Room;
  lessons: LessonStore;
  /** The lesson's control timeline, written beside the joined recording. */
  control: ControlHub;
  role: 'hub' | 'teaching-point';
  selfBoxId: string;
  tickMs?: number;
  segmentSeconds?: number;
  minFreeBytes?: number;
  /** The box's recording switch (settings); off: no new recording starts and running ones stop. */
  enabled?: () => boolean;
}

export interface RecorderSchedule {
  store: RecordingStore;
  /** The rooms being recorded now (a recorder that stopped on a warning, e.g. disk full, included). */
  active(): Array<{ lessonId: string; room: string; recorder: RoomRecorder }>;
  enabled(): boolean;
  /** Called after a room's recording was joined at the end of its lesson. */
  onJoined(listener: (lessonId: string, room: string) => void): void;
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records every lesson running on this box — the hub its broadcast room, a teaching point what it
 * receives and its own classroom — from the lesson's state in SQLite, so a box that restarts
 * mid-lesson (power cut, kill -9) picks the recording up again by itself; joins at lesson end.
 */
export function createRecorderSchedule(o: RecorderScheduleOptions): RecorderSchedule {
  const log = o.log.child({ room: 'media', part: 'recorder' });
  const clock = o.lessonClock;
  const store = new RecordingStore(o.db, clock);
  const recorders = new Map<string, RoomRecorder>();
  const root = join(o.dataDir, 'recordings');
  let busy = false;
  let closed = false;
  const enabled = o.enabled ?? (() => true);
  const joinedListeners: Array<(lessonId: string, room: string) => void> = [];

  const roomsOf = (l: Lesson): string[] => (o.role === 'hub' ? [broadcastRoom(l.id)] : [broadcastRoom(l.id), classroomRoom(l.id, o.selfBoxId)]);
  const key = (lesson: string, room: string) => `${lesson}\n${room}`;

  async function finish(l: Lesson, room: string): Promise<void> {
    const k = key(l.id, room);
    const rec = recorders.get(k);
    recorders.delete(k);
    await rec?.stop();
    const row = store.get(l.id, room);
    if (!row || row.state === 'joined' || row.state === 'failed') return;
    if (store.segments(l.id, room).length === 0) return store.setState(l.id, room, 'stopped', 'no media was received');
    try {
      const j = await joinRecording({ store, control: o.control, lessonId: l.id, room, dir: row.dir, lessonStartsAt: l.startsAt });
      store.setState(l.id, room, 'joined', null, j.file);
      log.info({ lesson: l.id, recRoom: room, segments: j.segments.length }, 'recording joined');
      for (const f of joinedListeners) f(l.id, room);
    } catch (e) {
      // The segments stay, each playable; only the joined copy is missing.
      store.setState(l.id, room, 'failed', `join: ${(e as Error).message.slice(0, 300)}`);
      log.warn({ lesson: l.id, recRoom: room, err: (e as Error).message }, 'recording: join failed');
    }
  }

  async function tick(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    try {
      for (const l of o.lessons.list()) {
        if (o.role === 'teaching-point' && !l.teachingPoints.includes(o.selfBoxId)) continue;
        for (const room of roomsOf(l)) {
          const row = store.get(l.id, room);
          const running = clock.running(l);
          if (running && !enabled()) {
            const rec = recorders.get(key(l.id, room));
            if (!rec) continue;
            recorders.delete(key(l.id, room));
            await rec.stop();
            store.setState(l.id, room, 'stopped', 'E_RECORDING_OFF: recording was turned off in the settings');
            log.info({ lesson: l.id, recRoom: room }, 'recording stopped: turned off in the settings');
          } else if (running) {
            if (recorders.has(key(l.id, room)) || (row && row.state !== 'recording')) continue;
            const rec = new RoomRecorder({
              room: o.room(room), lessonId: l.id, dir: join(root, l.id, room.replace(/[^A-Za-z0-9_-]/g, '_')),
              store, clock, log, segmentSeconds: o.segmentSeconds, minFreeBytes: o.minFreeBytes,
            });
            recorders.set(key(l.id, room), rec);
            log.info({ lesson: l.id, recRoom: room, resumed: Boolean(row) }, 'recording started');
            await rec.start();
          } else if (recorders.has(key(l.id, room)) || row?.state === 'recording'
            // Stopped early (turned off, disk full, then a restart): its finished segments are still joined.
            || (row?.state === 'stopped' && !row.joinedFile && store.segments(l.id, room).length > 0)) {
            await finish(l, room);
          }
        }
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'recording: tick failed');
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), o.tickMs ?? 1000);
  void tick();
  return {
    store, tick, enabled,
    active: () => [...recorders].map(([k, recorder]) => ({ lessonId: k.slice(0, k.indexOf('\n')), room: recorder.roomName, recorder })),
    onJoined: (f) => { joinedListeners.push(f); },
    async close() {
      closed = true;
      clearInterval(timer);
      // Shutdown is not the end of the lesson: rows stay 'recording' and resume on the next start.
      for (const r of recorders.values()) await r.stop();
      recorders.clear();
    },
  };
}
