// Cold start of the box daemon (`box start`, role hub) to its first 200 from /api/health, and its
// resident memory right after, against a bare node:http server measured in the same run.
// Runs against dist/: use `npm run bench` (builds first) or `npm run build && node bench/cold-start.mjs`.
// BENCH_RUNS=N sets the number of measured runs (default 7).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'main', 'cli.js');
const RESULTS = join(ROOT, 'bench', 'results', 'cold-start.json');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const START_TIMEOUT_MS = 30_000;

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run bench\` (it builds first) or \`npm run build\`.`);
  process.exit(1);
}
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`BENCH_RUNS: got "${process.env.BENCH_RUNS}", expected a whole number ≥ 1`);
  process.exit(1);
}

const { generateKeyPair } = await import(join(ROOT, 'dist', 'core', 'signing.js'));
const { systemClock } = await import(join(ROOT, 'dist', 'core', 'clock.js'));
const { makeBundle } = await import(join(ROOT, 'dist', 'main', 'bundle-maker.js'));
const { applyBundle } = await import(join(ROOT, 'dist', 'main', 'provisioning-store.js'));

const county = generateKeyPair();
const scratch = mkdtempSync(join(tmpdir(), 'box-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One GET without keep-alive; resolves with the status code, rejects while nothing listens. */
function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Spawns `node ...args`, polls GET path every 2 ms until 200, then reads its RSS. */
async function coldStart(args, port, path) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  let done = false;
  exited.then(() => { done = true; });
  try {
    for (;;) {
      if (done) throw new Error(`exited before answering: ${stderr.trim()}`);
      if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`no 200 from ${path} within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`);
      const status = await get(port, path).catch(() => undefined);
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const ms = performance.now() - t0;
    const rss = rssKiB(child.pid);
    const s0 = performance.now();
    child.kill('SIGTERM');
    const exit = await exited;
    return { ms, rssKiB: rss, stopMs: performance.now() - s0, exit };
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
}

/** A fresh data folder provisioned as a hub, and its config file. */
async function freshHub(i) {
  const dir = join(scratch, `run-${i}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  const bundle = makeBundle(county, { role: 'hub', schoolId: `bench-${i}`, name: '基准中心校', pin: '135790' });
  applyBundle(dataDir, JSON.stringify(bundle), [county.publicKey], systemClock, 0);
  const port = await freePort();
  const config = join(dir, 'box.json');
  writeFileSync(config, JSON.stringify({ dataDir, listen: { host: '127.0.0.1', port }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } }));
  return { args: [CLI, 'start', '--config', config], port };
}

async function baseline() {
  const port = await freePort();
  const script = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"status":"ok"}'); }).listen(${port}, '127.0.0.1');`;
  return coldStart(['-e', script], port, '/api/health');
}

async function boxPair(i) {
  const hub = await freshHub(i);
  const first = await coldStart(hub.args, hub.port, '/api/health');
  const warm = await coldStart(hub.args, hub.port, '/api/health');
  return { first, warm };
}

// One unrecorded round first, so every measured run finds node, dist/ and node_modules in the page cache.
await baseline();
await boxPair('warmup');

const samples = { baseline: [], firstBoot: [], warmRestart: [] };
for (let i = 0; i < RUNS; i++) {
  samples.baseline.push(await baseline());
  const { first, warm } = await boxPair(i);
  samples.firstBoot.push(first);
  samples.warmRestart.push(warm);
  process.stderr.write(`run ${i + 1}/${RUNS}: baseline ${samples.baseline.at(-1).ms.toFixed(0)} ms, first boot ${first.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms\n`);
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(median), min: r(s[0]), max: r(s.at(-1)) };
}

function summarise(runs) {
  return {
    coldStartMs: { ...stats(runs.map((r) => r.ms)), samples: runs.map((r) => Math.round(r.ms * 10) / 10) },
    rssMiB: { ...stats(runs.map((r) => r.rssKiB / 1024)), samples: runs.map((r) => Math.round((r.rssKiB / 1024) * 10) / 10) },
    stopMs: stats(runs.map((r) => r.stopMs)),
    exitCodes: [...new Set(runs.map((r) => r.exit))],
  };
}

const result = {
  bench: 'cold-start',
  at: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  runs: RUNS,
  what: 'spawn `node dist/main/cli.js start` (role hub) → first 200 from GET /api/health; VmRSS right after; SIGTERM → exit',
  baseline: summarise(samples.baseline),
  firstBoot: summarise(samples.firstBoot),
  warmRestart: summarise(samples.warmRestart),
};
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
result.ratios = {
  firstBoot: { coldStart: ratio(result.firstBoot.coldStartMs.median, result.baseline.coldStartMs.median), rss: ratio(result.firstBoot.rssMiB.median, result.baseline.rssMiB.median) },
  warmRestart: { coldStart: ratio(result.warmRestart.coldStartMs.median, result.baseline.coldStartMs.median), rss: ratio(result.warmRestart.rssMiB.median, result.baseline.rssMiB.median) },
};

const rows = [
  ['', 'start median', 'min', 'max', '× base', 'RSS median', 'min', 'max', '× base', 'stop median'],
  ...[
    ['baseline node:http', result.baseline, { coldStart: 1, rss: 1 }],
    ['box hub, first boot', result.firstBoot, result.ratios.firstBoot],
    ['box hub, warm restart', result.warmRestart, result.ratios.warmRestart],
  ].map(([name, s, r]) => [
    name,
    `${s.coldStartMs.median} ms`, `${s.coldStartMs.min}`, `${s.coldStartMs.max}`, `${r.coldStart.toFixed(2)}`,
    `${s.rssMiB.median} MiB`, `${s.rssMiB.min}`, `${s.rssMiB.max}`, `${r.rss.toFixed(2)}`,
    `${s.stopMs.median} ms`,
  ]),
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log(`\ncold start to first 200 from /api/health — ${RUNS} runs, node ${process.version}, ${result.platform}, ${result.cpu}`);
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows.slice(1)) console.log(line(row));

mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
console.log(`\nwritten ${RESULTS}`);
