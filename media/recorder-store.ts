import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';

export type RecordingState = 'recording' | 'stopped' | 'joined' | 'failed';

export interface RecordingRow {
  lessonId: string;
  room: string;
  state: RecordingState;
  dir: string;
  startedAt: number;
  runs: number;
  ffmpegPid: number | null;
  warning: string | null;
  joinedFile: string | null;
}

export interface SegmentRow {
  idx: number;
  file: string;
  bytes: number;
  startedAt: number;
  durationMs: number;
}

const cols = `lesson_id AS lessonId, room, state, dir, started_at AS startedAt, runs, ffmpeg_pid AS ffmpegPid,
  warning, joined_file AS joinedFile`;

/** Recording state in SQLite, so a box that lost power knows what it was recording and where. */
export class RecordingStore {
  constructor(private readonly db: Db, private readonly clock: Clock) {}

  get(lessonId: string, room: string): RecordingRow | undefined {
    return this.db.prepare(`SELECT ${cols} FROM recordings WHERE lesson_id = ? AND room = ?`).get(lessonId, room) as RecordingRow | undefined;
  }

  all(): RecordingRow[] {
    return this.db.prepare(`SELECT ${cols} FROM recordings ORDER BY started_at DESC`).all() as RecordingRow[];
  }

  byState(state: RecordingState): RecordingRow[] {
    return this.db.prepare(`SELECT ${cols} FROM recordings WHERE state = ? ORDER BY started_at`).all(state) as RecordingRow[];
  }

  /** Creates the row, or puts a known one back to recording (a restart while the lesson runs). */
  begin(lessonId: string, room: string, dir: string): RecordingRow {
    const now = this.clock.now();
    this.db.prepare(`INSERT INTO recordings (lesson_id, room, state, dir, started_at, updated_at) VALUES (?, ?, 'recording', ?, ?, ?)
      ON CONFLICT (lesson_id, room) DO UPDATE SET state = 'recording', warning = NULL, updated_at = excluded.updated_at`).run(lessonId, room, dir, now, now);
    return this.get(lessonId, room)!;
  }

  /** A new ffmpeg run: its number is committed before ffmpeg starts, so file names are never reused. */
  nextRun(lessonId: string, room: string): number {
    return this.db.transaction(() => {
      this.db.prepare('UPDATE recordings SET runs = runs + 1, updated_at = ? WHERE lesson_id = ? AND room = ?').run(this.clock.now(), lessonId, room);
      return (this.db.prepare('SELECT runs FROM recordings WHERE lesson_id = ? AND room = ?').get(lessonId, room) as { runs: number }).runs;
    })();
  }

  setPid(lessonId: string, room: string, pid: number | null): void {
    this.db.prepare('UPDATE recordings SET ffmpeg_pid = ?, updated_at = ? WHERE lesson_id = ? AND room = ?').run(pid, this.clock.now(), lessonId, room);
  }

  setState(lessonId: string, room: string, state: RecordingState, warning: string | null = null, joinedFile: string | null = null): void {
    this.db.prepare('UPDATE recordings SET state = ?, warning = COALESCE(?, warning), joined_file = COALESCE(?, joined_file), updated_at = ? WHERE lesson_id = ? AND room = ?')
      .run(state, warning, joinedFile, this.clock.now(), lessonId, room);
  }

  /** Idempotent: a segment found again after a crash is not listed twice. */
  addSegment(lessonId: string, room: string, s: SegmentRow): void {
    this.db.prepare(`INSERT OR IGNORE INTO recording_segments (lesson_id, room, idx, file, bytes, started_at, duration_ms, finished_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(lessonId, room, s.idx, s.file, s.bytes, s.startedAt, s.durationMs, this.clock.now());
  }

  segments(lessonId: string, room: string): SegmentRow[] {
    return this.db.prepare(`SELECT idx, file, bytes, started_at AS startedAt, duration_ms AS durationMs FROM recording_segments
      WHERE lesson_id = ? AND room = ? ORDER BY idx`).all(lessonId, room) as SegmentRow[];
  }
}
