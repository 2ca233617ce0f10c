import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { isBoxError } from '../../core/errors.js';
import { makeBundle } from '../../main/bundle-maker.js';
import { applyBundle, loadProvisioning } from '../../main/provisioning-store.js';
import { startBox } from '../../main/box.js';
import { silentLogger } from '../../core/log.js';
import { tempDir, testConfig, TEST_PIN } from '../support/boxes.js';

/** Every file under a folder with its bytes' hash: "byte-for-byte unchanged" is this map being equal. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const hubDraft = { role: 'hub' as const, schoolId: 'hub-school-1', name: '城关中心校', pin: TEST_PIN };

describe('provisioning a box with a county IT bundle', () => {
  let dir: ReturnType<typeof tempDir>;
  let county: KeyPair;

  beforeEach(async () => {
    dir = tempDir();
    county = generateKeyPair();
    // A box that has already run once: identity, database, an applied bundle.
    const config = testConfig(join(dir.path, 'data'), county);
    applyBundle(config.dataDir, JSON.stringify(makeBundle(county, { ...hubDraft, issuedAt: new Date(Date.now() - 60_000).toISOString() })), [county.publicKey], systemClock, 0);
    const box = await startBox({ config, log: silentLogger() });
    await box.close();
  });
  afterEach(() => dir.remove());

  const dataDir = () => join(dir.path, 'data');
  const apply = (raw: string) => applyBundle(dataDir(), raw, [county.publicKey], systemClock, 0);

  function expectRefused(raw: string, code: string, words: RegExp) {
    const before = snapshot(dataDir());
    let caught: unknown;
    try {
      apply(raw);
    } catch (e) {
      caught = e;
    }
    expect(isBoxError(caught), `expected a refusal ${code}`).toBe(true);
    expect((caught as { code: string }).code).toBe(code);
    expect((caught as Error).message).toMatch(words);
    expect(snapshot(dataDir())).toEqual(before);
  }

  it('applies a valid bundle and the box starts in its role', async () => {
    const bundle = makeBundle(county, { role: 'teaching-point', schoolId: 'tp-7', name: '石桥村教学点', pin: '246810', hub: { url: 'http://[::1]:8420', publicKey: generateKeyPair().publicKey } });
    const { payload, previous } = apply(JSON.stringify(bundle));
    expect(payload.role).toBe('teaching-point');
    expect(previous?.role).toBe('hub');
    expect(loadProvisioning(dataDir(), [county.publicKey], systemClock)?.name).toBe('石桥村教学点');
    const box = await startBox({ config: testConfig(dataDir(), county), log: silentLogger() });
    try {
      const health = (await (await fetch(`${box.url}/api/health`)).json()) as { role: string; name: string };
      expect(health).toMatchObject({ role: 'teaching-point', name: '石桥村教学点' });
    } finally {
      await box.close();
    }
  });

  it('refuses a tampered bundle and changes nothing', () => {
    const bundle = makeBundle(county, { ...hubDraft, name: '另一个学校' });
    bundle.payload.name = '被改过的名字';
    expectRefused(JSON.stringify(bundle), 'E_BUNDLE_TAMPERED', /changed after it was signed/);
  });

  it('refuses an unsigned bundle and changes nothing', () => {
    const { payload } = makeBundle(county, hubDraft);
    expectRefused(JSON.stringify({ payload }), 'E_BUNDLE_UNSIGNED', /not signed/);
    expectRefused(JSON.stringify({ payload, signature: { alg: 'ed25519', keyId: 'x', value: '' } }), 'E_BUNDLE_UNSIGNED', /not signed/);
  });

  it('refuses a bundle signed by a key the box does not trust and changes nothing', () => {
    const stranger = generateKeyPair();
    expectRefused(JSON.stringify(makeBundle(stranger, hubDraft)), 'E_BUNDLE_WRONG_KEY', /does not trust/);
  });

  it('refuses an expired bundle and changes nothing', () => {
    const issued = new Date(Date.now() + 1000);
    const bundle = makeBundle(county, { ...hubDraft, issuedAt: issued.toISOString(), expires: new Date(Date.now() - 3_600_000).toISOString() });
    expectRefused(JSON.stringify(bundle), 'E_BUNDLE_EXPIRED', /expired at/);
  });

  it('refuses malformed bundles, naming the field, and changes nothing', () => {
    expectRefused('{"payload": ', 'E_BUNDLE_MALFORMED', /not valid JSON/);
    expectRefused('[1,2,3]', 'E_BUNDLE_MALFORMED', /payload/);
    // Signed by the county key, but the county made a mistake: a teaching point without its hub.
    const bad = makeBundle(county, hubDraft);
    const payload = { ...bad.payload, role: 'teaching-point' };
    const signedBad = JSON.stringify(makeBundleUnchecked(county, payload));
    expectRefused(signedBad, 'E_BUNDLE_MALFORMED', /hub: got \(missing\)/);
  });

  it('refuses a bundle older than the one applied (a replayed bundle cannot bring back an old PIN)', () => {
    const old = makeBundle(county, { ...hubDraft, issuedAt: new Date(Date.now() - 86_400_000).toISOString() });
    expectRefused(JSON.stringify(old), 'E_BUNDLE_ROLLBACK', /before the one already applied/);
  });
});

import { signDocument } from '../../core/signing.js';
function makeBundleUnchecked(key: KeyPair, payload: unknown) {
  return signDocument(key, payload);
}
