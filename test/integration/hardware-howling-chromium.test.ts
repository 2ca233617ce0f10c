// The howling guard in real Chromium: the fake microphone plays a generated WAV once (%noloop),
// with Chromium's own echo cancellation, noise suppression and auto gain switched on.
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import ts from 'typescript';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { ROOT } from '../support/daemon.js';
import { tempDir } from '../support/boxes.js';
import { growingTone, mixAt, musicLike, silence, speechLike, concat, wav } from '../support/audio-signals.js';

const LEAD = 1.5; // seconds of silence before the first sound: marks where the file starts
const TONE_AT = 4; // seconds after the first sound
const TONE_FOR = 3;

let server: Server;
let base: string;
const dir = tempDir('hw-howl-');

/** Serves the test page, and renderer/ + core/contract/ TypeScript transpiled to browser ESM. */
async function serve(): Promise<void> {
  server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      try {
        if (url.pathname === '/' || url.pathname === '/index.html' || url.pathname === '/devices.html') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(await readFile(join(ROOT, 'test/fixtures/hardware/howling', url.pathname === '/devices.html' ? 'devices.html' : 'index.html')));
        }
        const rel = normalize(url.pathname).replace(/^\/+/, '');
        if (!/^(renderer\/howling-guard|core\/contract)\/[\w-]+\.js$/.test(rel) || extname(rel) !== '.js') throw new Error('not served');
        const source = await readFile(join(ROOT, rel.replace(/\.js$/, '.ts')), 'utf8');
        const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(out.outputText);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface PageState {
  firstSoundAt: number | null;
  readyAt: number;
  notices: Array<{ action: string; at: number; message: string; peakHz: number }>;
  speaker: Array<[number, number]>;
  send: Array<[number, number]>;
  settings: Record<string, unknown> | null;
  error: string | null;
}

async function runPage(wavFile: string, seconds: number): Promise<PageState> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wavFile}%noloop`],
  });
  try {
    const page: Page = await browser.newPage();
    await page.goto(`${base}/index.html`);
    await page.waitForFunction(() => (window as unknown as { howl: { ready?: boolean; error: string | null } }).howl?.ready || (window as unknown as { howl: { error: string | null } }).howl?.error, undefined, { timeout: 20_000 });
    const get = () => page.evaluate(() => (window as unknown as { howl: PageState }).howl);
    const first = await get();
    if (first.error) throw new Error(first.error);
    // Wait until the whole file has played (page time, from its first sound).
    await page.waitForFunction((s) => {
      const h = (window as unknown as { howl: PageState }).howl;
      return h.firstSoundAt !== null && performance.now() - h.firstSoundAt > s * 1000;
    }, seconds, { timeout: (seconds + 30) * 1000, polling: 200 });
    return await get();
  } finally {
    await browser.close();
  }
}

function levelAround(series: Array<[number, number]>, from: number, to: number): number {
  const v = series.filter(([t]) => t >= from && t <= to).map(([, d]) => d);
  return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
}

beforeAll(serve);
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  dir.remove();
});

describe('howling guard in Chromium with a fake microphone', () => {
  it('turns the loudspeaker down within 1 s of a growing 2.5 kHz tone, mutes, and restores after it stops', async () => {
    const speech = speechLike(TONE_AT + TONE_FOR + 5, 11);
    const file = join(dir.path, 'speech-then-feedback.wav');
    await writeFile(file, wav(concat(silence(LEAD), mixAt(speech, growingTone(TONE_FOR, 2500, -35, 15), TONE_AT))));
    const s = await runPage(file, TONE_AT + TONE_FOR + 5);

    expect(s.settings).toMatchObject({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
    expect(s.firstSoundAt! - s.readyAt).toBeGreaterThan(100); // the silence→sound edge was seen, so the file clock is known
    const onset = s.firstSoundAt! + TONE_AT * 1000;
    const reduce = s.notices.find((n) => n.action === 'reduce');
    expect(reduce, JSON.stringify(s.notices)).toBeDefined();
    // Nothing fired on the speech before the tone.
    expect(reduce!.at).toBeGreaterThan(onset);
    expect(reduce!.peakHz).toBeGreaterThan(2400);
    expect(reduce!.peakHz).toBeLessThan(2600);

    const baseline = levelAround(s.speaker, s.readyAt, onset - 200);
    const down = s.speaker.find(([t, d]) => t > onset && d < baseline - 6);
    expect(down, 'speaker level never went down').toBeDefined();
    const reactionMs = down![0] - onset;
    console.log(`howling guard: notice ${Math.round(reduce!.at - onset)} ms, speaker −6 dB ${Math.round(reactionMs)} ms after tone onset`);
    expect(reactionMs).toBeLessThan(1000);

    const actions = s.notices.map((n) => n.action);
    expect(actions).toEqual(['reduce', 'mute', 'restore']);
    const mute = s.notices[1]!;
    const restore = s.notices[2]!;
    expect(restore.at).toBeGreaterThan(onset + TONE_FOR * 1000);
    // While muted nothing of the room went out; after restore the speaker is back at its level.
    expect(levelAround(s.send, mute.at + 200, restore.at - 100)).toBeLessThan(-80);
    const after = levelAround(s.speaker, restore.at + 1500, restore.at + 2500);
    expect(Math.abs(after - baseline)).toBeLessThan(2);
    expect(restore.message).toBe('啸叫已停止，音量和麦克风已恢复。');
  });

  it('does not fire on music and speech', async () => {
    const file = join(dir.path, 'music.wav');
    await writeFile(file, wav(concat(silence(LEAD), musicLike(6), speechLike(4, 5))));
    const s = await runPage(file, 10);
    expect(s.error).toBeNull();
    expect(s.notices).toEqual([]);
  });
});

describe('device roles in Chromium', () => {
  it('opens the assigned camera by label, and falls back with a plain-words message when it is unplugged', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/devices.html`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      type Pick = { devices: Array<{ kind: string; label: string }>; cam: { status: string; label: string | null }; mic: { status: string }; videoLabel: string | null; audioSettings: Record<string, unknown>; camMessage: string | null };
      const pick = (assignment: unknown, role: string) =>
        page.evaluate(([a, r]) => (window as unknown as { pick(a: unknown, r: string): Promise<Pick> }).pick(a, r as string), [assignment, role] as const);

      const first = await pick({ cameras: {}, microphone: null }, 'teacher');
      const camLabel = first.devices.find((d) => d.kind === 'videoinput')!.label;
      const micLabel = first.devices.find((d) => d.kind === 'audioinput' && !/^default/i.test(d.label))!.label;

      const assigned = await pick({ cameras: { teacher: camLabel }, microphone: micLabel }, 'teacher');
      expect(assigned.cam).toMatchObject({ status: 'assigned', label: camLabel });
      expect(assigned.mic).toMatchObject({ status: 'assigned' });
      expect(assigned.videoLabel).toBe(camLabel);
      expect(assigned.audioSettings).toMatchObject({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });

      const unplugged = await pick({ cameras: { teacher: 'Logitech BRIO' }, microphone: 'USB PnP Sound Device' }, 'teacher');
      expect(unplugged.cam.status).toBe('fallback');
      expect(unplugged.videoLabel).toBe(unplugged.cam.label);
      expect(unplugged.camMessage).toBe('设定的摄像头没有连接，已改用另一个摄像头。请检查摄像头的线。');
      expect(unplugged.mic.status).toBe('fallback');
    } finally {
      await browser.close();
    }
  });
});
