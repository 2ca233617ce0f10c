import { describe, it, expect } from 'vitest';
import { LESSON_OVERRUN_CAP_MS, lessonPhase, parseRoom, broadcastRoom, classroomRoom, type Lesson } from '../../core/contract/lesson.js';
import { LessonClock } from '../../core/lesson-clock.js';
import { ManualClock } from '../../core/clock.js';

const T0 = Date.UTC(2026, 11, 8, 8, 0, 0);
const min = 60_000;
const lesson = (status: Lesson['status']) => ({ status, startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 + 40 * min).toISOString() });

describe('the one lesson clock', () => {
  it('follows the timetable for a lesson nobody started: upcoming, due (lead), running, over at endsAt', () => {
    const l = lesson('scheduled');
    expect(lessonPhase(l, T0 - 10 * min, { leadMs: 2 * min })).toBe('upcoming');
    expect(lessonPhase(l, T0 - 1 * min, { leadMs: 2 * min })).toBe('due');
    expect(lessonPhase(l, T0 - 1 * min)).toBe('upcoming'); // no lead: straight to running at the start
    expect(lessonPhase(l, T0)).toBe('running');
    expect(lessonPhase(l, T0 + 40 * min - 1)).toBe('running');
    expect(lessonPhase(l, T0 + 40 * min)).toBe('over');
  });

  it('keeps a lesson the hub teacher started running past endsAt (an overrun), until the cap', () => {
    const l = lesson('live');
    expect(lessonPhase(l, T0 + 45 * min)).toBe('running');
    expect(lessonPhase(l, T0 + 40 * min + LESSON_OVERRUN_CAP_MS - 1)).toBe('running');
    expect(lessonPhase(l, T0 + 40 * min + LESSON_OVERRUN_CAP_MS)).toBe('over');
    expect(lessonPhase(l, T0 + 41 * min, { overrunCapMs: 30_000 })).toBe('over');
    // Started early by the teacher: running before its slot, not merely due.
    expect(lessonPhase(l, T0 - 5 * min, { leadMs: 2 * min })).toBe('running');
  });

  it('ends a lesson the hub teacher ended, whatever the timetable says', () => {
    expect(lessonPhase(lesson('ended'), T0 + 5 * min)).toBe('over');
    expect(lessonPhase(lesson('ended'), T0 - 1 * min, { leadMs: 2 * min })).toBe('over');
  });

  it('LessonClock answers with the box clock and its cap', () => {
    const clock = new ManualClock(T0 + 41 * min);
    const lc = new LessonClock(clock, { overrunCapMs: 5 * min });
    expect(lc.running(lesson('live'))).toBe(true);
    clock.advance(5 * min);
    expect(lc.running(lesson('live'))).toBe(false);
    expect(lc.phase(lesson('scheduled'), 0, T0 - 30_000)).toBe('upcoming');
    expect(lc.phase(lesson('scheduled'), 60_000, T0 - 30_000)).toBe('due');
  });
});

describe('room names', () => {
  it('parses what the builders build', () => {
    expect(parseRoom(broadcastRoom('L1a_b-c'))).toEqual({ lessonId: 'L1a_b-c', classroomOf: null });
    expect(parseRoom(classroomRoom('L1', 'box-abc123'))).toEqual({ lessonId: 'L1', classroomOf: 'box-abc123' });
  });

  it.each(['', '~', 'L1~', '~box', 'L1~a~b', 'L1/../x', 'L 1', 'L1~box/x', 'x'.repeat(65), `L1~${'b'.repeat(81)}`])('refuses %j', (room) => {
    expect(parseRoom(room)).toBeUndefined();
  });
});
