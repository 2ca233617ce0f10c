import type { RecordingGap } from '../core/contract/recording.js';

/** A span of wall-clock time on the hub-following clock, ms. */
export interface Span { from: number; to: number }

/** Shorter holes are segment-boundary rounding, not lost media. */
const MIN_GAP_MS = 1500;

function merge(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of [...spans].filter((x) => x.to > x.from).sort((a, b) => a.from - b.from)) {
    const last = out[out.length - 1];
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

function subtract(spans: Span[], holes: Span[]): Span[] {
  let out = merge(spans);
  for (const h of holes) {
    out = out.flatMap((s) => {
      if (h.to <= s.from || h.from >= s.to) return [s];
      return [{ from: s.from, to: h.from }, { from: h.to, to: s.to }].filter((x) => x.to - x.from > 0);
    });
  }
  return out;
}

/**
 * Where a recording holds nothing: the stretches of the window its segments do not cover, plus the
 * stretches its source sent nothing (a WAN outage inside one segment run). The window is what the
 * recording covers, widened to the master recording's span when there is one — a box that came up
 * late or went down early misses those ends too. A gap the master covers is `filledBy: 'master'`.
 */
export function recordingGaps(o: {
  segments: Span[];
  silences: Span[];
  lessonStartMs: number;
  master: (Span & { complete: boolean }) | null;
}): RecordingGap[] {
  const covered = subtract(o.segments, o.silences);
  const ends = [...o.segments, ...(o.master ? [o.master] : [])];
  if (ends.length === 0) return [];
  const window = { from: Math.min(...ends.map((s) => s.from)), to: Math.max(...ends.map((s) => s.to)) };
  const holes = subtract([window], covered).filter((h) => h.to - h.from >= MIN_GAP_MS);
  const m = o.master;
  return holes.map((h) => ({
    fromMs: Math.max(0, Math.round(h.from - o.lessonStartMs)),
    toMs: Math.max(0, Math.round(h.to - o.lessonStartMs)),
    // A second of slack: the two boxes cut their segments at different keyframes.
    filledBy: m && m.complete && m.from <= h.from + 1000 && m.to >= h.to - 1000 ? 'master' as const : null,
  }));
}
