// The library at catalogue scale: memory of checking and storing a 100,000-item signed manifest, and
// FTS search latency (p50/p95) over it — Chinese trigram queries and the 1–2 character LIKE fallback, with
// every item held and then on a box holding 1 item in 15 — against a plain indexed lookup by id measured in
// the same run.
// Runs against dist/: `npm run bench` or `npm run build && node bench/sync-catalog.mjs`. SYNC_ITEMS=N (default 100000).
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.SYNC_ITEMS ?? 100_000);
const { openDatabase } = await import(join(ROOT, 'dist/core/store/database.js'));
const { silentLogger } = await import(join(ROOT, 'dist/core/log.js'));
const { systemClock } = await import(join(ROOT, 'dist/core/clock.js'));
const { generateKeyPair } = await import(join(ROOT, 'dist/core/signing.js'));
const { signManifest, checkManifest, serializeManifest } = await import(join(ROOT, 'dist/sync/manifest.js'));
const { spawnSync } = await import('node:child_process');
const { CatalogStore } = await import(join(ROOT, 'dist/sync/catalog-store.js'));

const mb = (b) => Math.round(b / 1024 / 1024);
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const topics = ['分数的初步认识', '万以内的加法和减法', '长方形和正方形', '古诗三首', '秋天的雨', '认识人民币', '观察物体', '角的初步认识', '小数的意义', '平行四边形'];
const subjects = ['数学', '语文', '英语', '科学', '道德与法治'];

