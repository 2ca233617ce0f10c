// Latency of the live path: a canvas "camera" stamps Date.now() into each frame as black/white
// blocks; a player in the same browser (same clock) reads the stamp of every frame it presents.
// Measured in the same run: direct Chromium→Chromium, via the hub box, and via hub box + teaching-
// point relay (the real lesson path). The boxes' addition is the difference to the direct path.
// Runs against dist/: `npm run build && node bench/live-latency.mjs` (BENCH_SECONDS=N per path, default 10).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results', 'live-latency.json');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const dist = (p) => join(ROOT, 'dist', p);
const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required'];

const { generateKeyPair } = await import(dist('core/signing.js'));
const { systemClock } = await import(dist('core/clock.js'));
const { silentLogger } = await import(dist('core/log.js'));
const { makeBundle } = await import(dist('main/bundle-maker.js'));
const { applyBundle } = await import(dist('main/provisioning-store.js'));
const { parseConfig } = await import(dist('main/config-file.js'));
const { startBox } = await import(dist('main/box.js'));
const { MediaTokens } = await import(dist('media/media-tokens.js'));

const BITS = 24;
// Page code: the stamping camera, the stamp reader, and WHIP/WHEP/direct plumbing.
const PAGE = `
window.stampCamera = () => {
  const c = document.createElement('canvas'); c.width = 640; c.height = 360;
  const g = c.getContext('2d');
  setInterval(() => {
    const t = Date.now() % ${2 ** BITS};
    g.fillStyle = '#808080'; g.fillRect(0, 0, 640, 360);
    for (let i = 0; i < ${BITS}; i++) { g.fillStyle = (t >> i) & 1 ? '#fff' : '#000'; g.fillRect(8 + i * 26, 150, 24, 60); }
  }, 15);
  return c.captureStream(30);
};
window.readStamps = (video, samples) => {
  window.t0 = performance.now();
  video.requestVideoFrameCallback(() => { window.firstFrameMs = performance.now() - window.t0; });
  const c = document.createElement('canvas'); c.width = 640; c.height = 360;
  const g = c.getContext('2d', { willReadFrequently: true });
  const onFrame = () => {
    const now = Date.now();
    g.drawImage(video, 0, 0, 640, 360);
    const px = g.getImageData(0, 0, 640, 360).data;
    let t = 0;
    for (let i = 0; i < ${BITS}; i++) { const x = 8 + i * 26 + 12, y = 180; if (px[(y * 640 + x) * 4] > 128) t |= 1 << i; }
    const d = ((now % ${2 ** BITS}) - t + ${2 ** BITS}) % ${2 ** BITS};
    if (d < 5000) samples.push(d);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
};
window.gather = (pc) => new Promise((r) => { if (pc.iceGatheringState === 'complete') return r(); pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()); setTimeout(r, 3000); });
window.videoFor = (pc) => { const v = document.createElement('video'); v.muted = true; v.autoplay = true; document.body.appendChild(v); pc.ontrack = (e) => { v.srcObject = new MediaStream([e.track]); v.play().catch(() => {}); }; return v; };
`;

async function setupPage(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${url}/api/health`);
  await page.addScriptTag({ content: PAGE });
  return page;
}

async function whipPublish(page, url, token) {
  await page.evaluate(async ({ url, token }) => {
    const pc = new RTCPeerConnection();
    const [track] = window.stampCamera().getVideoTracks();
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription.sdp });
    if (res.status !== 201) throw new Error(`WHIP ${res.status}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    window.pub = pc;
  }, { url, token });
}

