import type { Clock } from './clock.js';
import { lessonPhase, type Lesson, type LessonPhase } from './contract/lesson.js';

type Timed = Pick<Lesson, 'status' | 'startsAt' | 'endsAt'>;

/**
 * The box's one answer to "where does this lesson stand now": the hub-following clock plus the
 * overrun cap, built once per box and handed to everything that asks (lesson agent, recorder, sync
 * yielding, recording transfers, camera presets), so they can never disagree.
 */
export class LessonClock {
  readonly overrunCapMs: number | undefined;

  constructor(private readonly clock: Clock, opts: { overrunCapMs?: number } = {}) {
    this.overrunCapMs = opts.overrunCapMs;
  }

  now(): number {
    return this.clock.now();
  }

  /** `leadMs`: how long before its start a lesson is `due` (a teaching point connects ahead). */
  phase(l: Timed, leadMs = 0, now = this.clock.now()): LessonPhase {
    return lessonPhase(l, now, { leadMs, ...(this.overrunCapMs !== undefined ? { overrunCapMs: this.overrunCapMs } : {}) });
  }

  running(l: Timed, now = this.clock.now()): boolean {
    return this.phase(l, 0, now) === 'running';
  }
}
