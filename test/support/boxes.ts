// Starts real boxes (in-process, ephemeral ports, temporary data folders) for integration tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import { silentLogger } from '../../core/log.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { BoxConfig } from '../../core/config.js';
import { parseConfig } from '../../main/config-file.js';
import { applyBundle } from '../../main/provisioning-store.js';
import { makeBundle, type BundleDraft } from '../../main/bundle-maker.js';
import { startBox, type Box, type StartOptions } from '../../main/box.js';

export const TEST_PIN = '135790';

export function tempDir(prefix = 'box-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, county: KeyPair, extra: Record<string, unknown> = {}): BoxConfig {
  return parseConfig({ dataDir, listen: { host: '127.0.0.1', port: 0 }, trust: { countyKeys: [county.publicKey] }, ...extra }, 'test');
}

/** Writes a config file for a child-process daemon and returns its path. */
export function writeConfigFile(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'box.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function provision(config: BoxConfig, county: KeyPair, draft: BundleDraft): void {
  const bundle = makeBundle(county, { pin: TEST_PIN, ...draft });
  applyBundle(config.dataDir, JSON.stringify(bundle), config.trust.countyKeys, systemClock, 0);
}

export interface TestBox {
  box: Box;
  config: BoxConfig;
  close(): Promise<void>;
}

export async function startTestBox(opts: {
  county: KeyPair;
  dataDir: string;
  draft?: BundleDraft;
  configExtra?: Record<string, unknown>;
  clock?: Clock;
  start?: Partial<StartOptions>;
}): Promise<TestBox> {
  const config = testConfig(opts.dataDir, opts.county, opts.configExtra);
  if (opts.draft) provision(config, opts.county, opts.draft);
  const box = await startBox({ config, log: silentLogger(), ...(opts.clock ? { clock: opts.clock } : {}), ...opts.start });
  return { box, config, close: () => box.close() };
}

/** A hub and one enrolled teaching point, both real boxes on loopback. */
export async function startHubAndTeachingPoint(root: string, county: KeyPair = generateKeyPair(), configExtra: Record<string, unknown> = {}) {
  const hub = await startTestBox({ county, dataDir: join(root, 'hub'), configExtra, draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' } });
  const { code } = hub.box.context.codes.create('教学点一', 1);
  const tp = await startTestBox({
    county, dataDir: join(root, 'tp'), configExtra,
    draft: { role: 'teaching-point', schoolId: 'tp-1', name: '教学点一', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code },
    start: { hubCheckIntervalMs: 60_000 },
  });
  await tp.box.context.hubLink!.tick();
  return { county, hub, tp, close: async () => { await tp.close(); await hub.close(); } };
}

export async function pinSession(baseUrl: string, pin = TEST_PIN): Promise<string> {
  const res = await fetch(`${baseUrl}/api/settings/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin }) });
  if (res.status !== 201) throw new Error(`PIN session failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** A provisioned data folder and config file for a child-process daemon on a free loopback port. */
export async function daemonFolder(root: string, draft: BundleDraft, county: KeyPair = generateKeyPair()) {
  const { freePort } = await import('./daemon.js');
  const port = await freePort();
  const dataDir = join(root, 'data');
  const raw = { dataDir, listen: { host: '127.0.0.1', port }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } };
  provision(testConfig(dataDir, county, { listen: raw.listen }), county, draft);
  return { county, port, dataDir, configFile: writeConfigFile(root, raw), url: `http://127.0.0.1:${port}` };
}
