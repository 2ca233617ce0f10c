// Latency of the live path: a canvas "camera" stamps Date.now() into each frame as black/white
// blocks; a player in the same browser (same clock) reads the stamp of every frame it presents.
// Measured in the same run, BENCH_SUBS (default 5) fresh subscriptions per path: direct Chromium→Chromium,
// via the hub box, and via hub box + teaching-point relay (the real lesson path). Per subscription:
// first picture (POST /whep → first decoded frame presented) with where the time went (answer, ICE,
// DTLS, keyframe request → keyframe at the box → keyframe out → frame), then BENCH_SECONDS (default 3)
// of glass-to-glass samples. The boxes' addition is the difference to the direct path. A fourth row: the
// teacher starts (WHIP POST) while a teaching-point screen already waits on the lesson.
// Runs against dist/: `npm run build && node bench/live-latency.mjs`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results', 'live-latency.json');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SUBS = Number(process.env.BENCH_SUBS ?? 5);
if (!(SECONDS > 0) || !(SUBS >= 1)) throw new Error('BENCH_SECONDS must be > 0 and BENCH_SUBS ≥ 1');
const dist = (p) => join(ROOT, 'dist', p);
// The same Chromium flags as the live tests (test/support/browser.ts), minus the fake devices.
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
const { Sfu } = await import(dist('media/sfu.js'));
const { IngestPeer } = await import(dist('media/ingest.js'));
const { EgressPeer } = await import(dist('media/egress.js'));

// Box-side timeline: the boxes run in this process, so the media classes are wrapped to note when a
// keyframe is asked for, arrives and leaves. Epoch ms with sub-ms precision, the same clock as the page's.
const now = () => performance.timeOrigin + performance.now();
const boxOf = new Map(); // Sfu → 'hub' | 'tp'
let events = [];
const note = (box, what) => events.push({ t: now(), box, what });
{
  const newIngest = Sfu.prototype.newIngest;
  Sfu.prototype.newIngest = function (pc) {
    const ingest = newIngest.call(this, pc);
    ingest.benchBox = boxOf.get(this);
    return ingest;
  };
  // Marks when a WHIP/WHEP offer reaches the SFU and when its answer leaves.
  for (const [method, kind] of [['publish', 'whip'], ['subscribe', 'whep']]) {
    const original = Sfu.prototype[method];
    Sfu.prototype[method] = async function (...a) {
      note(boxOf.get(this), `${kind} POST in`);
      try {
        return await original.apply(this, a);
      } finally {
        note(boxOf.get(this), `${kind} answer out`);
      }
    };
  }
  const addSubscriber = Sfu.prototype.addSubscriber;
  Sfu.prototype.addSubscriber = function (room, peer) {
    const box = boxOf.get(this);
    peer.benchBox = box;
    peer.benchRelay = peer.linkOf !== undefined;
    addSubscriber.call(this, room, peer);
    const need = peer.onKeyframeNeeded;
    peer.onKeyframeNeeded = (layer) => {
      note(box, `keyframe needed by ${peer.benchRelay ? 'relay link' : 'subscriber'}`);
      need(layer);
    };
    const video = peer.pc.getTransceivers().find((t) => t.kind === 'video');
    video?.sender.onReady.subscribe(() => note(box, `egress DTLS/SRTP up (${peer.benchRelay ? 'relay link' : 'subscriber'})`));
  };
  const request = IngestPeer.prototype.requestKeyframe;
  IngestPeer.prototype.requestKeyframe = function (layer) {
    const before = this.plisSent;
    request.call(this, layer);
    note(this.benchBox, this.plisSent > before ? 'PLI sent upstream' : 'PLI held (rate limit / no SSRC yet)');
  };
  const arrived = IngestPeer.prototype.keyframeArrived;
  IngestPeer.prototype.keyframeArrived = function (layer) {
    note(this.benchBox, 'keyframe in');
    arrived.call(this, layer);
  };
  const forward = EgressPeer.prototype.forwardVideo;
  EgressPeer.prototype.forwardVideo = function (layer, available, pkt, key, ...rest) {
    const before = this.sentVideo;
    forward.call(this, layer, available, pkt, key, ...rest);
    if (this.sentVideo > before && (key || before === 0)) note(this.benchBox, `${key ? 'keyframe' : 'first video'} out to ${this.benchRelay ? 'relay link' : 'subscriber'}`);
  };
}

