import { describe, expect, it } from 'vitest';
import {
  analyseSpectrum, detectStep, guardStep, initialDetectorState, initialGuardState, type GuardAction, type GuardState,
} from '../../renderer/howling-guard/detector.js';
import { RATE, growingTone, mixAt, musicLike, speechLike, rng, spectrumDb } from '../support/audio-signals.js';

const STEP_MS = 40;

/** The hiss of a real microphone preamp, about -70 dBFS. */
function roomNoise(seconds: number): Float32Array {
  const r = rng(3);
  return Float32Array.from({ length: Math.round(seconds * RATE) }, () => (r() * 2 - 1) * 10 ** (-70 / 20));
}

/** Runs the detector over a signal the way the kiosk does (one spectrum per 40 ms); returns when it fired. */
function firstHowl(signal: Float32Array): { at: number | null; frames: number } {
  let state = initialDetectorState;
  let frames = 0;
  for (let t = 0; ; t += STEP_MS) {
    const start = Math.round((t / 1000) * RATE);
    if (start + 4096 > signal.length) return { at: null, frames };
    frames++;
    state = detectStep(state, analyseSpectrum(spectrumDb(signal, start), RATE), t);
    // The analyser window ends at start+4096: that is "now" for the browser.
    if (state.howling) return { at: t + (4096 / RATE) * 1000, frames };
  }
}

describe('howling detector over spectra', () => {
  it('finds a growing 2.5 kHz line under speech within a second of its onset', () => {
    const onset = 3;
    const signal = mixAt(speechLike(5), growingTone(2, 2500, -35, 15), onset);
    const { at } = firstHowl(signal);
    expect(at).not.toBeNull();
    expect(at! / 1000).toBeGreaterThan(onset);
    expect(at! / 1000 - onset).toBeLessThan(1);
  });

  it('does not fire on speech alone (several voices)', () => {
    for (const seed of [1, 2, 3]) expect(firstHowl(speechLike(4, seed)).at).toBeNull();
  });

  it('does not fire on music with held notes and harmonics', () => {
    expect(firstHowl(musicLike(7)).at).toBeNull();
    expect(firstHowl(mixAt(musicLike(4, -10), speechLike(4, 3, -26), 0)).at).toBeNull();
  });

  it('does not fire on a steady quiet tone that is not building up', () => {
    expect(firstHowl(mixAt(roomNoise(4), growingTone(4, 2500, -50, 0, -50), 0)).at).toBeNull();
  });

  it('reads the line frequency and that it stands out', () => {
    const tone = growingTone(0.2, 2500, -12, 0);
    const f = analyseSpectrum(spectrumDb(tone, 0), RATE);
    expect(Math.abs(f.peakHz - 2500)).toBeLessThan(20);
    expect(f.prominenceDb).toBeGreaterThan(50);
    expect(f.candidate).toBe(true);
  });
});

describe('guard reaction ladder', () => {
  function run(howl: (t: number) => boolean, until: number): Array<[number, GuardAction]> {
    let s: GuardState = initialGuardState;
    const out: Array<[number, GuardAction]> = [];
    for (let t = 0; t <= until; t += 40) {
      const r = guardStep(s, howl(t), t);
      s = r.state;
      if (r.action) out.push([t, r.action]);
    }
    return out;
  }

  it('turns the speaker down at once, mutes the mic if it goes on, restores when quiet', () => {
    expect(run((t) => t >= 1000 && t < 4000, 8000)).toEqual([[1000, 'reduce'], [2520, 'mute'], [5960, 'restore']]);
  });

  it('restores without muting when turning the speaker down was enough', () => {
    expect(run((t) => t >= 1000 && t < 1400, 5000)).toEqual([[1000, 'reduce'], [3360, 'restore']]);
  });
});
