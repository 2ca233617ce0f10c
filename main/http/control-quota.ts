// Quotas of the lesson control channel: how much one credential may send, and how far one connection's
// replay may run ahead of what its client reads.

export interface ControlLimits {
  /** Messages (frames of any kind): burst, then per second. A teacher's clicks and pen strokes are far below. */
  messageBurst: number;
  messagesPerSecond: number;
  /** Frame bytes: burst, then per second (a pen stroke is 1–5 kB). */
  byteBurst: number;
  bytesPerSecond: number;
  /** Refused frames in a row before the connection is closed. */
  strikes: number;
  /** Connections open at once per credential. */
  connections: number;
  /** `hello` (a replay from a point in the timeline) per connection. */
  hellos: number;
  /** Replay stops while this much is waiting in the socket's send buffer… */
  bufferHighBytes: number;
  /** …reads this many events from the database at a time… */
  pageEvents: number;
  /** …and a client that takes nothing at all from a full buffer for this long is closed. */
  stalledMs: number;
}

export const defaultControlLimits: ControlLimits = {
  messageBurst: 40, messagesPerSecond: 8, byteBurst: 192 * 1024, bytesPerSecond: 24 * 1024,
  strikes: 20, connections: 16, hellos: 5, bufferHighBytes: 256 * 1024, pageEvents: 200, stalledMs: 120_000,
};

/** WebSocket close code for a policy breach, with the E_ code as the reason. */
export const POLICY_CLOSE = 1008;

class Bucket {
  private level: number;
  private at: number;
  constructor(private readonly capacity: number, private readonly perSecond: number, private readonly now: () => number) {
    this.level = capacity;
    this.at = now();
  }
  take(n: number): boolean {
    const t = this.now();
    this.level = Math.min(this.capacity, this.level + ((t - this.at) / 1000) * this.perSecond);
    this.at = t;
    if (this.level < n) return false;
    this.level -= n;
    return true;
  }
  refund(n: number): void {
    this.level = Math.min(this.capacity, this.level + n);
  }
}

interface Account {
  messages: Bucket;
  bytes: Bucket;
  open: number;
  lastUsed: number;
}

/**
 * One account per credential (a screen's token, a box), shared by all its connections: reconnecting
 * does not refill it. Monotonic time: a wall-clock jump must neither refill nor drain a bucket.
 */
export class ControlQuotas {
  private readonly accounts = new Map<string, Account>();

  constructor(readonly limits: ControlLimits = defaultControlLimits, private readonly now: () => number = () => performance.now()) {}

  /** A new connection of `key`, or undefined when it has too many open already. */
  open(key: string): { take(bytes: number): boolean; close(): void } | undefined {
    this.prune();
    let a = this.accounts.get(key);
    if (!a) {
      const l = this.limits;
      a = { messages: new Bucket(l.messageBurst, l.messagesPerSecond, this.now), bytes: new Bucket(l.byteBurst, l.bytesPerSecond, this.now), open: 0, lastUsed: this.now() };
      this.accounts.set(key, a);
    }
    if (a.open >= this.limits.connections) return undefined;
    a.open++;
    const acct = a;
    let closed = false;
    return {
      take: (bytes) => {
        acct.lastUsed = this.now();
        // Both buckets are charged only when both allow: a refused frame costs nothing.
        if (!acct.messages.take(1)) return false;
        if (acct.bytes.take(bytes)) return true;
        acct.messages.refund(1);
        return false;
      },
      close: () => {
        if (!closed) acct.open--;
        closed = true;
        acct.lastUsed = this.now();
      },
    };
  }

  /** Accounts idle long enough to be full again are forgotten (the map stays as small as the screens in use). */
  private prune(): void {
    const idle = 1000 * Math.max(this.limits.byteBurst / this.limits.bytesPerSecond, this.limits.messageBurst / this.limits.messagesPerSecond);
    const now = this.now();
    for (const [k, a] of this.accounts) if (a.open === 0 && now - a.lastUsed > idle) this.accounts.delete(k);
  }
}