const BITS = 24;
// Page code: the stamping camera, the stamp reader, the subscriber timeline, WHIP/WHEP/direct plumbing.
const PAGE = `
window.camTrack = () => {
  if (window.cam) return window.cam;
  const c = document.createElement('canvas'); c.width = 640; c.height = 360;
  const g = c.getContext('2d');
  setInterval(() => {
    const t = Date.now() % ${2 ** BITS};
    g.fillStyle = '#808080'; g.fillRect(0, 0, 640, 360);
    for (let i = 0; i < ${BITS}; i++) { g.fillStyle = (t >> i) & 1 ? '#fff' : '#000'; g.fillRect(8 + i * 26, 150, 24, 60); }
  }, 15);
  return (window.cam = c.captureStream(30).getVideoTracks()[0]);
};
const at = () => performance.timeOrigin + performance.now();
// One subscription's timeline (epoch ms) and its stamp samples; the <video> reads stamps from its first frame on.
window.watch = (pc) => {
  const tl = {}; const mark = (k, t = at()) => { tl[k] ??= t; };
  window.tl = tl; window.samples = [];
  pc.addEventListener('iceconnectionstatechange', () => { if (pc.iceConnectionState === 'checking') mark('iceChecking'); if (pc.iceConnectionState === 'connected') mark('iceConnected'); });
  pc.addEventListener('connectionstatechange', () => { if (pc.connectionState === 'connected') mark('dtlsConnected'); });
  const v = document.createElement('video'); v.muted = true; v.autoplay = true; document.body.appendChild(v); window.video = v;
  pc.ontrack = (e) => { mark('track'); v.srcObject = new MediaStream([e.track]); v.play().catch(() => {}); };
  // Packet arrival from the stats (polled: 20 ms resolution), until the first frame is decoded.
  const poll = setInterval(async () => {
    const r = await pc.getStats();
    r.forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      if (s.packetsReceived > 0) mark('firstPacketSeen');
      if (s.framesDecoded > 0) { mark('firstDecodedSeen'); clearInterval(poll); }
      tl.pliSentByBrowser = s.pliCount ?? 0;
    });
  }, 20);
  setTimeout(() => clearInterval(poll), 15000);
  const c = document.createElement('canvas'); c.width = 640; c.height = 360;
  const g = c.getContext('2d', { willReadFrequently: true });
  const onFrame = (_, meta) => {
    const t = at();
    if (tl.firstFrame === undefined) {
      mark('firstFrame', t);
      if (meta.receiveTime) mark('firstFrameReceived', performance.timeOrigin + meta.receiveTime);
    }
    const wall = Date.now();
    g.drawImage(v, 0, 0, 640, 360);
    const px = g.getImageData(0, 0, 640, 360).data;
    let s = 0;
    for (let i = 0; i < ${BITS}; i++) { const x = 8 + i * 26 + 12, y = 180; if (px[(y * 640 + x) * 4] > 128) s |= 1 << i; }
    const d = ((wall % ${2 ** BITS}) - s + ${2 ** BITS}) % ${2 ** BITS};
    if (d < 5000) window.samples.push(d);
    v.requestVideoFrameCallback(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);
  return tl;
};
window.unwatch = () => { window.sub?.close(); window.video?.remove(); window.sub = undefined; };
window.gather = (pc) => new Promise((r) => { if (pc.iceGatheringState === 'complete') return r(); pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()); setTimeout(r, 3000); });
`;

