// Recordings kept on this box (core/contract/recording.ts): the list, one recording's control timeline,
// and where each timeline event falls on the recording's media clock.
import type { ControlEvent } from '../../../core/contract/lesson.js';
import type { RecordingEntry } from '../../../core/contract/recording.js';
import { getJson, load, type Loaded } from './http.js';
import { lesson as fetchLesson } from './lessons.js';
import { mediaToken, ticketUrl } from './media.js';

export type { RecordingEntry };

const auth = () => ({ token: mediaToken.value?.token ?? null });

export function recordings(): Promise<Loaded<{ recordings: RecordingEntry[] }>> {
  return load<{ recordings: RecordingEntry[] }>('/api/recordings', auth());
}

/**
 * The media URL for a <video> element, which cannot send a header: a short-lived ticket for this one
 * recording rides as ?ticket= (the screen's token never goes in a URL). Null when it cannot be had.
 */
export async function playableUrl(r: RecordingEntry): Promise<string | null> {
  if (!r.mediaUrl) return null;
  return ticketUrl(r.mediaUrl.split('?')[0]!).catch(() => null);
}

/** The timeline as the box serves it (an array, or `{ events }`), in time order. */
export async function timeline(r: RecordingEntry): Promise<ControlEvent[]> {
  if (!r.timelineUrl) return [];
  const out = await getJson<ControlEvent[] | { events: ControlEvent[] }>(r.timelineUrl, auth());
  return [...(Array.isArray(out) ? out : out.events)].sort((a, b) => a.at - b.at || a.id - b.id);
}

/** Milliseconds from the lesson's start to the recording's first frame. */
export async function lessonOffsetMs(r: RecordingEntry): Promise<number> {
  let origin = r.lessonStartsAt ? Date.parse(r.lessonStartsAt) : NaN;
  if (Number.isNaN(origin)) {
    const l = await fetchLesson(r.lessonId);
    origin = l.state === 'ready' ? Date.parse(l.data.startsAt) : NaN;
  }
  return Number.isNaN(origin) ? 0 : Math.max(0, Date.parse(r.startedAt) - origin);
}

/**
 * Where a lesson moment (ms since the lesson's start) is on the media, in ms: after the recording's
 * start, less the stretches the recording does not hold (its segments are joined end to end).
 */
export function mediaMs(at: number, offsetMs: number, gaps: RecordingEntry['gaps']): number {
  let missing = 0;
  for (const g of gaps) {
    if (g.filledBy !== null || g.toMs <= offsetMs) continue;
    const from = Math.max(g.fromMs, offsetMs);
    if (from >= at) continue;
    missing += Math.min(g.toMs, at) - from;
  }
  return Math.max(0, at - offsetMs - missing);
}
