import { execFile } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fsyncDir, writeFileAtomic } from '../core/atomic-file.js';
import type { ControlHub } from './control-hub.js';
import type { RecordingStore, SegmentRow } from './recorder-store.js';

const run = promisify(execFile);

export interface JoinedRecording {
  file: string;
  timeline: string;
  segments: SegmentRow[];
}

function safeName(room: string): string {
  return room.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Joins a room's stored segments into one Matroska file (concat demuxer, `-c copy`, written to a temp
 * name, fsynced, renamed) and writes the lesson's control timeline as JSON beside it.
 */
export async function joinRecording(o: {
  store: RecordingStore; control: ControlHub; lessonId: string; room: string; dir: string; lessonStartsAt: string; ffmpegPath?: string;
}): Promise<JoinedRecording> {
  const segments = o.store.segments(o.lessonId, o.room);
  if (segments.length === 0) throw new Error('no finished segment to join');
  const list = join(o.dir, 'concat.txt');
  writeFileAtomic(list, segments.map((s) => `file '${s.file}'\n`).join(''));
  const base = safeName(o.room);
  const file = join(o.dir, `${base}.mkv`);
  const tmp = `${file}.part`;
  rmSync(tmp, { force: true });
  await run(o.ffmpegPath ?? 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy', '-f', 'matroska', tmp], { maxBuffer: 1 << 20 });
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
  const events = [];
  for (let after = 0; ;) {
    const page = o.control.since(o.lessonId, after, 1000);
    events.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.id;
  }
  let offsetMs = 0;
  const timeline = join(o.dir, `${base}.timeline.json`);
  writeFileAtomic(timeline, JSON.stringify({
    lessonId: o.lessonId, room: o.room, lessonStartsAt: o.lessonStartsAt, media: `${base}.mkv`,
    // Where each segment sits in the joined file and on the wall clock, so gaps (a dead recorder,
    // a power cut) can be found and filled from another box's recording.
    segments: segments.map((s) => {
      const e = { file: s.file, startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : null, durationMs: s.durationMs, offsetMs };
      offsetMs += s.durationMs;
      return e;
    }),
    events,
  }, null, 2));
  fsyncDir(o.dir);
  return { file, timeline, segments };
}