async function setupPage(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${url}/api/health`);
  await page.addScriptTag({ content: PAGE });
  return page;
}

/** Returns the session's Location and when the POST left (epoch ms, the page's clock). */
async function whipPublish(page, url, token) {
  return page.evaluate(async ({ url, token }) => {
    window.pub?.close();
    const pc = new RTCPeerConnection();
    pc.addTransceiver(window.camTrack(), { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    const t0 = performance.timeOrigin + performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription.sdp });
    if (res.status !== 201) throw new Error(`WHIP ${res.status}: ${await res.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    window.pub = pc;
    return { t0, location: new URL(res.headers.get('location'), url).toString() };
  }, { url, token });
}

/** One WHEP subscription: t0 is the POST (offer made and gathered before, as a player does). */
async function whepSubscribe(page, url, token) {
  return page.evaluate(async ({ url, token }) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    window.sub = pc;
    const tl = window.watch(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    tl.t0 = performance.timeOrigin + performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${body}`);
    tl.answer = performance.timeOrigin + performance.now();
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    tl.remoteSet = performance.timeOrigin + performance.now();
    return new URL(res.headers.get('location'), url).toString();
  }, { url, token });
}

/** The direct baseline: a fresh publisher connection per subscription; t0 is the offer reaching the subscriber. */
async function directSubscribe(pubPage, subPage) {
  const offer = await pubPage.evaluate(async () => {
    window.direct?.close();
    const pc = new RTCPeerConnection();
    pc.addTransceiver(window.camTrack(), { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await window.gather(pc);
    window.direct = pc;
    return pc.localDescription.sdp;
  });
  const answer = await subPage.evaluate(async (sdp) => {
    const pc = new RTCPeerConnection();
    window.sub = pc;
    const tl = window.watch(pc);
    tl.t0 = performance.timeOrigin + performance.now();
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await window.gather(pc);
    tl.answer = performance.timeOrigin + performance.now();
    return pc.localDescription.sdp;
  }, offer);
  await pubPage.evaluate(async (sdp) => window.direct.setRemoteDescription({ type: 'answer', sdp }), answer);
  await subPage.evaluate(() => { window.tl.remoteSet = performance.timeOrigin + performance.now(); });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits for the first frame, notes the timeline, then samples glass-to-glass for SECONDS. */
async function measure(page, subscribe) {
  events = [];
  await subscribe();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await page.evaluate(() => window.tl.firstFrame === undefined || window.tl.firstDecodedSeen === undefined))) await sleep(50);
  const tl = await page.evaluate(() => ({ ...window.tl }));
  const boxEvents = events.filter((e) => e.t >= tl.t0 - 5 && (tl.firstFrame === undefined || e.t <= tl.firstFrame + 5));
  // Skip the start (jitter buffer settling after the first keyframe), then sample.
  while (Date.now() < deadline && (await page.evaluate(() => window.samples.length)) < 30) await sleep(100);
  await page.evaluate(() => { window.samples.length = 0; });
  await sleep(SECONDS * 1000);
  const samples = await page.evaluate(() => window.samples.slice());
  const rel = (t) => (t === undefined ? null : Math.round(t - tl.t0));
  const timeline = Object.fromEntries(Object.entries(tl).filter(([k]) => k !== 't0' && k !== 'pliSentByBrowser').map(([k, v]) => [k, rel(v)]).sort((a, b) => (a[1] ?? 1e9) - (b[1] ?? 1e9)));
  return {
    firstFrameMs: rel(tl.firstFrame), timeline, pliSentByBrowser: tl.pliSentByBrowser ?? 0,
    box: boxEvents.map((e) => `${rel(e.t)} ${e.box}: ${e.what}`),
    frames: samples.length, latencyMs: median(samples), samples,
  };
}

function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function provisionedBox(root, name, county, draft) {
  const config = parseConfig({ dataDir: join(root, name), listen: { host: '127.0.0.1', port: 0 }, trust: { countyKeys: [county.publicKey] } }, name);
  mkdirSync(config.dataDir, { recursive: true });
  applyBundle(config.dataDir, JSON.stringify(makeBundle(county, { pin: '135790', ...draft })), config.trust.countyKeys, systemClock, 0);
  return startBox({ config, log: silentLogger(), media: { agent: { tickMs: 200, timetableIntervalMs: 1000 } } });
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const root = mkdtempSync(join(tmpdir(), 'live-latency-'));
const county = generateKeyPair();
const loadBefore = loadavg();
let hub, tp, browser;
try {
  hub = await provisionedBox(root, 'hub', county, { role: 'hub', schoolId: 'hub', name: 'hub' });
  boxOf.set(hub.context.media.sfu, 'hub');
  const { code } = hub.context.codes.create('tp', 1);
  tp = await provisionedBox(root, 'tp', county, { role: 'teaching-point', schoolId: 'tp', name: 'tp', hub: { url: hub.url, publicKey: hub.identity.publicKey }, enrolmentCode: code });
  boxOf.set(tp.context.media.sfu, 'tp');
  await tp.context.hubLink.tick();
  const t = Date.now();
  const lessonFor = (tps) => hub.context.media.lessons.create({ subject: 'x', grade: 'x', title: 'latency', hubTeacher: 'x', teachingPoints: tps, startsAt: new Date(t - 60_000).toISOString(), endsAt: new Date(t + 3600_000).toISOString() });
  const viaHub = lessonFor([]);
  const viaTp = lessonFor([tp.identity.boxId]);
  const teacherLate = lessonFor([tp.identity.boxId]);
  const token = MediaTokens.make();
  hub.context.media.tokens.adopt(token, 'bench', 'console');
  tp.context.media.tokens.adopt(token, 'bench', 'console');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });

  const results = { direct: [], hubBox: [], hubAndTeachingPoint: [], teacherStarts: [] };
  const whepPath = async (path, boxUrl, lesson, before) => {
    const cam = await setupPage(browser, hub.url);
    await whipPublish(cam, `${hub.url}/whip/${lesson.id}`, token);
    await before?.();
    const player = await setupPage(browser, boxUrl);
    for (let i = 0; i < SUBS; i++) {
      let location;
      results[path].push(await measure(player, async () => { location = await whepSubscribe(player, `${boxUrl}/whep/${lesson.id}`, token); }));
      await player.evaluate(() => window.unwatch());
      await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      await sleep(500);
    }
    await cam.context().close();
    await player.context().close();
  };
  {
    const a = await setupPage(browser, hub.url);
    const b = await setupPage(browser, hub.url);
    for (let i = 0; i < SUBS; i++) {
      results.direct.push(await measure(b, () => directSubscribe(a, b)));
      await b.evaluate(() => window.unwatch());
      await sleep(500);
    }
    await a.context().close();
    await b.context().close();
  }
  await whepPath('hubBox', hub.url, viaHub);
  await whepPath('hubAndTeachingPoint', tp.url, viaTp, async () => {
    // As the live tests do: the teaching point pulls the lesson by itself (its agent); the screens
    // subscribe once that pull is up and the hub's picture is flowing into the teaching point's room.
    await tp.context.media.agent.refreshTimetable();
    await waitFor('the teaching point pull', () => tp.context.media.agent.status().find((s) => s.lessonId === viaTp.id)?.pull.state === 'connected', 30_000);
    await waitFor('media through the pull', () => Date.now() - (tp.context.media.sfu.findRoom(viaTp.id)?.publisher?.lastPacketAt ?? 0) < 300, 30_000);
  });

  // The teacher starts (or comes back) while a teaching-point screen already plays the lesson: t0 is the
  // hub camera's WHIP POST, the frame is the teaching point's. Each round after the first finds a fresh
  // pull: the teaching point re-pulls after 5 s without media (RemoteLink silenceMs).
  {
    const pullOf = () => tp.context.media.agent.status().find((s) => s.lessonId === teacherLate.id)?.pull.state;
    const cam = await setupPage(browser, hub.url);
    const player = await setupPage(browser, tp.url);
    for (let i = 0; i < SUBS; i++) {
      await waitFor('a teaching-point pull without media', () => pullOf() === 'connected' && tp.context.media.sfu.findRoom(teacherLate.id)?.publisher?.lastPacketAt === 0, 30_000);
      let played, published;
      results.teacherStarts.push(await measure(player, async () => {
        played = await whepSubscribe(player, `${tp.url}/whep/${teacherLate.id}`, token);
        await sleep(1000); // the screen is up and waiting
        published = await whipPublish(cam, `${hub.url}/whip/${teacherLate.id}`, token);
        await player.evaluate((t0) => { window.tl.t0 = t0; }, published.t0);
      }));
      await player.evaluate(() => window.unwatch());
      await cam.evaluate(() => window.pub.close());
      for (const loc of [played, published.location]) await fetch(loc, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    }
    await cam.context().close();
    await player.context().close();
  }

  const summary = (runs) => {
    const ff = runs.map((r) => r.firstFrameMs).filter((x) => x !== null);
    const all = runs.flatMap((r) => r.samples);
    return {
      subs: runs.length, shown: ff.length, firstFrameMedianMs: median(ff), firstFrameMinMs: ff.length ? Math.min(...ff) : null, firstFrameMaxMs: ff.length ? Math.max(...ff) : null,
      frames: all.length, latencyMedianMs: median(all), latencyP90Ms: quantile(all, 0.9),
      perSubLatencyMs: runs.map((r) => r.latencyMs),
    };
  };
  const sums = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v)]));
  const base = sums.direct;
  const rows = Object.entries(sums).map(([path, s]) => ({
    path, subs: `${s.shown}/${s.subs}`,
    'first frame med': s.firstFrameMedianMs, min: s.firstFrameMinMs, max: s.firstFrameMaxMs,
    'ff ÷ direct': s.firstFrameMedianMs !== null && base.firstFrameMedianMs ? Math.round((s.firstFrameMedianMs / base.firstFrameMedianMs) * 10) / 10 : null,
    frames: s.frames, 'g2g med': s.latencyMedianMs, 'g2g p90': s.latencyP90Ms,
    'g2g − direct': s.latencyMedianMs !== null && base.latencyMedianMs !== null ? s.latencyMedianMs - base.latencyMedianMs : null,
  }));
  for (const [path, runs] of Object.entries(results)) {
    console.log(`\n${path}: per subscription, ms after t0 (WHEP: the POST; direct: the offer reaching the player; teacherStarts: the camera's WHIP POST)`);
    runs.forEach((r, i) => {
      console.log(`  #${i + 1} first frame ${r.firstFrameMs} ms, g2g ${r.latencyMs} ms, PLIs from browser ${r.pliSentByBrowser}; page: ${Object.entries(r.timeline).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (r.box.length) console.log(`     boxes: ${r.box.join(' | ')}`);
    });
  }
  console.log(`\nFirst picture (t0 → first decoded frame presented, ${SUBS} subscriptions per path) and glass-to-glass latency`);
  console.log(`(stamp in the frame → frame presented, same browser clock, loopback, ${SECONDS} s per subscription):`);
  console.table(rows);
  const loadAfter = loadavg();
  console.log(`Goal: the two boxes add < 50 ms over direct, total < 250 ms on a LAN; first picture < 1 s. load avg before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, subs: SUBS, loadBefore, loadAfter, rows, summary: sums, runs: results }, null, 2));
  console.log(`written ${RESULTS}`);
} finally {
  await browser?.close();
  await tp?.close();
  await hub?.close();
  rmSync(root, { recursive: true, force: true });
}
