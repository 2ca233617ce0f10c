// Lessons, the timetable and the lesson control channel: shared with the kiosk and hub console.

export type LessonStatus = 'scheduled' | 'live' | 'ended';

export interface Lesson {
  id: string;
  subject: string;
  grade: string;
  title: string;
  hubTeacher: string;
  /** Box ids of the teaching points that follow this lesson. */
  teachingPoints: string[];
  /** ISO 8601 times. */
  startsAt: string;
  endsAt: string;
  /** Library item ids the lesson uses, fetched ahead by the teaching points. */
  courseware: string[];
  status: LessonStatus;
  updatedAt: string;
}

export interface LessonInput {
  subject: string;
  grade: string;
  title: string;
  hubTeacher: string;
  teachingPoints: string[];
  startsAt: string;
  endsAt: string;
  courseware?: string[];
}

/**
 * Media rooms of a lesson: the hub's broadcast `<lesson>`, and each teaching point's classroom sent
 * back `<lesson>~<box>`. The grammar is built and parsed only here.
 */
export function broadcastRoom(lessonId: string): string {
  return lessonId;
}
export function classroomRoom(lessonId: string, teachingPointBoxId: string): string {
  return `${lessonId}~${teachingPointBoxId}`;
}

const ID = /^[A-Za-z0-9_-]{1,80}$/;

/** A room name taken apart; undefined when it follows neither form (or either id is malformed). */
export function parseRoom(room: string): { lessonId: string; classroomOf: string | null } | undefined {
  const parts = room.split('~');
  if (parts.length > 2 || !ID.test(parts[0]!) || parts[0]!.length > 64) return undefined;
  if (parts.length === 1) return { lessonId: parts[0]!, classroomOf: null };
  return ID.test(parts[1]!) ? { lessonId: parts[0]!, classroomOf: parts[1]! } : undefined;
}

/**
 * Where a lesson stands on the box's (hub-following) clock, the one answer every part of the box
 * uses: upcoming, due (the teaching point connects ahead so 加入课堂 shows the picture at once),
 * running, over.
 */
export type LessonPhase = 'upcoming' | 'due' | 'running' | 'over';

/** A lesson the hub teacher started but never ended (the hub vanished) is over this long after `endsAt`. */
export const LESSON_OVERRUN_CAP_MS = 2 * 3600_000;

export interface LessonPhaseOptions {
  /** How long before `startsAt` a lesson is due (default 0: straight from upcoming to running). */
  leadMs?: number;
  overrunCapMs?: number;
}

/**
 * The timetable's window decides a lesson nobody started or ended; the hub teacher's actions override
 * it: a lesson the hub teacher started runs until the hub teacher ends it — lessons overrun by a few
 * minutes all the time — with a cap for a hub that vanished; one the hub teacher ended is over.
 */
export function lessonPhase(l: Pick<Lesson, 'status' | 'startsAt' | 'endsAt'>, now: number, opts: LessonPhaseOptions = {}): LessonPhase {
  if (l.status === 'ended') return 'over';
  const start = Date.parse(l.startsAt);
  const end = Date.parse(l.endsAt);
  if (l.status === 'live') return now < end + (opts.overrunCapMs ?? LESSON_OVERRUN_CAP_MS) ? 'running' : 'over';
  if (now >= end) return 'over';
  if (now >= start) return 'running';
  return now >= start - (opts.leadMs ?? 0) ? 'due' : 'upcoming';
}

export type ControlType =
  | 'page' // courseware page change: { item, page }
  | 'stroke' // pen stroke: { page, points: [x, y][], color, width }
  | 'hand' // hand raised or lowered by a teaching point: { raised }
  | 'mute' // hub mutes or unmutes a teaching point: { target, muted }
  | 'spotlight' // hub puts a teaching point on the big screen: { target | null }
  | 'lesson' // lesson started or ended: { state: 'started' | 'ended' }
  | 'preset'; // only the hub: turn a teaching point's camera to a preset: { target, role, preset }

/** One control message as its sender wrote it; `seq` increases by one per sender. */
export interface ControlDraft {
  sender: string;
  seq: number;
  type: ControlType;
  body: Record<string, unknown>;
}

/** A control message as stored and delivered: `id` orders the lesson's timeline on the box that serves it. */
export interface ControlEvent extends ControlDraft {
  id: number;
  lessonId: string;
  /** Milliseconds since the lesson's start, on the hub-following clock. */
  at: number;
}

/** Frames on the control WebSocket. */
export type ControlFrame =
  | { t: 'hello'; sender: string; since: number } // client: who I am, the last event id I hold
  | { t: 'send'; msg: ControlDraft } // client: a message of mine (resent until acked)
  | { t: 'ack'; sender: string; seq: number } // server: your message is stored
  | { t: 'event'; event: ControlEvent } // server: an event of the timeline, in id order
  | { t: 'error'; code: string; message: string };

/** Bandwidth-ladder rungs of a teaching point's link to its hub, best first (DESIGN §4). */
export type Rung = '720p' | '360p' | '180p' | 'audio-only' | 'offline';

export interface LinkLegStatus {
  state: string;
  connects: number;
  lastError: string | null;
}

/** What a teaching-point box reports of one lesson's links (GET /api/lessons → links). */
export interface LessonLinkStatus {
  lessonId: string;
  pull: LinkLegStatus;
  push: LinkLegStatus | null;
  control: { connected: boolean; pending: number };
  /** The ladder rung the link is on, once measured. */
  rung?: Rung;
  /** Measured on the pull at this box: receive rate, last picture height, recent audio gaps (≥ 100 ms, ms since epoch). */
  received?: {
    rxBps: number; videoHeight: number | null; audioGaps: Array<{ endedAt: number; wallMs: number; mediaMs: number }>;
    /** Early loss reports this box sent its hub (the link got thinner than the rung). */
    lossAlarms: number;
  };
}

/** What the hub knows of each teaching point's link in a lesson: GET /api/lessons/<id>/links → { points }. */
export interface PointLinkStatus {
  boxId: string;
  /** The rung of the hub's broadcast this point receives now (null until measured or when not connected). */
  rung: Rung | null;
  /** The hub's estimate of the point's downlink, from its RTCP feedback. */
  estimateBps: number | null;
  lossPct: number | null;
  /** Whether the point's classroom is coming back to the hub. */
  classroomLive: boolean;
  updatedAt: string;
}
