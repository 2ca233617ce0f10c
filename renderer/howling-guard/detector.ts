// Feedback (啸叫) detection as pure functions over magnitude spectra (dB per FFT bin, as
// AnalyserNode.getFloatFrequencyData gives them), so the rules are testable without a browser.
//
// Loudspeaker-to-microphone feedback is one narrow spectral line, usually 1–4 kHz where speakers and
// rooms ring, standing far above everything else, holding its frequency and growing until the
// amplifier clips. Speech moves in pitch and pauses every syllable; music holds notes, but a note
// carries harmonics at 2f, 3f… and decays. Those differences are the rules below.

export interface DetectorConfig {
  bandHz: [number, number];
  /** Peak above the spectral median (the whole 100 Hz–8 kHz spectrum), in dB. */
  minProminenceDb: number;
  /** Peak above its neighbourhood 50–150 Hz away: a line, not a formant or a noise band. */
  minNarrownessDb: number;
  /** Below this absolute level nothing is feedback (a quiet tone in a quiet room). */
  minPeakDb: number;
  /** A partial at an integer ratio within this many dB of the peak marks a musical note, not feedback. */
  harmonicWithinDb: number;
  /** A line with the same partial in more than this share of its frames is music (speech makes chance partials). */
  maxHarmonicShare: number;
  /** How long one line must hold (ms) before it counts. */
  persistMs: number;
  /** Growth over the holding time (dB) that marks feedback building up… */
  minGrowthDb: number;
  /** …unless the line is already this prominent (feedback that has reached the clip level). */
  saturatedProminenceDb: number;
  /** Frames that miss the rules for up to this long do not break a line (ms). */
  gapMs: number;
  /** Frequency wobble (bins) still counted as the same line. */
  binTolerance: number;
}

export const defaultDetectorConfig: DetectorConfig = {
  bandHz: [1000, 4000],
  minProminenceDb: 30,
  minNarrownessDb: 18,
  minPeakDb: -80,
  harmonicWithinDb: 18,
  maxHarmonicShare: 0.3,
  persistMs: 350,
  minGrowthDb: 3,
  saturatedProminenceDb: 50,
  gapMs: 120,
  binTolerance: 3,
};

export interface SpectrumFeatures {
  peakBin: number;
  peakHz: number;
  peakDb: number;
  medianDb: number;
  prominenceDb: number;
  narrownessDb: number;
  /** Which integer-ratio partials (f/2, f/3, 2f, 3f) stand out, as bits 0–3. */
  partials: number;
  /** The per-frame rules hold: a loud narrow line (partials are judged over the whole line). */
  candidate: boolean;
}

