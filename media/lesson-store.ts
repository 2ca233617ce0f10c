import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import { BoxError } from '../core/errors.js';
import { parseOrThrow } from '../core/validation.js';
import type { Lesson, LessonInput, LessonStatus } from '../core/contract/lesson.js';

const iso = z.iso.datetime({ offset: true, error: 'an ISO 8601 time such as 2026-11-23T08:00:00Z' });
const text = (max: number) => z.string().trim().min(1, 'a non-empty text').max(max);

const lessonInputSchema = z.strictObject({
  subject: text(40),
  grade: text(20),
  title: text(200),
  hubTeacher: text(60),
  teachingPoints: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'a box id')).max(32).default([]),
  startsAt: iso,
  endsAt: iso,
  courseware: z.array(z.string().min(1).max(128)).max(200).default([]),
}).refine((l) => Date.parse(l.endsAt) > Date.parse(l.startsAt), { message: 'an end time after the start time', path: ['endsAt'] });

const lessonSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  subject: z.string(), grade: z.string(), title: z.string(), hubTeacher: z.string(),
  teachingPoints: z.array(z.string()), startsAt: iso, endsAt: iso, courseware: z.array(z.string()),
  status: z.enum(['scheduled', 'live', 'ended']), updatedAt: iso,
});
const timetableSchema = z.strictObject({ lessons: z.array(lessonSchema).max(2000) });

interface Row {
  id: string; subject: string; grade: string; title: string; hub_teacher: string; teaching_points: string;
  starts_at: number; ends_at: number; courseware: string; status: LessonStatus; updated_at: number;
}

function toLesson(r: Row): Lesson {
  return {
    id: r.id, subject: r.subject, grade: r.grade, title: r.title, hubTeacher: r.hub_teacher,
    teachingPoints: JSON.parse(r.teaching_points) as string[], startsAt: new Date(r.starts_at).toISOString(),
    endsAt: new Date(r.ends_at).toISOString(), courseware: JSON.parse(r.courseware) as string[], status: r.status,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/**
 * Lessons in SQLite. On the hub they are defined through the API; on a teaching point this is the
 * timetable received from the hub, kept so the box knows its lessons with no line at all.
 */
export class LessonStore {
  private readonly upsert;
  private readonly one;
  private readonly all;
  private readonly setStatus;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.upsert = db.prepare(`INSERT INTO lessons (id, subject, grade, title, hub_teacher, teaching_points, starts_at, ends_at, courseware, status, updated_at)
      VALUES (@id, @subject, @grade, @title, @hubTeacher, @teachingPoints, @startsAt, @endsAt, @courseware, @status, @updatedAt)
      ON CONFLICT(id) DO UPDATE SET subject = excluded.subject, grade = excluded.grade, title = excluded.title,
        hub_teacher = excluded.hub_teacher, teaching_points = excluded.teaching_points, starts_at = excluded.starts_at,
        ends_at = excluded.ends_at, courseware = excluded.courseware, status = excluded.status, updated_at = excluded.updated_at`);
    this.one = db.prepare('SELECT * FROM lessons WHERE id = ?');
    this.all = db.prepare('SELECT * FROM lessons ORDER BY starts_at, id');
    this.setStatus = db.prepare('UPDATE lessons SET status = ?, updated_at = ? WHERE id = ?');
  }

  private write(l: Lesson): void {
    this.upsert.run({
      ...l, teachingPoints: JSON.stringify(l.teachingPoints), courseware: JSON.stringify(l.courseware),
      startsAt: Date.parse(l.startsAt), endsAt: Date.parse(l.endsAt), updatedAt: Date.parse(l.updatedAt),
    });
  }

  create(input: unknown, id?: string): Lesson {
    const v = parseOrThrow(lessonInputSchema, input, 'The lesson') as Required<LessonInput>;
    const lesson: Lesson = {
      id: id ?? `L${randomBytes(9).toString('base64url')}`, ...v,
      startsAt: new Date(v.startsAt).toISOString(), endsAt: new Date(v.endsAt).toISOString(),
      status: 'scheduled', updatedAt: new Date(this.clock.now()).toISOString(),
    };
    this.write(lesson);
    return lesson;
  }

  update(id: string, input: unknown): Lesson {
    const old = this.get(id);
    if (!old) throw new BoxError('E_NOT_FOUND', `No lesson ${id}.`);
    const v = parseOrThrow(lessonInputSchema, input, 'The lesson') as Required<LessonInput>;
    const lesson: Lesson = { ...old, ...v, startsAt: new Date(v.startsAt).toISOString(), endsAt: new Date(v.endsAt).toISOString(), updatedAt: new Date(this.clock.now()).toISOString() };
    this.write(lesson);
    return lesson;
  }

  mark(id: string, status: LessonStatus): Lesson | undefined {
    this.setStatus.run(status, this.clock.now(), id);
    return this.get(id);
  }

  get(id: string): Lesson | undefined {
    const r = this.one.get(id) as Row | undefined;
    return r ? toLesson(r) : undefined;
  }

  list(): Lesson[] {
    return (this.all.all() as Row[]).map(toLesson);
  }

  /** A teaching point's lessons, as the hub sends them. */
  forTeachingPoint(boxId: string): Lesson[] {
    return this.list().filter((l) => l.teachingPoints.includes(boxId));
  }

  /** Replaces the local copy of the timetable with the hub's, in one transaction. */
  replaceTimetable(doc: unknown): number {
    const { lessons } = parseOrThrow(timetableSchema, doc, 'The timetable from the hub');
    this.db.transaction(() => {
      const keep = new Set(lessons.map((l) => l.id));
      for (const old of this.list()) if (!keep.has(old.id)) this.db.prepare('DELETE FROM lessons WHERE id = ?').run(old.id);
      for (const l of lessons) this.write(l);
    })();
    return lessons.length;
  }
}
