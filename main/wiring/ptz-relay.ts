// Hub → teaching-point camera presets over the lesson control channel. A rural teaching point sits
// behind NAT or a carrier-grade NAT, so the hub usually cannot call it; the WebSocket the teaching
// point keeps open to its hub during a lesson carries the request instead.
import type { Logger } from '../../core/log.js';
import type { LessonClock } from '../../core/lesson-clock.js';
import type { CameraRole, PresetName, PtzResult } from '../../core/contract/hardware.js';
import type { ControlEvent } from '../../core/contract/lesson.js';
import { presetRequestSchema } from '../../hardware/request-schemas.js';
import type { PtzController } from '../../hardware/ptz.js';
import type { LessonStore } from '../../media/lesson-store.js';
import type { ControlHub } from '../../media/control-hub.js';

export interface RelayedPreset {
  role: CameraRole;
  preset: PresetName;
  relayed: 'lesson-control';
  lessonId: string;
}

/** What the hub's relay needs: its lessons, their control timelines, and the box's lesson clock. */
export interface PresetRelayLink {
  lessons: Pick<LessonStore, 'list'>;
  control: Pick<ControlHub, 'accept'>;
  lessonClock: Pick<LessonClock, 'now' | 'running'>;
}

const SENDER = 'hub-ptz';

/** Hub: puts the preset on the timeline of a running lesson of that teaching point; null when none runs. */
export function relayPresetOverLesson(link: PresetRelayLink, boxId: string, role: CameraRole, preset: PresetName): RelayedPreset | null {
  const now = link.lessonClock.now();
  const lesson = link.lessons.list().find((l) => l.teachingPoints.includes(boxId) && link.lessonClock.running(l, now));
  if (!lesson) return null;
  // seq only has to be unique per sender for de-duplication; the timeline's own id gives the order.
  link.control.accept(lesson.id, { sender: SENDER, seq: now, type: 'preset', body: { target: boxId, role, preset } });
  return { role, preset, relayed: 'lesson-control', lessonId: lesson.id };
}

/** Teaching point: turns its camera when the hub's timeline carries a preset for this box. */
export function followHubPresets(control: Pick<ControlHub, 'listenAll'>, ptz: Pick<PtzController, 'goToPreset'>, selfBoxId: string, log: Logger): () => void {
  return control.listenAll((e: ControlEvent) => {
    if (e.type !== 'preset' || e.sender !== SENDER || e.body.target !== selfBoxId) return;
    const req = presetRequestSchema.safeParse({ role: e.body.role, preset: e.body.preset });
    if (!req.success) return log.warn({ eventId: e.id }, 'ignored a malformed camera preset from the hub');
    ptz.goToPreset(req.data.role, req.data.preset).then(
      (r: PtzResult) => log.info({ role: r.role, preset: r.preset, tookMs: r.tookMs }, 'camera turned to the preset the hub asked for'),
      (err: unknown) => log.warn({ err: (err as Error).message }, 'camera did not turn to the preset the hub asked for'),
    );
  });
}