function median(values: number[]): number {
  if (values.length === 0) return -Infinity;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function maxAround(db: ArrayLike<number>, bin: number, halfWidth: number): number {
  let m = -Infinity;
  for (let i = Math.max(0, bin - halfWidth); i <= Math.min(db.length - 1, bin + halfWidth); i++) m = Math.max(m, db[i]!);
  return m;
}

/** Features of one spectrum; `db.length` is fftSize/2 bins covering 0…sampleRate/2. */
export function analyseSpectrum(db: ArrayLike<number>, sampleRate: number, cfg: DetectorConfig = defaultDetectorConfig): SpectrumFeatures {
  const binHz = sampleRate / 2 / db.length;
  const lo = Math.max(1, Math.floor(cfg.bandHz[0] / binHz));
  const hi = Math.min(db.length - 1, Math.ceil(cfg.bandHz[1] / binHz));
  let peakBin = lo;
  for (let i = lo; i <= hi; i++) if (db[i]! > db[peakBin]!) peakBin = i;
  const peakDb = db[peakBin]!;

  const all: number[] = [];
  for (let i = Math.floor(100 / binHz); i <= Math.min(db.length - 1, Math.ceil(8000 / binHz)); i++) {
    const v = db[i]!;
    all.push(Number.isFinite(v) ? v : -200);
  }
  // Digital silence reads as -200 dB or lower; no microphone is that quiet, and a tone over it
  // would look infinitely prominent.
  const medianDb = Math.max(median(all), -100);

  const near: number[] = [];
  const from = Math.max(1, Math.round(50 / binHz));
  const to = Math.max(from + 1, Math.round(150 / binHz));
  for (let d = from; d <= to; d++) {
    if (peakBin - d >= 0) near.push(db[peakBin - d]!);
    if (peakBin + d < db.length) near.push(db[peakBin + d]!);
  }
  const nearDb = near.length ? near.reduce((a, b) => a + b, 0) / near.length : -200;

  // A note's partials sit at integer ratios of the peak: look at f/2, f/3 (the peak may be a
  // harmonic) and 2f, 3f (the peak may be the fundamental).
  let partials = 0;
  for (const [i, ratio] of [0.5, 1 / 3, 2, 3].entries()) {
    const b = Math.round(peakBin * ratio);
    if (b < 2 || b >= db.length - 2) continue;
    const h = maxAround(db, b, 1);
    const hNear = (maxAround(db, b - 6, 1) + maxAround(db, b + 6, 1)) / 2;
    if (h > peakDb - cfg.harmonicWithinDb && h - hNear > 10 && h - medianDb > 20) partials |= 1 << i;
  }

  const prominenceDb = peakDb - medianDb;
  const narrownessDb = peakDb - nearDb;
  const candidate = Number.isFinite(peakDb) && peakDb >= cfg.minPeakDb && prominenceDb >= cfg.minProminenceDb
    && narrownessDb >= cfg.minNarrownessDb;
  return { peakBin, peakHz: peakBin * binHz, peakDb, medianDb, prominenceDb, narrownessDb, partials, candidate };
}

export interface DetectorState {
  line: { bin: number; since: number; lastSeen: number; firstDb: number; frames: number; partialFrames: [number, number, number, number] } | null;
  howling: boolean;
}

export const initialDetectorState: DetectorState = { line: null, howling: false };

/** Advances the detector by one analysed frame at time `t` (ms). Pure: returns the next state. */
export function detectStep(state: DetectorState, f: SpectrumFeatures, t: number, cfg: DetectorConfig = defaultDetectorConfig): DetectorState {
  const line = state.line;
  if (f.candidate) {
    const counted = (base: [number, number, number, number]) =>
      base.map((n, i) => n + ((f.partials >> i) & 1)) as [number, number, number, number];
    if (line && Math.abs(f.peakBin - line.bin) <= cfg.binTolerance) {
      const next = { ...line, bin: f.peakBin, lastSeen: t, frames: line.frames + 1, partialFrames: counted(line.partialFrames) };
      if (state.howling) return { line: next, howling: true };
      const held = t - next.since >= cfg.persistMs;
      const growing = f.peakDb - next.firstDb >= cfg.minGrowthDb || f.prominenceDb >= cfg.saturatedProminenceDb;
      // A note keeps the same partial frame after frame; speech lines one up only by chance.
      const pure = Math.max(...next.partialFrames) <= next.frames * cfg.maxHarmonicShare;
      return { line: next, howling: held && growing && pure };
    }
    return { line: { bin: f.peakBin, since: t, lastSeen: t, firstDb: f.peakDb, frames: 1, partialFrames: counted([0, 0, 0, 0]) }, howling: false };
  }
  if (line && t - line.lastSeen <= cfg.gapMs) return state;
  return initialDetectorState;
}

// ---- reaction -----------------------------------------------------------------------------------

export type GuardPhase = 'normal' | 'reduced' | 'muted';

export interface GuardConfig {
  /** Still howling this long after the loudspeaker was turned down: mute the room microphone. */
  muteAfterMs: number;
  /** Quiet for this long: put volume and microphone back. */
  restoreAfterMs: number;
}

export const defaultGuardConfig: GuardConfig = { muteAfterMs: 1500, restoreAfterMs: 2000 };

export interface GuardState {
  phase: GuardPhase;
  since: number;
  lastHowlAt: number | null;
}

export type GuardAction = 'reduce' | 'mute' | 'restore';

export const initialGuardState: GuardState = { phase: 'normal', since: 0, lastHowlAt: null };

/** The reaction ladder: normal → reduced (speaker down) → muted (mic off) → normal when quiet. */
export function guardStep(s: GuardState, howling: boolean, t: number, cfg: GuardConfig = defaultGuardConfig): { state: GuardState; action: GuardAction | null } {
  const lastHowlAt = howling ? t : s.lastHowlAt;
  if (s.phase === 'normal') {
    return howling ? { state: { phase: 'reduced', since: t, lastHowlAt }, action: 'reduce' } : { state: { ...s, lastHowlAt }, action: null };
  }
  if (!howling && lastHowlAt !== null && t - lastHowlAt >= cfg.restoreAfterMs) {
    return { state: { phase: 'normal', since: t, lastHowlAt }, action: 'restore' };
  }
  if (s.phase === 'reduced' && howling && t - s.since >= cfg.muteAfterMs) {
    return { state: { phase: 'muted', since: t, lastHowlAt }, action: 'mute' };
  }
  return { state: { ...s, lastHowlAt }, action: null };
}
