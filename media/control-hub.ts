import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Db } from '../core/store/database.js';
import { parseOrThrow } from '../core/validation.js';
import { BoxError } from '../core/errors.js';
import { timed } from '../core/store/timed.js';
import type { ControlDraft, ControlEvent, ControlType } from '../core/contract/lesson.js';
import type { LessonStore } from './lesson-store.js';

export const CONTROL_TYPES = ['page', 'stroke', 'hand', 'mute', 'spotlight', 'lesson', 'preset'] as const satisfies readonly ControlType[];

export const controlDraftSchema = z.strictObject({
  sender: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a sender id'),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  type: z.enum(CONTROL_TYPES),
  body: z.record(z.string(), z.unknown()).refine((b) => JSON.stringify(b).length <= 32 * 1024, 'a body of at most 32 KiB'),
});

interface Row { id: number; lesson_id: string; sender: string; seq: number; type: ControlType; body: string; at: number }

function toEvent(r: Row): ControlEvent {
  return { id: r.id, lessonId: r.lesson_id, sender: r.sender, seq: r.seq, type: r.type, body: JSON.parse(r.body) as Record<string, unknown>, at: r.at };
}

export type ControlListener = (e: ControlEvent) => void;

/** What one lesson's timeline may hold on this box (a stuck or hostile sender cannot fill the disk). */
export interface TimelineCap {
  events: number;
  bytes: number;
}

/** A 45-minute lesson with a busy pen stores a few thousand events and a few MB: far below this. */
export const defaultTimelineCap: TimelineCap = { events: 20_000, bytes: 24 * 1024 * 1024 };

/**
 * The lesson control timeline on one box: every message stored once (de-duplicated by sender and
 * sequence number, so resends after a reconnect are harmless), timestamped on the lesson's
 * timeline, and handed to the connections that follow the lesson, in storage order.
 */
export class ControlHub {
  private readonly insert;
  private readonly byKey;
  private readonly after;
  private readonly outboxAdd;
  private readonly outboxList;
  private readonly outboxDel;
  private readonly listeners = new Map<string, Set<ControlListener>>();
  private readonly anyListeners = new Set<ControlListener>();
  private readonly sizes = new Map<string, { events: number; bytes: number }>();
  private readonly sizeOf;
  private readonly cap: TimelineCap;

  constructor(private readonly o: { db: Db; clock: Clock; log: Logger; lessons: LessonStore; cap?: Partial<TimelineCap> }) {
    const { db } = o;
    this.cap = { ...defaultTimelineCap, ...o.cap };
    this.sizeOf = db.prepare('SELECT count(*) AS events, COALESCE(sum(length(CAST(body AS BLOB))), 0) AS bytes FROM lesson_events WHERE lesson_id = ?');
    this.insert = db.prepare('INSERT OR IGNORE INTO lesson_events (lesson_id, sender, seq, type, body, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.byKey = db.prepare('SELECT * FROM lesson_events WHERE lesson_id = ? AND sender = ? AND seq = ?');
    this.after = db.prepare('SELECT * FROM lesson_events WHERE lesson_id = ? AND id > ? ORDER BY id LIMIT ?');
    this.outboxAdd = db.prepare('INSERT OR IGNORE INTO lesson_outbox (lesson_id, sender, seq, type, body) VALUES (?, ?, ?, ?, ?)');
    this.outboxList = db.prepare('SELECT lesson_id AS lessonId, sender, seq, type, body FROM lesson_outbox WHERE lesson_id = ? ORDER BY rowid');
    this.outboxDel = db.prepare('DELETE FROM lesson_outbox WHERE lesson_id = ? AND sender = ? AND seq = ?');
  }

  /** Events and body bytes stored for a lesson (counted once from the database, then kept up to date). */
  size(lessonId: string): { events: number; bytes: number } {
    let s = this.sizes.get(lessonId);
    if (!s) this.sizes.set(lessonId, (s = { ...(this.sizeOf.get(lessonId) as { events: number; bytes: number }) }));
    return s;
  }

  /**
   * Stores one message. `at` is kept when the message comes from upstream (the hub's timeline);
   * `queueUp` also puts it in the outbox for the hub (a teaching point's own messages); `sender`, when
   * given, is the authenticated sender and replaces whatever the message names. A lesson whose timeline
   * is at its cap takes only lesson start/end (and what its hub relays, which the hub capped already).
   */
  accept(lessonId: string, input: unknown, opts: { at?: number; queueUp?: boolean; sender?: string } = {}): { event: ControlEvent; duplicate: boolean } {
    const parsed = parseOrThrow(controlDraftSchema, input, 'The control message') as ControlDraft;
    const d = opts.sender === undefined ? parsed : { ...parsed, sender: opts.sender };
    const lesson = this.o.lessons.get(lessonId);
    const start = lesson ? Date.parse(lesson.startsAt) : this.o.clock.now();
    const at = opts.at ?? this.o.clock.now() - start;
    const body = JSON.stringify(d.body);
    const bytes = Buffer.byteLength(body);
    // A resend of a stored message is acked as before, full timeline or not.
    const stored = this.byKey.get(lessonId, d.sender, d.seq) as Row | undefined;
    if (stored) return { event: toEvent(stored), duplicate: true };
    const size = this.size(lessonId);
    const exempt = opts.at !== undefined || (d.type === 'lesson' && bytes <= 256);
    if (!exempt && (size.events >= this.cap.events || size.bytes + bytes > this.cap.bytes)) {
      throw new BoxError('E_TIMELINE_FULL', 'This lesson\'s control timeline is full: only the lesson\'s start and end are still taken.', { events: size.events, bytes: size.bytes });
    }
    let fresh = false;
    const row = this.o.db.transaction(() => {
      fresh = timed(this.o.log, 'control.insert', () => this.insert.run(lessonId, d.sender, d.seq, d.type, body, at, this.o.clock.now())).changes === 1;
      if (fresh && opts.queueUp) this.outboxAdd.run(lessonId, d.sender, d.seq, d.type, body);
      return this.byKey.get(lessonId, d.sender, d.seq) as Row;
    })();
    const event = toEvent(row);
    if (fresh) {
      size.events++;
      size.bytes += bytes;
    }
    if (fresh && d.type === 'lesson' && (d.body.state === 'started' || d.body.state === 'ended')) {
      this.o.lessons.mark(lessonId, d.body.state === 'started' ? 'live' : 'ended');
    }
    if (fresh) for (const l of [...(this.listeners.get(lessonId) ?? []), ...this.anyListeners]) l(event);
    return { event, duplicate: !fresh };
  }

  since(lessonId: string, afterId: number, limit = 1000): ControlEvent[] {
    return (this.after.all(lessonId, afterId, limit) as Row[]).map(toEvent);
  }

  outbox(lessonId: string): ControlDraft[] {
    return (this.outboxList.all(lessonId) as Array<{ sender: string; seq: number; type: ControlType; body: string }>).map((r) => ({
      sender: r.sender, seq: r.seq, type: r.type, body: JSON.parse(r.body) as Record<string, unknown>,
    }));
  }

  acked(lessonId: string, sender: string, seq: number): void {
    this.outboxDel.run(lessonId, sender, seq);
  }

  /** Follows new events of a lesson; returns the unsubscribe function. */
  listen(lessonId: string, fn: ControlListener): () => void {
    let set = this.listeners.get(lessonId);
    if (!set) this.listeners.set(lessonId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(lessonId);
    };
  }

  /** Every fresh event of every lesson (box-side reactions such as camera presets). */
  listenAll(fn: ControlListener): () => void {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  close(): void {
    this.listeners.clear();
  }
}
