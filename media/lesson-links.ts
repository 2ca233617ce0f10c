import type { Lesson, PointLinkStatus } from '../core/contract/lesson.js';
import { broadcastRoom, classroomRoom } from '../core/contract/lesson.js';
import type { Sfu } from './sfu.js';

/**
 * The hub's view of each teaching point of a lesson: the ladder rung its pull of the broadcast is on
 * (null when the point has no pull session now), the estimate and loss behind it, and whether its
 * classroom is coming back.
 */
export function pointLinks(sfu: Sfu, lesson: Lesson, now = Date.now()): PointLinkStatus[] {
  const subs = [...(sfu.findRoom(broadcastRoom(lesson.id))?.subscribers ?? [])];
  return lesson.teachingPoints.map((boxId) => {
    // A reconnect can leave the old session until it times out: the newest one speaks for the point.
    const link = subs.filter((s) => s.linkOf === boxId).map((s) => s.linkStatus()).filter((x) => x !== undefined).sort((a, b) => b.updatedAt - a.updatedAt)[0];
    const classroom = sfu.findRoom(classroomRoom(lesson.id, boxId))?.publisher;
    return {
      boxId,
      rung: link?.rung ?? null,
      estimateBps: link?.estimateBps ?? null,
      lossPct: link?.lossPct ?? null,
      classroomLive: classroom !== undefined && now - classroom.lastPacketAt < 3000,
      updatedAt: new Date(link?.updatedAt ?? now).toISOString(),
    };
  });
}
