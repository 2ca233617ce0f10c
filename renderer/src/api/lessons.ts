// Lessons and the timetable from this box (GET /api/lessons with the screen's media token).
import { lessonPhase, type Lesson, type LessonLinkStatus } from '../../../core/contract/lesson.js';
import { load, type Loaded } from './http.js';
import { dropRefusedToken, mediaToken } from './media.js';

export type LinkStatus = LessonLinkStatus;

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

/** Lessons of the local day, earliest first, and any lesson running now (an overrun past midnight too). */
export function todays(lessons: Lesson[], now: Date): Lesson[] {
  const day = now.toDateString();
  return lessons.filter((l) => new Date(l.startsAt).toDateString() === day || lessonPhase(l, now.getTime()) === 'running')
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}

/** The lesson to offer on the big button: one running now (by the box's one lesson rule), else the next that is not over. */
export function nextLesson(lessons: Lesson[], now: Date): Lesson | undefined {
  const t = now.getTime();
  const live = lessons.find((l) => l.status === 'live' && lessonPhase(l, t) === 'running');
  return live ?? lessons.find((l) => lessonPhase(l, t) === 'running') ?? lessons.find((l) => lessonPhase(l, t) !== 'over');
}
