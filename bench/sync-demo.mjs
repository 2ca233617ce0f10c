// How soon the demo's teaching point has resources: `box demo` in a child process, from its ready line to the
// first item and to every item of the seed's catalogue in the teaching point's library (and the hub's).
// Baseline in the same run: the same demo's time from ready to the seed holding its published catalogue.
// Runs against dist/: `npm run build && node bench/sync-demo.mjs`. BENCH_RUNS=N (default 1), BENCH_TIMEOUT_S (default 600).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const TIMEOUT = Number(process.env.BENCH_TIMEOUT_S ?? 600) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function total(base) {
  try {
    const r = await fetch(`${base}/api/library?limit=1`, { signal: AbortSignal.timeout(3000) });
    return r.ok ? (await r.json()).total : 0;
  } catch {
    return 0;
  }
}

async function oneRun() {
  const child = spawn(process.execPath, [join(ROOT, 'dist/main/cli.js'), 'demo'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', () => undefined);
  const exited = new Promise((r) => child.on('exit', r));
  try {
    const t0 = Date.now();
    let ready;
    while (!ready) {
      if (child.exitCode !== null) throw new Error('demo exited before ready');
      if (Date.now() - t0 > 120_000) throw new Error('demo not ready in 120 s');
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line) ready = JSON.parse(line);
      else await sleep(100);
    }
    const tReady = Date.now();
    const marks = { seedAll: null, hubFirst: null, hubAll: null, tpFirst: null, tpAll: null };
    let items = 0;
    while (Date.now() - tReady < TIMEOUT) {
      const [s, h, t] = await Promise.all([total(ready.seed), total(ready.hub), total(ready.teachingPoint)]);
      const since = (Date.now() - tReady) / 1000;
      items = Math.max(items, s);
      if (s > 0 && marks.seedAll === null) marks.seedAll = since;
      if (h > 0 && marks.hubFirst === null) marks.hubFirst = since;
      if (t > 0 && marks.tpFirst === null) marks.tpFirst = since;
      if (s > 0 && h >= s && marks.hubAll === null) marks.hubAll = since;
      if (s > 0 && t >= s && marks.tpAll === null) { marks.tpAll = since; break; }
      await sleep(250);
    }
    return { items, ...marks };
  } finally {
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
}

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const r = await oneRun();
  runs.push(r);
  const ratio = (x) => (x !== null && r.seedAll ? (x / r.seedAll).toFixed(2) : 'n/a');
  console.log(`run ${i + 1}: ${r.items} items; seconds after ready — seed published ${r.seedAll ?? 'never'} (baseline), hub first ${r.hubFirst ?? 'never'} / all ${r.hubAll ?? 'never'}, teaching point first ${r.tpFirst ?? 'never'} / all ${r.tpAll ?? 'never'} (tp all ÷ baseline ${ratio(r.tpAll)})`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/sync-demo.json'), JSON.stringify({ at: new Date().toISOString(), runs }, null, 2));