const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
try {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const publisher = generateKeyPair();
  const items = Array.from({ length: N }, (_, i) => ({
    id: `item-${i}`, title: `${topics[i % topics.length]} 第${i}课`, subject: subjects[i % subjects.length], grade: 1 + (i % 6), edition: '人教版',
    unit: `第${1 + (i % 8)}单元`, kind: 'courseware-pdf', size: 1000 + i, infohash: (i.toString(16).padStart(8, '0')).repeat(5), sha256: 'a'.repeat(64),
    fileName: `item-${i}.pdf`, webSeeds: [], tags: [subjects[i % subjects.length]],
  }));
  const t0 = performance.now();
  const signed = signManifest(publisher, { format: 'tpbox-catalog/1', publisher: 'bench', version: 1, issuedAt: new Date().toISOString(), expires: new Date(Date.now() + 86_400_000).toISOString(), pieceLength: 262144, items });
  const raw = Buffer.from(serializeManifest(signed));
  const signMs = performance.now() - t0;
  // Intake memory is measured in a fresh process (this one holds the generated items): peak RSS of checking and
  // storing the manifest as `box publish` writes it (canonical) and as re-serialised by someone else (not canonical).
  writeFileSync(join(dir, 'manifest.json'), raw);
  writeFileSync(join(dir, 'manifest-reserialised.json'), JSON.stringify(signed, null, 1));
  const intake = (file) => {
    const code = `
      const { readFileSync } = await import('node:fs');
      const { openDatabase } = await import(${JSON.stringify(join(ROOT, 'dist/core/store/database.js'))});
      const { silentLogger } = await import(${JSON.stringify(join(ROOT, 'dist/core/log.js'))});
      const { systemClock } = await import(${JSON.stringify(join(ROOT, 'dist/core/clock.js'))});
      const { checkManifest } = await import(${JSON.stringify(join(ROOT, 'dist/sync/manifest.js'))});
      const { CatalogStore } = await import(${JSON.stringify(join(ROOT, 'dist/sync/catalog-store.js'))});
      const db = openDatabase(${JSON.stringify(join(dir, 'intake.sqlite'))} + Math.random(), silentLogger());
      const store = new CatalogStore(db, systemClock, silentLogger());
      const before = process.memoryUsage().rss;
      const t = performance.now();
      const raw = readFileSync(${JSON.stringify(file)});
      store.acceptManifest(checkManifest(raw, { publisherKeys: [${JSON.stringify(publisher.publicKey)}], clock: systemClock, toleranceMs: 0, highestVersion: 0 }), 'accepted/manifest-v1.json', null);
      console.log(JSON.stringify({ ms: performance.now() - t, beforeMb: before / 1048576, peakMb: process.resourceUsage().maxRSS / 1024 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const canonicalIntake = intake(join(dir, 'manifest.json'));
  const reserialisedIntake = intake(join(dir, 'manifest-reserialised.json'));
  const db = openDatabase(join(dir, 'box.sqlite'), silentLogger());
  const store = new CatalogStore(db, systemClock, silentLogger());
  const t1 = performance.now();
  const manifest = checkManifest(raw, { publisherKeys: [publisher.publicKey], clock: systemClock, toleranceMs: 0, highestVersion: 0 });
  const verifyMs = performance.now() - t1;
  const t2 = performance.now();
  store.acceptManifest(manifest, 'accepted/manifest-v1.json', null);
  const acceptMs = performance.now() - t2;
  const t3 = performance.now();
  db.transaction(() => { for (const it of items) { store.startLocal(it.infohash, it.size); store.markComplete(it.infohash); } })();
  const completeMs = performance.now() - t3;
  const rssPeak = process.memoryUsage().rss;

  const timeIt = (fn, runs = 200) => { const xs = []; for (let i = 0; i < runs; i++) { const s = performance.now(); fn(i); xs.push(performance.now() - s); } return xs; };
  const baseline = timeIt((i) => store.item(`item-${(i * 7919) % N}`));
  const rows = [
    ['lookup by id (baseline)', baseline],
    ['FTS trigram "分数的初步"', timeIt(() => store.library({ q: '分数的初步', limit: 50, offset: 0 }))],
    ['FTS trigram "秋天的雨"', timeIt(() => store.library({ q: '秋天的雨', limit: 50, offset: 0 }))],
    ['LIKE fallback "分数" (2 chars)', timeIt(() => store.library({ q: '分数', limit: 50, offset: 0 }), 50)],
    ['browse grade 3 数学', timeIt(() => store.library({ grade: 3, subject: '数学', limit: 50, offset: 0 }), 50)],
    ['2 chars, no match "几何"', timeIt(() => store.library({ q: '几何', limit: 50, offset: 0 }), 50)],
  ];
  // A teaching point holds only what it subscribes to: here 语文 of grades 3–4 (1 item in 15). Its searches
  // must not walk the catalogue's matches it does not hold (分数… is 数学: no held match at all).
  const subset = (it) => it.subject === '语文' && (it.grade === 3 || it.grade === 4);
  const t5 = performance.now();
  store.acceptManifest(manifest, 'accepted/manifest-v1.json', null); // the same catalogue again, now with every item held (search indexes of held items rebuilt)
  const reacceptMs = performance.now() - t5;
  const t4 = performance.now();
  db.transaction(() => { for (const it of items) if (!subset(it)) store.resetLocal(it.infohash); })();
  const resetMs = performance.now() - t4;
  const heldCount = items.filter(subset).length;
  rows.push(
    [`held ${heldCount}: trigram "观察物体"`, timeIt(() => store.library({ q: '观察物体', limit: 50, offset: 0 }))],
    [`held ${heldCount}: trigram "分数的初步" (0)`, timeIt(() => store.library({ q: '分数的初步', limit: 50, offset: 0 }))],
    [`held ${heldCount}: 2 chars "观察"`, timeIt(() => store.library({ q: '观察', limit: 50, offset: 0 }), 50)],
    [`held ${heldCount}: 2 chars "分数" (0)`, timeIt(() => store.library({ q: '分数', limit: 50, offset: 0 }), 50)],
  );
  console.log(`catalogue of ${N} items: manifest ${mb(raw.length)} MB; sign ${Math.round(signMs)} ms, verify ${Math.round(verifyMs)} ms, store+index ${Math.round(acceptMs)} ms`);
  console.log(`intake in a fresh process (check + store): canonical manifest ${Math.round(canonicalIntake.ms)} ms, RSS ${Math.round(canonicalIntake.beforeMb)} → peak ${Math.round(canonicalIntake.peakMb)} MB; re-serialised manifest ${Math.round(reserialisedIntake.ms)} ms, peak ${Math.round(reserialisedIntake.peakMb)} MB`);
  console.log(`(this bench process, which also holds the generated items: RSS before ${mb(rss0)} MB, after ${mb(rssPeak)} MB)`);
  console.log(`held state, one transaction each: ${N} items marked complete ${Math.round(completeMs)} ms; store+index again with all held ${Math.round(reacceptMs)} ms; ${N - heldCount} reset ${Math.round(resetMs)} ms`);
  console.log('query                                    p50 ms   p95 ms   ×baseline(p95)');
  const base95 = pct(baseline, 95);
  const out = { items: N, manifestBytes: raw.length, signMs, verifyMs, acceptMs, completeMs, reacceptMs, resetMs, canonicalIntake, reserialisedIntake, queries: {} };
  for (const [name, xs] of rows) {
    console.log(`${name.padEnd(40)} ${pct(xs, 50).toFixed(2).padStart(6)}   ${pct(xs, 95).toFixed(2).padStart(6)}   ${(pct(xs, 95) / base95).toFixed(0).padStart(6)}`);
    out.queries[name] = { p50: pct(xs, 50), p95: pct(xs, 95) };
  }
  db.close();
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'sync-catalog.json'), JSON.stringify(out, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