async function whepMeasure(page, url, token) {
  await page.evaluate(async ({ url, token }) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    const v = window.videoFor(pc);
    window.samples = [];
    window.readStamps(v, window.samples);
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription.sdp });
    if (res.status !== 201) throw new Error(`WHEP ${res.status}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    window.sub = pc;
  }, { url, token });
  return collect(page);
}

async function directMeasure(pubPage, subPage) {
  const offer = await pubPage.evaluate(async () => {
    const pc = new RTCPeerConnection();
    const [track] = window.stampCamera().getVideoTracks();
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    window.direct = pc;
    return pc.localDescription.sdp;
  });
  const answer = await subPage.evaluate(async (sdp) => {
    const pc = new RTCPeerConnection();
    const v = window.videoFor(pc);
    window.samples = [];
    window.readStamps(v, window.samples);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await window.gather(pc);
    window.sub = pc;
    return pc.localDescription.sdp;
  }, offer);
  await pubPage.evaluate(async (sdp) => window.direct.setRemoteDescription({ type: 'answer', sdp }), answer);
  return collect(subPage);
}

async function collect(page) {
  // Skip the start (first keyframe, jitter buffer settling), then sample.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await page.evaluate(() => window.samples.length)) < 30) await new Promise((r) => setTimeout(r, 250));
  await page.evaluate(() => { window.samples.length = 0; });
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const s = (await page.evaluate(() => window.samples.slice())).sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? null;
  const firstFrameMs = await page.evaluate(() => (window.firstFrameMs === undefined ? null : Math.round(window.firstFrameMs)));
  return { frames: s.length, medianMs: q(0.5), p90Ms: q(0.9), firstFrameMs };
}

async function provisionedBox(root, name, county, draft) {
  const config = parseConfig({ dataDir: join(root, name), listen: { host: '127.0.0.1', port: 0 }, trust: { countyKeys: [county.publicKey] } }, name);
  mkdirSync(config.dataDir, { recursive: true });
  applyBundle(config.dataDir, JSON.stringify(makeBundle(county, { pin: '135790', ...draft })), config.trust.countyKeys, systemClock, 0);
  return startBox({ config, log: silentLogger(), media: { agent: { tickMs: 200, timetableIntervalMs: 1000 } } });
}

const root = mkdtempSync(join(tmpdir(), 'live-latency-'));
const county = generateKeyPair();
let hub, tp, browser;
try {
  hub = await provisionedBox(root, 'hub', county, { role: 'hub', schoolId: 'hub', name: 'hub' });
  const { code } = hub.context.codes.create('tp', 1);
  tp = await provisionedBox(root, 'tp', county, { role: 'teaching-point', schoolId: 'tp', name: 'tp', hub: { url: hub.url, publicKey: hub.identity.publicKey }, enrolmentCode: code });
  await tp.context.hubLink.tick();
  const now = Date.now();
  const lessonFor = (tps) => hub.context.media.lessons.create({ subject: 'x', grade: 'x', title: 'latency', hubTeacher: 'x', teachingPoints: tps, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3600_000).toISOString() });
  const viaHub = lessonFor([]);
  const viaTp = lessonFor([tp.identity.boxId]);
  const token = MediaTokens.make();
  hub.context.media.tokens.adopt(token, 'bench');
  tp.context.media.tokens.adopt(token, 'bench');
  await tp.context.media.agent.refreshTimetable();
  await tp.context.media.agent.tick();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });

  const results = {};
  {
    const a = await setupPage(browser, hub.url);
    const b = await setupPage(browser, hub.url);
    results.direct = await directMeasure(a, b);
    await a.context().close();
    await b.context().close();
  }
  {
    const cam = await setupPage(browser, hub.url);
    await whipPublish(cam, `${hub.url}/whip/${viaHub.id}`, token);
    const player = await setupPage(browser, hub.url);
    results.hubBox = await whepMeasure(player, `${hub.url}/whep/${viaHub.id}`, token);
    await cam.context().close();
    await player.context().close();
  }
  {
    const cam = await setupPage(browser, hub.url);
    await whipPublish(cam, `${hub.url}/whip/${viaTp.id}`, token);
    const player = await setupPage(browser, tp.url);
    results.hubAndTeachingPoint = await whepMeasure(player, `${tp.url}/whep/${viaTp.id}`, token);
    await cam.context().close();
    await player.context().close();
  }
  const base = results.direct.medianMs;
  const rows = Object.entries(results).map(([path, r]) => ({ path, frames: r.frames, medianMs: r.medianMs, p90Ms: r.p90Ms, firstFrameMs: r.firstFrameMs, addedOverDirectMs: r.medianMs !== null && base !== null ? r.medianMs - base : null }));
  console.log('\nCamera-to-screen latency (stamp in the frame → frame presented), same browser clock, loopback:');
  console.table(rows);
  console.log('Goal: the two boxes add < 50 ms over direct; total < 250 ms on a LAN. firstFrameMs: player start (offer made) to first');
  console.log('presented frame; for the relay path the teaching point was already pulling the lesson (the 加入课堂 tap case, goal < 1–2 s).');
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, rows }, null, 2));
  console.log(`written ${RESULTS}`);
} finally {
  await browser?.close();
  await tp?.close();
  await hub?.close();
  rmSync(root, { recursive: true, force: true });
}
