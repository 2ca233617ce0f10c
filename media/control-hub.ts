import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Db } from '../core/store/database.js';
import { parseOrThrow } from '../core/validation.js';
import { timed } from '../core/store/timed.js';
import type { ControlDraft, ControlEvent, ControlType } from '../core/contract/lesson.js';
import type { LessonStore } from './lesson-store.js';

const types = ['page', 'stroke', 'hand', 'mute', 'spotlight', 'lesson', 'preset'] as const satisfies readonly ControlType[];

export const controlDraftSchema = z.strictObject({
  sender: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a sender id'),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  type: z.enum(types),
  body: z.record(z.string(), z.unknown()).refine((b) => JSON.stringify(b).length <= 32 * 1024, 'a body of at most 32 KiB'),
});

interface Row { id: number; lesson_id: string; sender: string; seq: number; type: ControlType; body: string; at: number }

function toEvent(r: Row): ControlEvent {
  return { id: r.id, lessonId: r.lesson_id, sender: r.sender, seq: r.seq, type: r.type, body: JSON.parse(r.body) as Record<string, unknown>, at: r.at };
}

export type ControlListener = (e: ControlEvent) => void;

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

  constructor(private readonly o: { db: Db; clock: Clock; log: Logger; lessons: LessonStore }) {
    const { db } = o;
    this.insert = db.prepare('INSERT OR IGNORE INTO lesson_events (lesson_id, sender, seq, type, body, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.byKey = db.prepare('SELECT * FROM lesson_events WHERE lesson_id = ? AND sender = ? AND seq = ?');
    this.after = db.prepare('SELECT * FROM lesson_events WHERE lesson_id = ? AND id > ? ORDER BY id LIMIT ?');
    this.outboxAdd = db.prepare('INSERT OR IGNORE INTO lesson_outbox (lesson_id, sender, seq, type, body) VALUES (?, ?, ?, ?, ?)');
    this.outboxList = db.prepare('SELECT lesson_id AS lessonId, sender, seq, type, body FROM lesson_outbox WHERE lesson_id = ? ORDER BY rowid');
    this.outboxDel = db.prepare('DELETE FROM lesson_outbox WHERE lesson_id = ? AND sender = ? AND seq = ?');
  }

  /**
   * Stores one message. `at` is kept when the message comes from upstream (the hub's timeline);
   * `queueUp` also puts it in the outbox for the hub (a teaching point's own messages).
   */
  accept(lessonId: string, input: unknown, opts: { at?: number; queueUp?: boolean } = {}): { event: ControlEvent; duplicate: boolean } {
    const d = parseOrThrow(controlDraftSchema, input, 'The control message') as ControlDraft;
    const lesson = this.o.lessons.get(lessonId);
    const start = lesson ? Date.parse(lesson.startsAt) : this.o.clock.now();
    const at = opts.at ?? this.o.clock.now() - start;
    const body = JSON.stringify(d.body);
    let fresh = false;
    const row = this.o.db.transaction(() => {
      fresh = timed(this.o.log, 'control.insert', () => this.insert.run(lessonId, d.sender, d.seq, d.type, body, at, this.o.clock.now())).changes === 1;
      if (fresh && opts.queueUp) this.outboxAdd.run(lessonId, d.sender, d.seq, d.type, body);
      return this.byKey.get(lessonId, d.sender, d.seq) as Row;
    })();
    const event = toEvent(row);
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
