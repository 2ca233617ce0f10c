import type { ControlEvent, ControlFrame } from '../../core/contract/lesson.js';
import type { ControlHub } from '../../media/control-hub.js';
import type { ControlLimits } from './control-quota.js';

/** The calls made on a server-side WebSocket (ws). */
export interface FeedSocket {
  readyState: number;
  /** Bytes queued in the process, not yet taken by the kernel: what a client that does not read grows. */
  bufferedAmount: number;
  send(data: string): void;
}

/**
 * One connection's view of a lesson's timeline: from a point on (hello), then each new event, in id
 * order. Read from the database a page at a time and sent only while the socket's send buffer is below
 * the bound; above it, it waits for the client to read and goes on from where it stopped. So a client
 * that asks for replays and never reads holds one bound of memory, not the timeline once per hello.
 */
export class ControlFeed {
  private cursor = 0;
  private caughtUp = false;
  private unlisten: (() => void) | undefined;
  private waiting: NodeJS.Timeout | undefined;
  private stalledSince = 0;
  private lastBuffered = 0;
  private closed = false;

  constructor(private readonly o: {
    socket: FeedSocket; control: ControlHub; lessonId: string; limits: ControlLimits;
    /** A client that has read nothing for limits.stalledMs with the buffer full. */
    onStalled: () => void;
  }) {}

  /** (Re)starts from just after event `since`: one cursor per connection, whatever the number of hellos. */
  start(since: number): void {
    this.cursor = since;
    this.caughtUp = false;
    this.unlisten ??= this.o.control.listen(this.o.lessonId, (e) => this.onEvent(e));
    this.pump();
  }

  private send(e: ControlEvent): void {
    this.cursor = e.id;
    if (this.o.socket.readyState === 1) this.o.socket.send(JSON.stringify({ t: 'event', event: e } satisfies ControlFrame));
  }

  private full(): boolean {
    return this.o.socket.bufferedAmount > this.o.limits.bufferHighBytes;
  }

  private onEvent(e: ControlEvent): void {
    if (this.closed || e.id <= this.cursor) return;
    // Caught up and the client keeps reading: straight out. Otherwise the database has it for later.
    if (this.caughtUp && !this.waiting && !this.full()) return this.send(e);
    this.caughtUp = false;
    this.pump();
  }

  private pump(): void {
    if (this.closed || this.waiting || this.o.socket.readyState !== 1) return;
    for (;;) {
      const page = this.o.control.since(this.o.lessonId, this.cursor, this.o.limits.pageEvents);
      for (const e of page) {
        if (this.full()) return this.waitDrain();
        this.send(e);
      }
      if (page.length < this.o.limits.pageEvents) {
        this.caughtUp = true;
        return;
      }
    }
  }

  /** Polls the buffer (ws exposes no drain event): goes on below half the bound; gives up on a stalled client. */
  private waitDrain(): void {
    this.stalledSince = performance.now();
    this.lastBuffered = this.o.socket.bufferedAmount;
    const check = () => {
      this.waiting = undefined;
      if (this.closed) return;
      const buffered = this.o.socket.bufferedAmount;
      if (buffered <= this.o.limits.bufferHighBytes / 2) return this.pump();
      if (buffered < this.lastBuffered) {
        this.stalledSince = performance.now();
        this.lastBuffered = buffered;
      } else if (performance.now() - this.stalledSince > this.o.limits.stalledMs) {
        return this.o.onStalled();
      }
      this.waiting = setTimeout(check, 25);
    };
    this.waiting = setTimeout(check, 25);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.waiting);
    this.waiting = undefined;
    this.unlisten?.();
  }
}
