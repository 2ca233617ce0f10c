import type { Rung } from '../core/contract/lesson.js';

// The bandwidth ladder of one teaching-point link (DESIGN §4), decided by the hub that sends: down at
// once when the link is congested, up one rung at a time only after a clean hold, and the hold doubles
// after each failed try so a link at the edge of a rung does not flap.

/** Rungs best first; audio-only and offline carry no video. */
const RUNGS: readonly Rung[] = ['720p', '360p', '180p', 'audio-only', 'offline'];
const rank = (r: Rung) => RUNGS.indexOf(r);

export interface LadderSample {
  now: number;
  /** Time since the receiver last sent any RTCP (its only sign of life towards the sender). */
  feedbackAgeMs: number;
  /** What was sent over the last interval, audio included. */
  sentBps: number;
  /** Mean fraction lost reported by the receiver over the interval (0..1), null without a report. */
  loss: number | null;
  /**
   * Loss on the link before retransmission (NACKed packets ÷ sent), null when unknown. RR loss hides
   * what NACK recovered, but big 720p frames still stall on it: it caps the rung and blocks steps up;
   * the congestion budget stays on RR loss (NACKs spike while a queue drains and would overshoot).
   */
  linkLoss?: number | null;
  rttMs: number | null;
  /** The video rungs on offer now and what each needs (bit/s, audio included). */
  needs: Partial<Record<Rung, number>>;
}

export interface LadderOptions {
  offlineAfterMs: number;
  /** Loss at or above this is congestion: drop to what got through. */
  congestionLoss: number;
  /** Loss at or above this (and below congestion) caps the link at 360p: without retransmission big frames break. */
  lossyLoss: number;
  /** Below this the link counts as clean (may step up). */
  cleanLoss: number;
  upHoldMs: number;
  maxUpHoldMs: number;
  /** After a step down, loss reports still describe the old rate for this long: no second step meanwhile. */
  settleMs: number;
  /** A step down this soon after a step up marks the try as failed. */
  probeGraceMs: number;
  highRttMs: number;
  /** Share of the delivered rate a rung may need. */
  headroom: number;
}

const defaultLadderOptions: LadderOptions = {
  offlineAfterMs: 3000, congestionLoss: 0.1, lossyLoss: 0.03, cleanLoss: 0.02, upHoldMs: 15_000, maxUpHoldMs: 120_000,
  settleMs: 2500, probeGraceMs: 8000, highRttMs: 1000, headroom: 0.9,
};

export class Ladder {
  rung: Rung;
  private lastChange: number;
  private cleanSince: number | null = null;
  private upHold: number;
  private probeAt: number | null = null;
  private beforeOffline: Rung | null = null;
  lastLoss: number | null = null;
  lastDeliveredBps: number | null = null;
  readonly o: LadderOptions;

  constructor(now: number, start: Rung = '720p', o: Partial<LadderOptions> = {}) {
    this.o = { ...defaultLadderOptions, ...o };
    this.rung = start;
    this.lastChange = now;
    this.upHold = this.o.upHoldMs;
  }

  get holdMs(): number {
    return this.upHold;
  }

