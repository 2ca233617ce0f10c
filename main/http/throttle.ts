import { Transform, type TransformCallback } from 'node:stream';

/** Bytes per second: -1 no limit, 0 nothing passes (paused). Read again on every grant, so a new plan applies at once. */
export type RateSource = () => number;

interface Waiter {
  bytes: number;
  /** true: send; false: the rate is 0 (paused), nothing granted, ask again later. */
  grant: (ok: boolean) => void;
}

/**
 * One token bucket shared by every stream drawn from it: together they stay at `rate()` bytes/s (how the
 * BitTorrent upload is held to the plan, one bucket for the whole client). Waiters are served in order, so
 * concurrent responses share the rate about evenly. The bucket holds at most `burstS` seconds of tokens:
 * an idle minute does not become a burst that swamps a live lesson.
 */
export class SharedRateLimit {
  private tokens = 0;
  private last = performance.now();
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly rate: RateSource, private readonly burstS = 0.2) {}

  /** The slice one grant covers: about 1/20 s of the rate, so no stream jumps far ahead of the others. */
  sliceBytes(): number {
    const r = this.rate();
    return r <= 0 ? 16 * 1024 : Math.min(64 * 1024, Math.max(1024, Math.floor(r / 20)));
  }

  /** Resolves true when `bytes` may be sent, false while paused; a cancelled waiter (the response went away) takes nothing. */
  take(bytes: number): { done: Promise<boolean>; cancel: () => void } {
    let w!: Waiter;
    const done = new Promise<boolean>((resolve) => { w = { bytes, grant: resolve }; });
    this.queue.push(w);
    this.pump();
    return { done, cancel: () => { const i = this.queue.indexOf(w); if (i >= 0) this.queue.splice(i, 1); } };
  }

  private pump(): void {
    if (this.timer) return;
    const rate = this.rate();
    const now = performance.now();
    if (rate < 0) {
      this.last = now;
      for (const w of this.queue.splice(0)) w.grant(true);
      return;
    }
    if (rate === 0) {
      // Paused: nothing is granted; each stream decides how long it waits (ThrottleStream maxPausedMs).
      this.last = now;
      this.tokens = 0;
      for (const w of this.queue.splice(0)) w.grant(false);
      return;
    }
    const cap = Math.max(rate * this.burstS, this.sliceBytes());
    this.tokens = Math.min(this.tokens + ((now - this.last) / 1000) * rate, cap);
    this.last = now;
    // A slice cut at a higher rate may exceed what the bucket now holds: it goes once the bucket is full
    // and leaves a debt (negative tokens) that the next ones wait out, so the average still holds.
    while (this.queue.length > 0 && this.tokens >= Math.min(this.queue[0]!.bytes, cap)) {
      const w = this.queue.shift()!;
      this.tokens -= w.bytes;
      w.grant(true);
    }
    if (this.queue.length === 0) return;
    // Wait until the head's tokens are in, but look at the plan at least every 250 ms (it may have changed).
    const need = Math.min(this.queue[0]!.bytes, cap) - this.tokens;
    const waitMs = Math.min(250, Math.max(1, Math.ceil((need / rate) * 1000)));
    this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, waitMs);
    this.timer.unref();
  }
}

export interface ThrottleOptions {
  /** Called with the bytes of each slice as it leaves (what was really sent, not what was promised). */
  onBytes?: (n: number) => void;
  /** A response held at rate 0 this long is ended with an error: the client comes back later and is refused cleanly. */
  maxPausedMs?: number;
}

/** A pass-through stream held to its shared bucket. */
export class ThrottleStream extends Transform {
  private pending: { cancel: () => void } | undefined;
  private pausedSince: number | null = null;

  constructor(private readonly limit: SharedRateLimit, private readonly opts: ThrottleOptions = {}) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    void this.sendSlices(chunk).then(() => cb(), (e: unknown) => cb(e as Error));
  }

  private async sendSlices(chunk: Buffer): Promise<void> {
    let pos = 0;
    while (pos < chunk.length && !this.destroyed) {
      const slice = chunk.subarray(pos, this.limit.rate() < 0 ? chunk.length : pos + this.limit.sliceBytes());
      const t = this.limit.take(slice.length);
      this.pending = t;
      const ok = await t.done;
      this.pending = undefined;
      if (this.destroyed) return;
      if (!ok) {
        // Paused mid-response (a lesson began): hold a moment, then give up rather than keep a socket for an hour.
        this.pausedSince ??= Date.now();
        if (Date.now() - this.pausedSince > (this.opts.maxPausedMs ?? 5000)) throw Object.assign(new Error('Sync uploads are paused.'), { code: 'E_SYNC_PAUSED' });
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      this.pausedSince = null;
      this.push(slice);
      this.opts.onBytes?.(slice.length);
      pos += slice.length;
    }
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.pending?.cancel();
    this.pending = undefined;
    cb(err);
  }
}
