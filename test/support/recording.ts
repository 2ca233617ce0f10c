// Reading a box's recordings for the recording tests: SQLite rows and ffprobe on the files.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Db } from '../../core/store/database.js';

const run = promisify(execFile);

export interface Probe { codecs: string[]; durationS: number }

export async function ffprobe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams?: Array<{ codec_name: string }>; format?: { duration?: string } };
  return { codecs: (j.streams ?? []).map((s) => s.codec_name).sort(), durationS: Number(j.format?.duration ?? 0) };
}

export interface SegRow { idx: number; file: string; started_at: number; duration_ms: number }
export interface RecRow { state: string; dir: string; ffmpeg_pid: number | null; warning: string | null; joined_file: string | null; runs: number }

export function recRow(db: Db, lesson: string, room: string): RecRow | undefined {
  return db.prepare('SELECT * FROM recordings WHERE lesson_id = ? AND room = ?').get(lesson, room) as RecRow | undefined;
}

export function segRows(db: Db, lesson: string, room: string): SegRow[] {
  return db.prepare('SELECT * FROM recording_segments WHERE lesson_id = ? AND room = ? ORDER BY idx').all(lesson, room) as SegRow[];
}
