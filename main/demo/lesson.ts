import type { Logger } from '../../core/log.js';
import { broadcastRoom, type Lesson } from '../../core/contract/lesson.js';
import { MediaTokens } from '../../media/media-tokens.js';
import type { Box } from '../box.js';
import { startDemoCamera, type DemoCamera } from './camera.js';

export interface DemoLesson {
  lesson: Lesson;
  /** One `view` media token on both demo boxes: WHEP and reading the control channel (it is printed). */
  token: string;
  camera: boolean;
  close(): Promise<void>;
}

/**
 * The demo's running lesson: defined on the hub for the demo teaching point, fed by a synthetic
 * camera, and already relayed by the teaching point when this returns (unless ffmpeg is missing).
 */
export async function startDemoLesson(hub: Box, tp: Box, log: Logger, waitMs = 20_000): Promise<DemoLesson> {
  const hubMedia = hub.context.media;
  const tpMedia = tp.context.media;
  if (!hubMedia || !tpMedia?.agent) throw new Error('the demo hub and teaching point must run live lessons');
  const now = hub.context.clock.now();
  const lesson = hubMedia.lessons.create({
    subject: '数学', grade: '三年级', title: '分数的初步认识（演示课）', hubTeacher: '王老师（演示）',
    teachingPoints: [tp.identity.boxId],
    startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 4 * 3600_000).toISOString(), courseware: [],
  });
  const token = MediaTokens.make();
  // Printed on the terminal: it only watches. The demo's screens publish with their own kiosk tokens.
  hubMedia.tokens.adopt(token, 'demo', 'view', 7 * 86_400);
  tpMedia.tokens.adopt(token, 'demo', 'view', 7 * 86_400);
  let camera: DemoCamera | undefined;
  try {
    camera = await startDemoCamera(hubMedia.sfu, broadcastRoom(lesson.id), log.child({ demo: 'camera' }));
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'demo camera not started');
  }
  await tpMedia.agent.refreshTimetable();
  await tpMedia.agent.tick();
  const deadline = Date.now() + waitMs;
  const flowing = () => (tpMedia.sfu.findRoom(broadcastRoom(lesson.id))?.publisher?.lastPacketAt ?? 0) > Date.now() - 1000;
  while (Date.now() < deadline && !(camera ? flowing() : tpMedia.agent.status()[0]?.pull.state === 'connected')) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const ok = camera !== undefined && flowing();
  if (camera && !ok) log.warn('demo lesson: the teaching point has no picture yet');
  return { lesson, token, camera: ok, close: async () => camera?.close() };
}
