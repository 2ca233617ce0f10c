// Lessons and the timetable from this box (GET /api/lessons with the screen's media token).
import type { Lesson, LessonLinkStatus, Rung } from '../../../core/contract/lesson.js';
import { load, type Loaded } from './http.js';
import { dropRefusedToken, mediaToken } from './media.js';

export type LinkStatus = LessonLinkStatus;
export type { Rung };

export interface LessonsReply {
  lessons: Lesson[];
  timetable?: { fetchedAt: number | null; error: string | null };
  links?: LinkStatus[];
}

/** 'unauthorised' when this screen has no (valid) media token yet. */
export async function timetable(): Promise<Loaded<LessonsReply> | { state: 'unauthorised' }> {
  const tok = mediaToken.value?.token;
  if (!tok) return { state: 'unauthorised' };
  const out = await load<LessonsReply>('/api/lessons', { token: tok });
  if (out.state === 'error' && out.error.code === 'E_UNAUTHORIZED') {
    dropRefusedToken();
    return { state: 'unauthorised' };
  }
  return out;
}

export async function lesson(id: string): Promise<Loaded<Lesson>> {
  return load<Lesson>(`/api/lessons/${encodeURIComponent(id)}`, { token: mediaToken.value?.token ?? null });
}

/** Lessons of the local day, earliest first. */
export function todays(lessons: Lesson[], now: Date): Lesson[] {
  const day = now.toDateString();
  return lessons.filter((l) => new Date(l.startsAt).toDateString() === day || l.status === 'live')
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}

/** The lesson to offer on the big button: a live one, else the next one that has not ended. */
export function nextLesson(lessons: Lesson[], now: Date): Lesson | undefined {
  const live = lessons.find((l) => l.status === 'live');
  if (live) return live;
  return lessons.find((l) => l.status === 'scheduled' && new Date(l.endsAt).getTime() > now.getTime());
}
