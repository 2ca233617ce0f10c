// Hub → teaching-point camera presets over the lesson control channel. A rural teaching point sits
// behind NAT or a carrier-grade NAT, so the hub usually cannot call it; the WebSocket the teaching
// point keeps open to its hub during a lesson carries the request instead.
import type { Logger } from '../core/log.js';
import type { CameraRole, PresetName, PtzResult } from '../core/contract/hardware.js';
import type { ControlEvent, Lesson } from '../core/contract/lesson.js';
import { presetRequestSchema } from '../hardware/request-schemas.js';
import type { HardwareServices } from '../hardware/services.js';
import type { MediaServices } from './media-wiring.js';

export interface RelayedPreset {
  role: CameraRole;
  preset: PresetName;
  relayed: 'lesson-control';
  lessonId: string;
}

const SENDER = 'hub-ptz';

function running(l: Lesson, now: number): boolean {
  return l.status === 'live' || (l.status === 'scheduled' && Date.parse(l.startsAt) <= now && now < Date.parse(l.endsAt));
}

/** Hub: puts the preset on the timeline of a running lesson of that teaching point; null when none runs. */
export function relayPresetOverLesson(media: MediaServices, now: number, boxId: string, role: CameraRole, preset: PresetName): RelayedPreset | null {
  const lesson = media.lessons.list().find((l) => l.teachingPoints.includes(boxId) && running(l, now));
  if (!lesson) return null;
  // seq only has to be unique per sender for de-duplication; the timeline's own id gives the order.
  media.control.accept(lesson.id, { sender: SENDER, seq: now, type: 'preset', body: { target: boxId, role, preset } });
  return { role, preset, relayed: 'lesson-control', lessonId: lesson.id };
}

/** Teaching point: turns its camera when the hub's timeline carries a preset for this box. */
export function followHubPresets(media: MediaServices, hardware: Pick<HardwareServices, 'ptz'>, selfBoxId: string, log: Logger): () => void {
  return media.control.listenAll((e: ControlEvent) => {
    if (e.type !== 'preset' || e.sender !== SENDER || e.body.target !== selfBoxId) return;
    const req = presetRequestSchema.safeParse({ role: e.body.role, preset: e.body.preset });
    if (!req.success) return log.warn({ eventId: e.id }, 'ignored a malformed camera preset from the hub');
    hardware.ptz.goToPreset(req.data.role, req.data.preset).then(
      (r: PtzResult) => log.info({ role: r.role, preset: r.preset, tookMs: r.tookMs }, 'camera turned to the preset the hub asked for'),
      (err: unknown) => log.warn({ err: (err as Error).message }, 'camera did not turn to the preset the hub asked for'),
    );
  });
}
