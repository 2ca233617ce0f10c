// Kiosk start to an interactive home screen (ms) and the renderer's memory, on the embedded demo,
// in Debian Chromium at 1920×1080. Baseline in the same run and browser: loading the box's plain
// /api/health JSON (the daemon's answer with no UI at all).
// Cold: a fresh browser profile (no cache, no service worker). Warm: a reload with the shell precached.
// Runs against dist/ and renderer/dist/: `npm run bench` builds both first. BENCH_RUNS=N (default 5).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results', 'kiosk-start.json');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
for (const f of [join(ROOT, 'dist', 'main', 'demo', 'run.js'), join(ROOT, 'renderer', 'dist', 'index.html')]) {
  if (!existsSync(f)) {
    console.error(`${f} is missing: run \`npm run bench\` (it builds first) or \`npm run build\`.`);
    process.exit(1);
  }
}
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`BENCH_RUNS: got "${process.env.BENCH_RUNS}", expected a whole number ≥ 1`);
  process.exit(1);
}

const { startDemo } = await import(join(ROOT, 'dist', 'main', 'demo', 'run.js'));
const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const MB = 1024 * 1024;

function rssOf(pid) {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024; } catch { return 0; }
}

const demo = await startDemo();
const tp = demo.teachingPoint.url;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true });
try {
  // The screen is set up for lessons the way a technician does it (a media token), so home shows the timetable.
  const pin = await (await fetch(`${tp}/api/settings/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: demo.ready.pin }) })).json();
  const tok = await (await fetch(`${tp}/api/admin/media-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${pin.token}` }, body: JSON.stringify({ label: 'bench' }) })).json();
  const stored = JSON.stringify({ token: tok.token, id: tok.id });

  const baseline = [];
  const cold = [];
  const warm = [];
  let memory = null;
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, hasTouch: true });
    await ctx.addInitScript((s) => { try { localStorage.setItem('box.mediaToken', s); } catch { /* about:blank */ } }, stored);
    const page = await ctx.newPage();
    let t = performance.now();
    await page.goto(`${tp}/api/health`, { waitUntil: 'load' });
    baseline.push(performance.now() - t);

    // Interactive: the app has mounted, the daemon answered, and the big join button is on screen.
    const interactive = async () => {
      await page.locator('[data-testid="app"][data-state="ready"] [data-testid="screen-home"] [data-testid="join"]').waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="timetable"], [data-testid="no-lessons"]').first().waitFor({ timeout: 30_000 });
    };
    t = performance.now();
    await page.goto(tp, { waitUntil: 'commit' });
    await interactive();
    cold.push(performance.now() - t);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });

    t = performance.now();
    await page.reload({ waitUntil: 'commit' });
    await interactive();
    warm.push(performance.now() - t);

    if (i === RUNS - 1) {
      await page.waitForTimeout(2000);
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Performance.enable');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
      const bcdp = await browser.newBrowserCDPSession();
      const info = await bcdp.send('SystemInfo.getProcessInfo');
      const renderers = info.processInfo.filter((p) => p.type === 'renderer').map((p) => rssOf(p.id));
      memory = { jsHeapUsedMB: m.JSHeapUsedSize / MB, jsHeapTotalMB: m.JSHeapTotalSize / MB, domNodes: m.Nodes, rendererRssMB: Math.max(...renderers) / MB, renderers: renderers.length };
    }
    await ctx.close();
  }

  const out = {
    runs: RUNS,
    baselineHealthJsonMs: median(baseline),
    coldInteractiveHomeMs: median(cold),
    warmInteractiveHomeMs: median(warm),
    coldRatioToBaseline: median(cold) / median(baseline),
    warmRatioToBaseline: median(warm) / median(baseline),
    memory,
    samples: { baseline, cold, warm },
    measuredAt: new Date().toISOString(),
  };
  console.log('kiosk start to interactive home (demo teaching point, Debian Chromium 1920×1080), median of', RUNS);
  console.table({
    'baseline: /api/health JSON page': { ms: out.baselineHealthJsonMs.toFixed(0), 'x baseline': '1.0' },
    'cold: fresh profile → home with 加入课堂': { ms: out.coldInteractiveHomeMs.toFixed(0), 'x baseline': out.coldRatioToBaseline.toFixed(1) },
    'warm: reload, shell from service worker': { ms: out.warmInteractiveHomeMs.toFixed(0), 'x baseline': out.warmRatioToBaseline.toFixed(1) },
  });
  console.log(`renderer memory on home: JS heap used ${memory.jsHeapUsedMB.toFixed(1)} MB (total ${memory.jsHeapTotalMB.toFixed(1)} MB), ` +
    `DOM nodes ${memory.domNodes}, renderer process RSS ${memory.rendererRssMB.toFixed(0)} MB`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2));
} finally {
  await browser.close();
  await demo.close();
}
