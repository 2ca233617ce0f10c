import type { Logger } from '../core/log.js';
import type { LessonClock } from '../core/lesson-clock.js';
import type { PeerClient } from '../core/peer-client.js';
import { broadcastRoom, classroomRoom, type Lesson, type LessonLinkStatus } from '../core/contract/lesson.js';
import type { Sfu } from './sfu.js';
import type { LessonStore } from './lesson-store.js';
import type { ControlHub } from './control-hub.js';
import { RemoteLink } from './remote-link.js';
import { ControlUplink } from './control-uplink.js';

export type { LessonLinkStatus };

export interface LessonAgentTiming {
  /** Connect this long before a lesson starts, so 加入课堂 shows the picture at once. */
  leadMs: number;
  timetableIntervalMs: number;
  tickMs: number;
}

export interface LessonAgentOptions extends LessonAgentTiming {
  sfu: Sfu;
  lessons: LessonStore;
  control: ControlHub;
  /** Decides whether a lesson's links stay up (the hub teacher's start and end, the overrun cap). */
  lessonClock: LessonClock;
  /** Every call to the hub: timetable, control channel, WHEP pull, WHIP push. */
  hub: PeerClient;
  selfBoxId: string;
  log: Logger;
}

interface ActiveLesson {
  pull: RemoteLink;
  push: RemoteLink | undefined;
  control: ControlUplink;
}

/** A timetable is a few lessons of one teaching point: anything near this size is not one. */
const TIMETABLE_MAX_BYTES = 1024 * 1024;

/**
 * A teaching point's side of live lessons: keeps the hub's timetable (offline copy in SQLite), and
 * while a lesson is due or running keeps three links up by itself — the hub's broadcast pulled into
 * the local room, the classroom camera pushed to the hub, and the control channel.
 */
export class LessonAgent {
  private readonly active = new Map<string, ActiveLesson>();
  private tickTimer: NodeJS.Timeout | undefined;
  private nextTimetableAt = 0;
  private stopped = false;
  private busy = false;
  private running: Promise<void> | undefined;
  private unlisten: (() => void) | undefined;
  timetableError: string | null = null;
  timetableFetchedAt: number | null = null;

  constructor(private readonly o: LessonAgentOptions) {}

  start(): void {
    // The hub teacher's start or end arrives on the control channel: act on it at once, not at the next
    // round (which may be waiting on a timetable fetch over a thin link).
    this.unlisten = this.o.control.listenAll((e) => {
      if (e.type !== 'lesson') return;
      // After the event's own handling (the uplink that delivered it may be among the links ended).
      setImmediate(() => void this.reconcile().catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'lesson agent: acting on the lesson state failed')));
    });
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e: unknown) => this.o.log.warn({ err: (e as Error).message }, 'lesson agent round failed'))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          this.tickTimer = setTimeout(loop, this.o.tickMs);
          this.tickTimer.unref();
        });
    };
    loop();
  }

  /** One round: refresh the timetable when due, then start and stop lesson links. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (Date.now() >= this.nextTimetableAt) await this.refreshTimetable();
      await this.reconcile();
    } finally {
      this.busy = false;
    }
  }

  /** Starts and stops lesson links to match the lesson clock now (safe to run beside a round). */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Set(this.o.lessons.list().filter((l) => this.linksWanted(l)).map((l) => l.id));
    for (const id of wanted) if (!this.active.has(id)) this.begin(id);
    for (const [id, a] of this.active) {
      if (!wanted.has(id)) await this.end(id);
      else if (!a.push && this.o.sfu.findRoom(classroomRoom(id, this.o.selfBoxId))?.publisher) a.push = this.startPush(id);
    }
  }

  /** The lesson clock alone decides: a lesson the hub teacher started stays up past `endsAt` until ended. */
  private linksWanted(l: Lesson): boolean {
    if (!l.teachingPoints.includes(this.o.selfBoxId)) return false;
    const phase = this.o.lessonClock.phase(l, this.o.leadMs);
    return phase === 'due' || phase === 'running';
  }

  async refreshTimetable(): Promise<void> {
    this.nextTimetableAt = Date.now() + this.o.timetableIntervalMs;
    try {
      const timetable = await this.o.hub.json('/api/peer/timetable', { timeoutMs: 5000, maxBytes: TIMETABLE_MAX_BYTES });
      if (this.stopped) return;
      const n = this.o.lessons.replaceTimetable(timetable);
      this.timetableError = null;
      this.timetableFetchedAt = this.o.lessonClock.now();
      this.o.log.debug({ lessons: n }, 'timetable refreshed');
    } catch (e) {
      // Offline is normal at a teaching point: the copy in SQLite keeps working.
      this.timetableError = (e as Error).message;
      this.nextTimetableAt = Date.now() + Math.min(this.o.timetableIntervalMs, 5000);
    }
  }

  private link(direction: 'pull' | 'push', localRoom: string, path: string): RemoteLink {
    const link = new RemoteLink({
      sfu: this.o.sfu, log: this.o.log, direction, localRoom, peer: this.o.hub, path,
      // A link back after an outage should find the hub within seconds, not after a long backoff.
      maxBackoffMs: 3000, signalTimeoutMs: 6000,
    });
    link.start();
    return link;
  }

  private begin(id: string): void {
    this.o.log.info({ lessonId: id }, 'joining lesson links');
    const pull = this.link('pull', broadcastRoom(id), `/whep/${encodeURIComponent(broadcastRoom(id))}`);
    const control = new ControlUplink({ hub: this.o.hub, lessonId: id, control: this.o.control, log: this.o.log });
    control.start();
    this.active.set(id, { pull, push: undefined, control });
  }

  private startPush(id: string): RemoteLink {
    const room = classroomRoom(id, this.o.selfBoxId);
    return this.link('push', room, `/whip/${encodeURIComponent(room)}`);
  }

  private async end(id: string): Promise<void> {
    const a = this.active.get(id);
    if (!a) return;
    this.active.delete(id);
    a.control.stop();
    await Promise.all([a.pull.stop(), a.push?.stop()]);
    this.o.log.info({ lessonId: id }, 'left lesson links');
  }

  status(): LessonLinkStatus[] {
    const now = Date.now();
    return [...this.active].map(([lessonId, a]) => {
      const m = a.pull.meter?.stats(now, a.pull.state === 'connected');
      return {
        lessonId,
        pull: { state: a.pull.state, connects: a.pull.connects, lastError: a.pull.lastError },
        push: a.push ? { state: a.push.state, connects: a.push.connects, lastError: a.push.lastError } : null,
        control: a.control.status(),
        ...(m ? { rung: m.rung, received: { rxBps: m.rxBps, videoHeight: m.videoHeight, audioGaps: m.audioGaps.slice(-50), lossAlarms: a.pull.lossAlarm?.alarms ?? 0 } } : {}),
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearTimeout(this.tickTimer);
    // A round in flight finishes before the links (and then the database) are closed under it.
    await this.running;
    for (const id of [...this.active.keys()]) await this.end(id);
  }
}
