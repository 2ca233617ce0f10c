// Test signals for the howling guard (speech-like, feedback-like, music-like), a 16-bit PCM WAV
// writer for Chromium's --use-file-for-fake-audio-capture, and an AnalyserNode-like spectrum
// (Blackman window, FFT, dBFS per bin) so unit tests see what the browser's analyser would.

export const RATE = 48_000;

/** Deterministic noise so a failing run can be replayed. */
export function rng(seed = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const db = (x: number) => 10 ** (x / 20);

/**
 * Speech-like: syllables at ~4 Hz, each a voiced harmonic series on a gliding pitch (100–260 Hz)
 * shaped by two moving formants, plus breath noise; pauses between words.
 */
export function speechLike(seconds: number, seed = 7, levelDb = -20): Float32Array {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const r = rng(seed);
  let phase = 0;
  let syllableEnd = 0;
  let f0Start = 150;
  let f0End = 150;
  let f1 = 600;
  let f2 = 1500;
  let syllableStart = 0;
  let voiced = true;
  let lp = 0;
  for (let i = 0; i < n; i++) {
    if (i >= syllableEnd) {
      syllableStart = i;
      const pause = r() < 0.2;
      syllableEnd = i + Math.round(RATE * (pause ? 0.15 + r() * 0.2 : 0.12 + r() * 0.18));
      voiced = !pause;
      f0Start = 100 + r() * 160;
      f0End = f0Start * (0.8 + r() * 0.4);
      f1 = 300 + r() * 600;
      f2 = 900 + r() * 1800;
    }
    const u = (i - syllableStart) / Math.max(1, syllableEnd - syllableStart);
    const env = voiced ? Math.sin(Math.PI * u) ** 0.7 : 0;
    const f0 = f0Start + (f0End - f0Start) * u;
    phase += (2 * Math.PI * f0) / RATE;
    let v = 0;
    // sin(k·phase) by the Chebyshev recurrence: one sin and one cos per sample instead of one per harmonic.
    const c2 = 2 * Math.cos(phase);
    let prev = 0;
    let cur = Math.sin(phase);
    for (let k = 1; k * f0 < 4500; k++) {
      const f = k * f0;
      // Two resonances (formants) over a falling slope: the rough shape of a vowel.
      const gain = 1 / k ** 0.6 * (1 / (1 + ((f - f1) / 150) ** 2) + 0.5 / (1 + ((f - f2) / 250) ** 2) + 0.02);
      v += gain * cur;
      const next = c2 * cur - prev;
      prev = cur;
      cur = next;
    }
    const noise = r() * 2 - 1;
    lp += 0.3 * (noise - lp);
    out[i] = db(levelDb) * (env * v * 0.5 + 0.04 * lp * (voiced ? env : 0.3));
  }
  return out;
}

/** Feedback as it builds: one line at `hz`, from `fromDb` growing `dbPerSecond` up to `maxDb`. */
export function growingTone(seconds: number, hz: number, fromDb = -45, dbPerSecond = 12, maxDb = -6): Float32Array {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    // A slight wobble of the line, as in a real room where the loop gain drifts.
    out[i] = db(Math.min(maxDb, fromDb + dbPerSecond * t)) * Math.sin(2 * Math.PI * hz * t + 0.3 * Math.sin(2 * Math.PI * 0.7 * t));
  }
  return out;
}

/**
 * Music-like: held notes (some fundamentals inside 1–4 kHz) with harmonics, vibrato, attack and
 * decay, over a soft chord; the kind of input a classroom plays through its loudspeakers.
 */
export function musicLike(seconds: number, levelDb = -14): Float32Array {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const notes = [1046.5, 1318.5, 1568, 1174.7, 2093, 1396.9, 1760, 1046.5, 1318.5, 1568];
  const noteLen = 0.7;
  const partials = [1, db(-6), db(-10), db(-16), db(-20)];
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const idx = Math.floor(t / noteLen);
    const f = notes[idx % notes.length]!;
    const u = t - idx * noteLen;
    const env = Math.min(1, u / 0.03) * Math.exp(-u * 1.6);
    const vib = 1 + 0.004 * Math.sin(2 * Math.PI * 5.5 * t);
    let v = 0;
    for (let k = 0; k < partials.length; k++) v += partials[k]! * Math.sin(2 * Math.PI * f * (k + 1) * vib * t);
    const chord = 0.3 * (Math.sin(2 * Math.PI * 261.6 * t) + Math.sin(2 * Math.PI * 329.6 * t) + Math.sin(2 * Math.PI * 392 * t));
    out[i] = db(levelDb) * 0.4 * (env * v + 0.4 * chord);
  }
  return out;
}

export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Adds `b` into `a` starting at `atSeconds`. */
export function mixAt(a: Float32Array, b: Float32Array, atSeconds: number): Float32Array {
  const out = a.slice();
  const start = Math.round(atSeconds * RATE);
  for (let i = 0; i < b.length && start + i < out.length; i++) out[start + i]! += b[i]!;
  return out;
}

export function silence(seconds: number): Float32Array {
  return new Float32Array(Math.round(seconds * RATE));
}

/** Mono 16-bit PCM RIFF/WAVE. */
export function wav(samples: Float32Array, rate = RATE): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    t = { cos: new Float64Array(n / 2), sin: new Float64Array(n / 2) };
    for (let k = 0; k < n / 2; k++) {
      t.cos[k] = Math.cos((-2 * Math.PI * k) / n);
      t.sin[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    twiddleCache.set(n, t);
  }
  return t;
}

/** Like AnalyserNode.getFloatFrequencyData with smoothing 0: Blackman window, |FFT|/N in dB. */
export function spectrumDb(samples: Float32Array, start: number, fftSize = 4096): Float32Array {
  const re = new Float64Array(fftSize);
  const im = new Float64Array(fftSize);
  const a0 = 0.42, a1 = 0.5, a2 = 0.08;
  for (let i = 0; i < fftSize; i++) {
    const w = a0 - a1 * Math.cos((2 * Math.PI * i) / fftSize) + a2 * Math.cos((4 * Math.PI * i) / fftSize);
    re[i] = (samples[start + i] ?? 0) * w;
  }
  for (let i = 1, j = 0; i < fftSize; i++) {
    let bit = fftSize >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  const { cos, sin } = twiddles(fftSize);
  for (let len = 2; len <= fftSize; len <<= 1) {
    const step = fftSize / len;
    for (let i = 0; i < fftSize; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = cos[k * step]!, wi = sin[k * step]!;
        const xr = re[i + k + len / 2]! * wr - im[i + k + len / 2]! * wi;
        const xi = re[i + k + len / 2]! * wi + im[i + k + len / 2]! * wr;
        re[i + k + len / 2] = re[i + k]! - xr;
        im[i + k + len / 2] = im[i + k]! - xi;
        re[i + k] = re[i + k]! + xr;
        im[i + k] = im[i + k]! + xi;
      }
    }
  }
  const out = new Float32Array(fftSize / 2);
  for (let k = 0; k < fftSize / 2; k++) out[k] = 20 * Math.log10(Math.hypot(re[k]!, im[k]!) / fftSize + 1e-12);
  return out;
}
