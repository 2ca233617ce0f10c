// The hardware room's tables: free-space samples (for the trend) and boots (for unclean shutdowns).
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../core/store/database.js';
import type { Clock } from '../core/clock.js';
import { fsyncDir, writeFileAtomic } from '../core/atomic-file.js';

export interface DiskSample { at: number; freeBytes: number; totalBytes: number }

export interface DiskTrend {
  /** Least-squares slope of free bytes over time; negative while the disk fills. */
  bytesPerDay: number;
  /** At this rate, days until no space is left; null when not filling. */
  daysUntilFull: number | null;
  samples: number;
  spanHours: number;
}

/** Fewer samples or a shorter span than this says nothing about a trend. */
const MIN_SAMPLES = 3;
const MIN_SPAN_MS = 30 * 60_000;

export function diskTrend(samples: DiskSample[]): DiskTrend | null {
  if (samples.length < MIN_SAMPLES) return null;
  const t0 = samples[0]!.at;
  const span = samples[samples.length - 1]!.at - t0;
  if (span < MIN_SPAN_MS) return null;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const s of samples) {
    const x = (s.at - t0) / 86_400_000;
    sx += x; sy += s.freeBytes; sxx += x * x; sxy += x * s.freeBytes;
  }
  const n = samples.length;
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const last = samples[samples.length - 1]!.freeBytes;
  return {
    bytesPerDay: Math.round(slope),
    daysUntilFull: slope < 0 ? Math.round((last / -slope) * 10) / 10 : null,
    samples: n,
    spanHours: Math.round((span / 3_600_000) * 10) / 10,
  };
}

export class DiskSamples {
  private readonly insert;
  private readonly since;
  private readonly prune;

  constructor(db: Db, private readonly clock: Clock, private readonly keepDays = 30) {
    this.insert = db.prepare('INSERT OR REPLACE INTO hardware_disk_samples (at, free_bytes, total_bytes) VALUES (?, ?, ?)');
    this.since = db.prepare('SELECT at, free_bytes AS freeBytes, total_bytes AS totalBytes FROM hardware_disk_samples WHERE at >= ? ORDER BY at');
    this.prune = db.prepare('DELETE FROM hardware_disk_samples WHERE at < ?');
  }

  add(freeBytes: number, totalBytes: number): void {
    const now = this.clock.now();
    this.insert.run(now, freeBytes, totalBytes);
    this.prune.run(now - this.keepDays * 86_400_000);
  }

  /** The trend over the last `days` (a week by default: long enough to see through a day's swings). */
  trend(days = 7): DiskTrend | null {
    return diskTrend(this.since.all(this.clock.now() - days * 86_400_000) as DiskSample[]);
  }
}

interface Marker { pid: number; startedAt: number }

export interface BootInfo {
  previousClean: boolean;
  /** When the run that did not stop cleanly had started. */
  previousStartedAt: number | null;
  uncleanCount: number;
  lastUncleanAt: number | null;
}

export const MARKER_FILE = 'running.marker';

/**
 * A marker file exists exactly while the daemon runs: written at start, removed on a clean stop.
 * Finding it at start means the last run ended by power loss, kill -9 or a crash.
 */
export class BootRecorder {
  private readonly markerPath: string;
  private readonly insert;
  private readonly countStmt;
  private readonly lastStmt;

  constructor(private readonly db: Db, dataDir: string, private readonly clock: Clock) {
    this.markerPath = join(dataDir, MARKER_FILE);
    this.insert = db.prepare('INSERT INTO hardware_boots (started_at, previous_clean, previous_started_at, previous_pid) VALUES (?, ?, ?, ?)');
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM hardware_boots WHERE previous_clean = 0');
    this.lastStmt = db.prepare('SELECT started_at AS at FROM hardware_boots WHERE previous_clean = 0 ORDER BY id DESC LIMIT 1');
  }

  /** Records this start. The old marker is replaced only after the row is in: a crash in between counts again. */
  recordStart(pid = process.pid): BootInfo {
    const previous = readMarker(this.markerPath);
    const now = this.clock.now();
    this.insert.run(now, previous ? 0 : 1, previous?.startedAt ?? null, previous?.pid ?? null);
    writeFileAtomic(this.markerPath, JSON.stringify({ pid, startedAt: now } satisfies Marker));
    return { previousClean: !previous, previousStartedAt: previous?.startedAt ?? null, ...this.summary() };
  }

  recordCleanStop(): void {
    if (!existsSync(this.markerPath)) return;
    unlinkSync(this.markerPath);
    fsyncDir(join(this.markerPath, '..'));
  }

  summary(): { uncleanCount: number; lastUncleanAt: number | null } {
    const n = (this.countStmt.get() as { n: number }).n;
    const last = this.lastStmt.get() as { at: number } | undefined;
    return { uncleanCount: n, lastUncleanAt: last?.at ?? null };
  }
}

function readMarker(path: string): Marker | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Partial<Marker>;
    return { pid: Number(m.pid) || 0, startedAt: Number(m.startedAt) || 0 };
  } catch {
    // A marker torn by the power cut itself still says the run did not end cleanly.
    return { pid: 0, startedAt: 0 };
  }
}

/** For `box doctor` with the daemon stopped: is a marker left behind? */
export function markerLeftBehind(dataDir: string): boolean {
  return existsSync(join(dataDir, MARKER_FILE));
}
