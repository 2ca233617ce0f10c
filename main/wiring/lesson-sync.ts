import type { LessonClock } from '../../core/lesson-clock.js';
import type { Logger } from '../../core/log.js';
import type { Lesson } from '../../core/contract/lesson.js';
import type { SyncServices } from './sync.js';

export interface LessonSyncOptions {
  /** The lessons this box takes part in (the hub: all it runs; a teaching point: its offline timetable). */
  lessons: () => Lesson[];
  sync: Pick<SyncServices, 'addWantedProvider' | 'setLessonActive'>;
  clock: LessonClock;
  log: Logger;
  /** Courseware of lessons starting within this horizon is fetched first and never evicted. */
  horizonMs?: number;
  pollMs?: number;
}

/**
 * A live lesson has first claim on the box's WAN link (DESIGN §5): while one is in progress sync drops
 * to its lesson share (or pauses), and the courseware of the lessons coming up is fetched before
 * anything else. Only changes are passed on, so the technician's manual switch
 * (PUT /api/catalog/lesson-active) still holds between lessons.
 */
export function wireLessonsToSync(o: LessonSyncOptions): () => void {
  const horizon = o.horizonMs ?? 24 * 3600_000;
  const stopWanted = o.sync.addWantedProvider(() => {
    const now = o.clock.now();
    return o.lessons().filter((l) => o.clock.phase(l, horizon, now) !== 'over' && Date.parse(l.startsAt) - now < horizon).flatMap((l) => l.courseware);
  });
  let last: boolean | undefined;
  const check = () => {
    let active = false;
    try {
      active = o.lessons().some((l) => o.clock.running(l));
    } catch (e) {
      o.log.warn({ err: (e as Error).message }, 'lesson state for sync unknown'); // e.g. database closing
      return;
    }
    if (active === last) return;
    last = active;
    o.log.info({ active }, active ? 'lesson in progress: sync yields the link' : 'no lesson in progress: sync at full speed');
    o.sync.setLessonActive(active);
  };
  check();
  const timer = setInterval(check, o.pollMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopWanted();
  };
}
