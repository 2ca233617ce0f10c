// The whiteboard's lesson screen in real Chromium: the room microphone (a generated WAV through
// --use-file-for-fake-audio-capture) goes through the howling guard; on feedback the hub's sound on
// the loudspeaker is turned down and the teacher is told, and all comes back when it stops. And the
// technician's device assignment: an unplugged camera/microphone is named and the default is used.
// The loudspeaker gain is read from outside the app: an init script records the page's GainNodes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, screenshot } from '../support/browser.js';
import { pinSession, tempDir, TEST_PIN } from '../support/boxes.js';
import { startKioskBoxes, createLesson, type KioskBoxes } from '../support/kiosk-boxes.js';
import { authoriseScreen } from '../support/kiosk-page.js';
import { concat, growingTone, mixAt, silence, speechLike, wav } from '../support/audio-signals.js';

const LEAD = 1.5;
const TONE_AT = 5; // seconds after the first sound
const TONE_FOR = 3;

interface Probe {
  captures: number;
  captureAt: number | null;
  firstSoundAt: number | null;
  samples: Array<[number, number]>;
}

/** Runs in the page before the app: follows the first GainNode (the loudspeaker) and the capture's first sound. */
function installProbe(): void {
  const probe: Probe = { captures: 0, captureAt: null, firstSoundAt: null, samples: [] };
  (window as unknown as { probe: Probe }).probe = probe;
  const gains: GainNode[] = [];
  const createGain = BaseAudioContext.prototype.createGain;
  BaseAudioContext.prototype.createGain = function (this: BaseAudioContext) {
    const g = createGain.call(this);
    gains.push(g);
    return g;
  };
  const gum = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (this: MediaDevices, c?: MediaStreamConstraints) {
    const s = await gum.call(this, c);
    const track = s.getAudioTracks()[0];
    if (track) {
      const n = ++probe.captures;
      probe.captureAt = performance.now();
      probe.firstSoundAt = null;
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      an.fftSize = 1024;
      ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
      const buf = new Float32Array(1024);
      const timer = setInterval(() => {
        if (n !== probe.captures || probe.firstSoundAt !== null) { clearInterval(timer); return; }
        an.getFloatTimeDomainData(buf);
        let e = 0;
        for (const v of buf) e += v * v;
        if (10 * Math.log10(e / buf.length + 1e-12) > -60) probe.firstSoundAt = performance.now();
      }, 10);
    }
    return s;
  };
  setInterval(() => {
    const g = gains[0];
    if (g) probe.samples.push([performance.now(), g.gain.value]);
  }, 20);
}

describe('lesson screen: howling guard and device roles', () => {
  const dir = tempDir('box-e2e-howl-');
  let boxes: KioskBoxes;
  let browser: Browser;
  let page: Page;
  let wavFile: string;

  beforeAll(async () => {
    boxes = await startKioskBoxes(dir.path);
    await createLesson(boxes.hub.box.url, boxes.tp.box.identity.boxId, '分数的初步认识');
    wavFile = join(dir.path, 'speech-then-feedback.wav');
    await writeFile(wavFile, wav(concat(silence(LEAD), mixAt(speechLike(TONE_AT + TONE_FOR + 6, 11), growingTone(TONE_FOR, 2500, -35, 15), TONE_AT))));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wavFile}%noloop`] });
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, hasTouch: true, locale: 'zh-CN' });
    await context.addInitScript(installProbe);
    page = await context.newPage();
    await page.goto(boxes.tp.box.url);
    await authoriseScreen(page, TEST_PIN);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await boxes?.close();
    dir.remove();
  }, 120_000);

  const probe = () => page.evaluate(() => (window as unknown as { probe: Probe }).probe);

  async function joinLesson(): Promise<void> {
    await page.getByTestId('nav-home').tap();
    const join = page.getByTestId('join');
    await expect.poll(async () => (await join.textContent())?.trim(), { timeout: 60_000 }).toBe('加入课堂');
    await join.tap();
    await page.getByTestId('screen-lesson').waitFor();
  }

  async function leaveLesson(): Promise<void> {
    await page.getByTestId('leave').tap();
    await page.getByTestId('screen-home').waitFor();
  }

  it('turns the hub sound down within 1 s of a growing 2.5 kHz tone, says so, and restores it after', async () => {
    await joinLesson();
    await page.waitForFunction(() => (window as unknown as { probe: Probe }).probe.firstSoundAt !== null, undefined, { timeout: 30_000 });
    // Whole file played, and the guard's restore delay after it.
    await page.waitForFunction((s) => {
      const p = (window as unknown as { probe: Probe }).probe;
      return performance.now() - p.firstSoundAt! > s * 1000;
    }, TONE_AT + TONE_FOR + 5, { timeout: 60_000, polling: 200 });
    const p = await probe();
    expect(p.firstSoundAt! - p.captureAt!).toBeGreaterThan(100); // the silence→sound edge was seen
    const onset = p.firstSoundAt! + TONE_AT * 1000;
    const before = p.samples.filter(([t]) => t > p.firstSoundAt! && t < onset - 100).map(([, g]) => g);
    expect(before.length).toBeGreaterThan(10);
    const normal = before[0]!;
    expect(normal).toBeGreaterThan(0.3);
    expect(Math.min(...before), 'no false trigger on the speech before the tone').toBeGreaterThan(normal * 0.9);
    const down = p.samples.find(([t, g]) => t > onset && g < normal * 0.5);
    expect(down, 'the loudspeaker gain never went down').toBeDefined();
    const reactionMs = down![0] - onset;
    console.log(`lesson screen: loudspeaker gain halved ${Math.round(reactionMs)} ms after tone onset (normal ${normal.toFixed(2)})`);
    expect(reactionMs).toBeLessThan(1000);
    const end = onset + TONE_FOR * 1000;
    const lastLow = p.samples.filter(([, g]) => g < normal * 0.5).at(-1)!;
    expect(lastLow[0]).toBeGreaterThan(end - 500);
    // Restored after the tone stopped.
    const restoredAt = p.samples.find(([t, g]) => t > end && g > normal * 0.95);
    expect(restoredAt, 'the loudspeaker gain came back').toBeDefined();
    await expect.poll(() => page.getByTestId('howl-notice').textContent(), { timeout: 10_000 }).toBe('啸叫已停止，音量和麦克风已恢复。');
    await screenshot(page, 'kiosk-lesson-howl-restored');
    await leaveLesson();
  }, 180_000);

  it('names the unplugged camera and microphone the technician assigned, and uses the defaults', async () => {
    const pin = await pinSession(boxes.tp.box.url);
    const res = await fetch(`${boxes.tp.box.url}/api/hardware/assignments`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${pin}` },
      body: JSON.stringify({ cameras: { class: 'Logitech BRIO' }, microphone: 'USB PnP Sound Device' }),
    });
    expect(res.status).toBe(200);
    await joinLesson();
    await expect.poll(() => page.getByTestId('device-camera-fallback').textContent(), { timeout: 20_000 }).toBe('设定的摄像头没有连接，已改用另一个摄像头。请检查摄像头的线。');
    expect(await page.getByTestId('device-mic-fallback').textContent()).toBe('设定的麦克风没有连接，已改用电脑自带的麦克风。');
    // The default camera is used: the self-view shows a picture.
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="self-view"]');
      return !!v && v.videoWidth > 0 && (v.srcObject as MediaStream | null)?.getAudioTracks().length === 1;
    }, undefined, { timeout: 20_000 });
    await screenshot(page, 'kiosk-lesson-device-fallback');
    await leaveLesson();
  }, 120_000);
});