  update(s: LadderSample): Rung {
    const o = this.o;
    if (s.feedbackAgeMs >= o.offlineAfterMs) {
      if (this.rung !== 'offline') {
        this.beforeOffline = this.rung;
        this.set('offline', s.now);
      }
      return this.rung;
    }
    if (Object.keys(s.needs).length === 0) {
      // No video on offer (no publisher yet, or an audio-only one): nothing to decide, and the rung stays,
      // so the picture starts when video comes. Fitting it down to audio-only here meant a clean hold
      // (15 s) before the first picture of a teacher who started after the teaching point had joined.
      if (this.rung === 'offline') this.set(this.beforeOffline ?? '720p', s.now);
      return this.rung;
    }
    if (this.rung === 'offline') {
      // Back after an outage: resume where it was; congestion pulls it down if the link came back thinner.
      this.set(this.fit(this.beforeOffline ?? '720p', s.needs), s.now);
      this.cleanSince = null;
      return this.rung;
    }
    const current = this.fit(this.rung, s.needs);
    if (current !== this.rung) this.set(current, s.now);
    const loss = s.loss ?? 0;
    this.lastLoss = s.loss === null && (s.linkLoss ?? null) === null ? null : Math.max(s.loss ?? 0, s.linkLoss ?? 0);
    this.lastDeliveredBps = s.sentBps * (1 - loss);
    const settled = s.now - this.lastChange >= o.settleMs;
    if (loss >= o.congestionLoss && settled && this.rung !== 'audio-only') {
      const budget = s.sentBps * (1 - loss) * o.headroom;
      let target: Rung = 'audio-only';
      for (const r of RUNGS.slice(rank(this.rung) + 1)) {
        if (r === 'audio-only' || (s.needs[r] ?? Infinity) <= budget) {
          target = r;
          break;
        }
      }
      this.down(target, s.now);
      return this.rung;
    }
    const lossy = Math.max(loss, s.linkLoss ?? 0);
    if (lossy >= o.lossyLoss && settled && rank(this.rung) < rank('360p')) {
      this.down(this.fit('360p', s.needs), s.now);
      return this.rung;
    }
    const clean = lossy < o.cleanLoss && (s.rttMs === null || s.rttMs < o.highRttMs);
    if (!clean) {
      this.cleanSince = null;
      return this.rung;
    }
    this.cleanSince ??= s.now;
    if (this.probeAt !== null && s.now - this.probeAt > 2 * this.upHold) {
      this.probeAt = null;
      this.upHold = o.upHoldMs; // the last step up held: trust the link again
    }
    const up = RUNGS.slice(0, rank(this.rung)).filter((r) => s.needs[r] !== undefined).at(-1);
    if (up && s.now - Math.max(this.cleanSince, this.lastChange) >= this.upHold) {
      this.set(up, s.now);
      this.probeAt = s.now;
      this.cleanSince = null;
    }
    return this.rung;
  }

  private down(target: Rung, now: number): void {
    if (rank(target) <= rank(this.rung)) return;
    if (this.probeAt !== null && now - this.probeAt < this.o.probeGraceMs) this.upHold = Math.min(this.upHold * 2, this.o.maxUpHoldMs);
    this.probeAt = null;
    this.cleanSince = null;
    this.set(target, now);
  }

  /** The best rung on offer at or below `r` (audio-only when no video rung is). */
  private fit(r: Rung, needs: Partial<Record<Rung, number>>): Rung {
    if (r === 'audio-only' || r === 'offline') return r;
    return RUNGS.slice(rank(r)).find((x) => x === 'audio-only' || needs[x] !== undefined)!;
  }

  private set(r: Rung, now: number): void {
    if (r === this.rung) return;
    this.rung = r;
    this.lastChange = now;
  }
}

/** Which simulcast layer carries which rung: by picture height when known, else by rate rank. */
export function layersByRung(available: string[], rates: ReadonlyMap<string, number>, heights: ReadonlyMap<string, number>): Map<Rung, string> {
  const sorted = [...available].sort((a, b) => (rates.get(b) ?? 0) - (rates.get(a) ?? 0));
  const out = new Map<Rung, string>();
  const byHeight = sorted.every((l) => heights.has(l));
  sorted.forEach((l, i) => {
    const r = byHeight ? rungForHeight(heights.get(l)!) : RUNGS[Math.min(i, 2)]!;
    if (!out.has(r)) out.set(r, l);
  });
  return out;
}

export function rungForHeight(h: number): Rung {
  return h >= 540 ? '720p' : h >= 270 ? '360p' : '180p';
}

/** A VP8 keyframe's picture size (RFC 7741 descriptor, then the RFC 6386 keyframe header); null otherwise. */
export function vp8KeyframeSize(payload: Uint8Array): { width: number; height: number } | null {
  if (payload.length < 1) return null;
  const b0 = payload[0]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return null;
  let i = 1;
  if (b0 & 0x80) {
    const x = payload[1];
    if (x === undefined) return null;
    i = 2;
    if (x & 0x80) {
      if (payload.length <= i) return null;
      i += payload[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1;
    if (x & 0x30) i += 1;
  }
  if (payload.length < i + 10 || (payload[i]! & 0x01) !== 0) return null;
  if (payload[i + 3] !== 0x9d || payload[i + 4] !== 0x01 || payload[i + 5] !== 0x2a) return null;
  const width = (payload[i + 6]! | (payload[i + 7]! << 8)) & 0x3fff;
  const height = (payload[i + 8]! | (payload[i + 9]! << 8)) & 0x3fff;
  return { width, height };
}
