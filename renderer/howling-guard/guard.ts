// The kiosk's howling guard: analyses the room microphone with an AnalyserNode and, on feedback,
// turns the loudspeaker down, then mutes what the room sends, tells the teacher, and restores both
// when the howling has stopped. The capture is never muted at the source: the analyser must keep
// hearing the room to know when the howling is over.
import { hardwareMessage, type MessageKey } from '../../core/contract/hardware.js';
import type { Language } from '../../core/contract/settings.js';
import {
  analyseSpectrum, defaultDetectorConfig, defaultGuardConfig, detectStep, guardStep, initialDetectorState, initialGuardState,
  type DetectorConfig, type DetectorState, type GuardAction, type GuardConfig, type GuardPhase, type GuardState, type SpectrumFeatures,
} from './detector.js';

export interface HowlingGuardOptions {
  context: AudioContext;
  /** The room microphone, captured with roomMicConstraints() (echo cancellation etc. on). */
  microphone: MediaStream;
  /** The GainNode on the loudspeaker path (far-end audio → this node → destination). */
  speakerGain: GainNode;
  /** Loudspeaker gain while feedback is detected, as a fraction of the normal gain. */
  reducedFactor?: number;
  intervalMs?: number;
  fftSize?: number;
  language?: Language;
  detector?: Partial<DetectorConfig>;
  guard?: Partial<GuardConfig>;
  /** Shown to the teacher in plain words. */
  onNotice?: (n: HowlNotice) => void;
}

export interface HowlNotice {
  action: GuardAction;
  phase: GuardPhase;
  message: string;
  messageKey: MessageKey;
  /** performance.now() of the frame that triggered it. */
  at: number;
  peakHz: number;
}

const messageFor: Record<GuardAction, MessageKey> = { reduce: 'howl.reduced', mute: 'howl.muted', restore: 'howl.restored' };

export class HowlingGuard {
  private readonly analyser: AnalyserNode;
  private readonly source: MediaStreamAudioSourceNode;
  private readonly sendGain: GainNode;
  private readonly destination: MediaStreamAudioDestinationNode;
  private readonly bins: Float32Array<ArrayBuffer>;
  private readonly detector: DetectorConfig;
  private readonly guard: GuardConfig;
  private timer: ReturnType<typeof setInterval> | undefined;
  private detState: DetectorState = initialDetectorState;
  private guardState: GuardState = initialGuardState;
  private normalGain: number;
  last: SpectrumFeatures | undefined;
  readonly notices: HowlNotice[] = [];

  constructor(private readonly o: HowlingGuardOptions) {
    const ctx = o.context;
    this.detector = { ...defaultDetectorConfig, ...o.detector };
    this.guard = { ...defaultGuardConfig, ...o.guard };
    this.source = ctx.createMediaStreamSource(o.microphone);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = o.fftSize ?? 4096;
    // No smoothing: persistence is judged by the detector over time, not blurred by the analyser.
    this.analyser.smoothingTimeConstant = 0;
    this.bins = new Float32Array(this.analyser.frequencyBinCount);
    this.sendGain = ctx.createGain();
    this.destination = ctx.createMediaStreamDestination();
    this.source.connect(this.analyser);
    this.source.connect(this.sendGain).connect(this.destination);
    this.normalGain = o.speakerGain.gain.value;
  }

  /** What the room sends to the other classroom: the microphone, silenced while muted. */
  get sendStream(): MediaStream {
    return this.destination.stream;
  }

  get phase(): GuardPhase {
    return this.guardState.phase;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs ?? 40);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.apply('restore');
    this.source.disconnect();
    this.sendGain.disconnect();
  }

  /** Level of the microphone in dBFS over the last analysis window (for level meters and tests). */
  levelDb(): number {
    const buf = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    return 10 * Math.log10(sum / buf.length + 1e-12);
  }

  private tick(): void {
    const now = performance.now();
    this.analyser.getFloatFrequencyData(this.bins);
    const f = analyseSpectrum(this.bins, this.o.context.sampleRate, this.detector);
    this.last = f;
    this.detState = detectStep(this.detState, f, now, this.detector);
    const { state, action } = guardStep(this.guardState, this.detState.howling, now, this.guard);
    this.guardState = state;
    if (!action) return;
    this.apply(action);
    const notice: HowlNotice = {
      action, phase: state.phase, messageKey: messageFor[action], message: hardwareMessage(messageFor[action], this.o.language ?? 'zh-CN'),
      at: now, peakHz: Math.round(f.peakHz),
    };
    this.notices.push(notice);
    this.o.onNotice?.(notice);
  }

  private apply(action: GuardAction): void {
    const t = this.o.context.currentTime;
    const speaker = this.o.speakerGain.gain;
    if (action === 'reduce') {
      this.normalGain = speaker.value;
      speaker.cancelScheduledValues(t);
      speaker.setTargetAtTime(this.normalGain * (this.o.reducedFactor ?? 0.25), t, 0.03);
    } else if (action === 'mute') {
      this.sendGain.gain.cancelScheduledValues(t);
      this.sendGain.gain.setTargetAtTime(0, t, 0.02);
    } else {
      // Back up gently: a sudden full gain could start the feedback again at once.
      speaker.cancelScheduledValues(t);
      speaker.setTargetAtTime(this.normalGain, t, 0.3);
      this.sendGain.gain.cancelScheduledValues(t);
      this.sendGain.gain.setTargetAtTime(1, t, 0.05);
    }
  }
}
