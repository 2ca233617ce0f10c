/** What the bandwidth policy reads: the PIN-guarded sync settings plus the link rate the box is told about. */
export interface BandwidthInputs {
  lessonSharePercent: number;
  uploadLimitKbps: number | null;
  downloadLimitKbps: number | null;
  window: { start: string; end: string } | null;
  /** The WAN link's rate; the lesson share is a share of it. Unknown → sync pauses during lessons. */
  linkKbps: number | null;
  lessonActive: boolean;
  /** Minutes since local midnight. */
  minuteOfDay: number;
}

export interface BandwidthPlan {
  /** Downloads stop (state kept) when paused; seeding continues under the upload limit. */
  paused: boolean;
  /** Bytes per second, -1 for no limit. */
  downloadBps: number;
  uploadBps: number;
  reason: 'open' | 'lesson-share' | 'lesson-paused' | 'outside-window';
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A window like 22:00–06:00 wraps past midnight. */
export function insideWindow(w: { start: string; end: string } | null, minuteOfDay: number): boolean {
  if (!w) return true;
  const s = minutes(w.start);
  const e = minutes(w.end);
  if (s === e) return true;
  return s < e ? minuteOfDay >= s && minuteOfDay < e : minuteOfDay >= s || minuteOfDay < e;
}

const bps = (kbps: number | null): number => (kbps === null ? -1 : Math.round((kbps * 1000) / 8));

function minLimit(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

/** A live lesson always has priority: sync takes the configured share of the link, or stops. */
export function bandwidthPlan(i: BandwidthInputs): BandwidthPlan {
  let down = bps(i.downloadLimitKbps);
  let up = bps(i.uploadLimitKbps);
  if (i.lessonActive) {
    if (i.lessonSharePercent <= 0 || i.linkKbps === null) return { paused: true, downloadBps: 0, uploadBps: 0, reason: 'lesson-paused' };
    const share = Math.max(1, Math.round((i.linkKbps * 1000 / 8) * (i.lessonSharePercent / 100)));
    down = minLimit(down, share);
    up = minLimit(up, share);
    return { paused: false, downloadBps: down, uploadBps: up, reason: 'lesson-share' };
  }
  if (!insideWindow(i.window, i.minuteOfDay)) return { paused: true, downloadBps: down, uploadBps: up, reason: 'outside-window' };
  return { paused: false, downloadBps: down, uploadBps: up, reason: 'open' };
}
