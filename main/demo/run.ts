import { mkdtempSync, mkdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../../core/log.js';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { systemClock } from '../../core/clock.js';
import type { BoxConfig } from '../../core/config.js';
import { parseConfig } from '../config-file.js';
import { applyBundle } from '../provisioning-store.js';
import { makeBundle, type BundleDraft } from '../bundle-maker.js';
import { startBox, type Box } from '../box.js';
import { publishDemoCatalog } from './catalog.js';
import { startDemoLesson, type DemoLesson } from './lesson.js';
import { issueKioskToken, kioskScope, kioskUrl } from '../kiosk/kiosk-token.js';

export const DEMO_PIN = '123456';

interface DemoKeys {
  county: KeyPair;
  publisher: KeyPair;
}

export interface Demo {
  root: string;
  seed: Box;
  hub: Box;
  teachingPoint: Box;
  ready: Record<string, unknown>;
  close(): Promise<void>;
}

function loadOrMakeKeys(root: string): DemoKeys {
  const file = join(root, 'demo-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoKeys;
  const keys = { county: generateKeyPair(), publisher: generateKeyPair() };
  writeFileAtomic(file, JSON.stringify(keys, null, 2), 0o600);
  return keys;
}

function demoConfig(root: string, name: string, keys: DemoKeys): BoxConfig {
  return parseConfig({
    dataDir: join(root, name),
    listen: { host: '127.0.0.1', port: 0 },
    trust: { countyKeys: [keys.county.publicKey] },
  }, `demo ${name}`);
}

async function provisionAndStart(root: string, name: string, keys: DemoKeys, draft: BundleDraft, log: Logger, hubCheckIntervalMs?: number): Promise<Box> {
  const config = demoConfig(root, name, keys);
  mkdirSync(config.dataDir, { recursive: true });
  const bundle = makeBundle(keys.county, { pin: DEMO_PIN, publisherKeys: [keys.publisher.publicKey], ...draft });
  applyBundle(config.dataDir, JSON.stringify(bundle, null, 2), config.trust.countyKeys, systemClock, 0);
  return startBox({ config, log: log.child({ demo: name }), ...(hubCheckIntervalMs ? { hubCheckIntervalMs } : {}) });
}

/** Starts seed, hub and teaching point on 127.0.0.1, provisioned and enrolled with demo keys. */
export async function startDemo(opts: { dataDir?: string; log?: Logger } = {}): Promise<Demo> {
  const temporary = !opts.dataDir;
  const root = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(tmpdir(), 'box-demo-'));
  mkdirSync(root, { recursive: true });
  const log = opts.log ?? createLogger({ destination: join(root, 'demo.log') });
  const keys = loadOrMakeKeys(root);
  const boxes: Box[] = [];
  let live: DemoLesson | undefined;
  const catalogAbort = new AbortController();
  const closeAll = async () => {
    // Generation stops at its next file; closing does not wait for it.
    catalogAbort.abort();
    await live?.close();
    for (const b of boxes.reverse()) await b.close();
    if (temporary) rmSync(root, { recursive: true, force: true });
  };
  try {
    const seed = await provisionAndStart(root, 'seed', keys, { role: 'seed', schoolId: 'county-seed', name: '县资源节点（演示）' }, log);
    boxes.push(seed);
    const hub = await provisionAndStart(root, 'hub', keys, { role: 'hub', schoolId: 'demo-hub-school', name: '中心校主讲教室（演示）' }, log);
    boxes.push(hub);
    const { code } = hub.context.codes.create('演示教学点', 24);
    const teachingPoint = await provisionAndStart(root, 'teaching-point', keys, {
      role: 'teaching-point', schoolId: 'demo-teaching-point', name: '村教学点（演示）',
      hub: { url: hub.url, publicKey: hub.identity.publicKey }, enrolmentCode: code,
    }, log, 5000);
    boxes.push(teachingPoint);
    // The hub fetches the catalogue from the seed, the teaching point from its hub (its default source).
    // The demo lesson runs all the time: sync takes its lesson share of a stated link instead of pausing
    // (unknown link speed → pause). Loopback is the "WAN" here: 1 Gbit/s, so 10 % is 100 Mbit/s.
    hub.context.sync?.updatePreferences({ sources: [seed.url], manifestIntervalMs: 5000, maxActiveDownloads: 6, linkKbps: 1_000_000 });
    teachingPoint.context.sync?.updatePreferences({ manifestIntervalMs: 5000, maxActiveDownloads: 6, linkKbps: 1_000_000 });
    // Generated once per data folder (real videos, PDFs, pictures) after the boxes are up, so start stays fast;
    // the seed adopts it on its next round and the hub and teaching point follow.
    void publishDemoCatalog({ contentDir: join(root, 'content'), seedDataDir: seed.context.config.dataDir, publisher: keys.publisher, signal: catalogAbort.signal })
      .then(() => seed.context.sync?.engine.tick())
      .catch((e: unknown) => { if (!catalogAbort.signal.aborted) log.error({ err: (e as Error).message }, 'demo catalogue could not be published'); });
    const link = teachingPoint.context.hubLink;
    for (let i = 0; i < 50 && !(link?.snapshot().reachable); i++) {
      await link?.tick();
      if (!link?.snapshot().reachable) await new Promise((r) => setTimeout(r, 200));
    }
    if (!link?.snapshot().reachable) throw new Error(`the demo teaching point could not reach its hub: ${link?.snapshot().lastError ?? link?.snapshot().enrolmentProblem}`);
    live = await startDemoLesson(hub, teachingPoint, log);
    const ready = { ready: true, seed: seed.url, hub: hub.url, teachingPoint: teachingPoint.url, pin: DEMO_PIN, dataDir: root, lesson: live.lesson.id, token: live.token, camera: live.camera };
    Object.assign(ready, { library: `${teachingPoint.url}/api/library` });
    // Whiteboard and hub console as each box's own kiosk opens them: a kiosk token in the fragment, no PIN.
    Object.assign(ready, { kiosk: {
      teachingPoint: kioskUrl(teachingPoint.url, issueKioskToken(teachingPoint.context.db, teachingPoint.context.clock, undefined, kioskScope('teaching-point'))),
      hub: kioskUrl(hub.url, issueKioskToken(hub.context.db, hub.context.clock, undefined, kioskScope('hub')), '/console'),
    } });
    return { root, seed, hub, teachingPoint, ready, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export function demoSummary(d: Demo): string {
  return [
    '',
    '教学点盒子演示已启动 / Teaching-point box demo is running:',
    `  资源节点 seed:            ${d.seed.url}/api/health`,
    `  中心校 hub:               ${d.hub.url}/   (health: ${d.hub.url}/api/health, metrics: ${d.hub.url}/metrics)`,
    `  教学点 teaching point:    ${d.teachingPoint.url}/`,
    `  资源库 library (tp):      ${d.teachingPoint.url}/api/library   (search: ?q=分数)`,
    ...(d.ready.kiosk ? [
      `  教学点白板 tp kiosk:      ${(d.ready.kiosk as { teachingPoint: string }).teachingPoint}`,
      `  中心校控制台 hub console: ${(d.ready.kiosk as { hub: string }).hub}`,
    ] : []),
    `  设置密码 settings PIN:    ${DEMO_PIN}`,
    ...(typeof d.ready.lesson === 'string' ? [
      `  演示课 live lesson:       ${String(d.ready.lesson)}  (观看令牌 view token ${String(d.ready.token)})`,
      `  教学点播放 WHEP (tp):     ${d.teachingPoint.url}/whep/${String(d.ready.lesson)}`,
      `  中心校推流 WHIP (hub):    ${d.hub.url}/whip/${String(d.ready.lesson)}   (需控制台令牌 needs a console token)`,
    ] : []),
    `  数据与日志 data and log:  ${d.root}`,
    '按 Ctrl-C 停止 / Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
