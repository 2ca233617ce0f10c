// Video to a teaching point goes out paced, audio never waits. A keyframe is tens of kilobytes sent by
// the publisher in one burst; forwarded as it comes, it fills the queue in front of a thin WAN link and
// the audio behind it arrives hundreds of ms late (a 720p keyframe on a 2 Mbit/s link: ~450 ms of
// silence, then a burst). libwebrtc paces at 2.5× the target rate for the same reason.

export const PACING_FACTOR = 2.5;
/** Never pace slower than this, so a rung whose rate is not measured yet is not starved. */
const MIN_RATE_BPS = 1_000_000;
/** What may leave at once (ms of the pacing rate): enough for a frame of small packets, not a keyframe. */
const BURST_MS = 20;
const TICK_MS = 5;
const MAX_CATCHUP_MS = 200;
/** More queued than this (ms at the pacing rate) means the link cannot keep up: the old video is dropped. */
const MAX_QUEUE_MS = 2000;

export class Pacer {
  private readonly queue: Array<{ bytes: number; send: () => void }> = [];
  private queuedBytes = 0;
  private credit = 0;
  private lastAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rateBps = MIN_RATE_BPS;
  dropped = 0;

  /** `onDrop` is told when queued video had to be thrown away (the receiver then needs a keyframe). */
  constructor(private readonly onDrop: () => void = () => undefined) {}

  /** The rate of what is paced (bit/s, before the factor): a floor; the measured input rate counts too. */
  setTarget(bps: number): void {
    this.targetBps = bps;
    this.updateRate();
  }

  private targetBps = 0;
  /** Input bytes per 250 ms, the last second: pacing is never slower than what comes in. */
  private readonly input: Array<{ at: number; bytes: number }> = [];

  private noteInput(bytes: number): void {
    const now = performance.now();
    let b = this.input.at(-1);
    if (!b || now - b.at >= 250) {
      b = { at: now, bytes: 0 };
      this.input.push(b);
      if (this.input.length > 5) this.input.shift();
    }
    b.bytes += bytes;
    this.updateRate(now);
  }

  private updateRate(now = performance.now()): void {
    // Whole 250 ms buckets only: the burst being paced now must not raise its own pace.
    // A plain loop: this runs per forwarded packet and subscriber (no slice/filter/reduce arrays).
    let n = 0;
    let bytes = 0;
    for (let i = 0; i < this.input.length - 1; i++) {
      const b = this.input[i]!;
      if (now - b.at < 1250) {
        n++;
        bytes += b.bytes;
      }
    }
    const inputBps = n > 0 ? (bytes * 8) / (n * 0.25) : 0;
    this.rateBps = Math.max(MIN_RATE_BPS, Math.max(this.targetBps, inputBps) * PACING_FACTOR);
  }

  get rate(): number {
    return this.rateBps;
  }

  get queuedMs(): number {
    return (this.queuedBytes * 8 * 1000) / this.rateBps;
  }

  push(bytes: number, send: () => void): void {
    this.noteInput(bytes);
    this.queue.push({ bytes, send });
    this.queuedBytes += bytes;
    if (this.queuedMs > MAX_QUEUE_MS) {
      this.dropped += this.queue.length;
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.onDrop();
      return;
    }
    this.drain();
  }

  private drain(): void {
    const now = performance.now();
    const perMs = this.rateBps / 8 / 1000;
    // Idle, the credit stops at one burst; with video waiting, a late timer (a busy box) must not slow
    // the pace, so the whole time since the last turn counts (up to MAX_CATCHUP_MS).
    const cap = perMs * (this.queue.length > 1 ? MAX_CATCHUP_MS : BURST_MS);
    if (this.lastAt === undefined) this.credit = perMs * BURST_MS;
    else this.credit = Math.min(cap, this.credit + (now - this.lastAt) * perMs);
    this.lastAt = now;
    while (this.queue.length > 0 && this.credit > 0) {
      const p = this.queue.shift()!;
      this.queuedBytes -= p.bytes;
      this.credit -= p.bytes;
      p.send();
    }
    if (this.queue.length > 0) {
      if (!this.timer) {
        this.timer = setInterval(() => this.drain(), TICK_MS);
        this.timer.unref();
      }
    } else if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
