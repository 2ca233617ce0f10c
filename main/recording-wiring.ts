import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { LessonClock } from '../core/lesson-clock.js';
import type { Logger } from '../core/log.js';
import type { Db } from '../core/store/database.js';
import { broadcastRoom, classroomRoom, type Lesson } from '../core/contract/lesson.js';
import { RoomRecorder } from '../media/recorder.js';
import { RecordingStore } from '../media/recorder-store.js';
import { joinRecording } from '../media/recorder-join.js';
import type { MediaServices } from './media-wiring.js';

export interface RecordingOptions {
  db: Db;
  clock: Clock;
  /** Records while it says running: a lesson the hub teacher never ended stops at the overrun cap. */
  lessonClock: LessonClock;
  log: Logger;
  dataDir: string;
  media: MediaServices;
  role: 'hub' | 'teaching-point';
  selfBoxId: string;
  tickMs?: number;
  segmentSeconds?: number;
  minFreeBytes?: number;
  /** The box's recording switch (settings); off: no new recording starts and running ones stop. */
  enabled?: () => boolean;
  /** How often a teaching point asks its hub for master recordings (ms). */
  catchupIntervalMs?: number;
}

export interface RecordingServices {
  store: RecordingStore;
  recorders: ReadonlyMap<string, RoomRecorder>;
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
export function createRecordingServices(o: RecordingOptions): RecordingServices {
  const log = o.log.child({ room: 'media', part: 'recorder' });
  const store = new RecordingStore(o.db, o.clock);
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
      const j = await joinRecording({ store, control: o.media.control, lessonId: l.id, room, dir: row.dir, lessonStartsAt: l.startsAt });
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
      const now = o.lessonClock.now();
      const running = (l: Lesson) => o.lessonClock.running(l, now);
      for (const l of o.media.lessons.list()) {
        if (o.role === 'teaching-point' && !l.teachingPoints.includes(o.selfBoxId)) continue;
        for (const room of roomsOf(l)) {
          const row = store.get(l.id, room);
          if (running(l) && !enabled()) {
            const rec = recorders.get(key(l.id, room));
            if (!rec) continue;
            recorders.delete(key(l.id, room));
            await rec.stop();
            store.setState(l.id, room, 'stopped', 'E_RECORDING_OFF: recording was turned off in the settings');
            log.info({ lesson: l.id, recRoom: room }, 'recording stopped: turned off in the settings');
          } else if (running(l)) {
            if (recorders.has(key(l.id, room)) || (row && row.state !== 'recording')) continue;
            const rec = new RoomRecorder({
              room: o.media.sfu.room(room), lessonId: l.id, dir: join(root, l.id, room.replace(/[^A-Za-z0-9_-]/g, '_')),
              store, clock: o.clock, log, segmentSeconds: o.segmentSeconds, minFreeBytes: o.minFreeBytes,
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
    store, recorders, tick, enabled,
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
