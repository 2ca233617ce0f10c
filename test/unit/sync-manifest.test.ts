import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../core/signing.js';
import { ManualClock } from '../../core/clock.js';
import { isBoxError } from '../../core/errors.js';
import { signManifest, verifyManifest, type ManifestPayload } from '../../sync/manifest.js';

const publisher = generateKeyPair();
const clock = new ManualClock(Date.UTC(2026, 10, 23, 8));
const payload = (over: Partial<ManifestPayload> = {}): ManifestPayload => ({
  format: 'tpbox-catalog/1', publisher: '县资源中心', version: 3, pieceLength: 262144,
  issuedAt: '2026-11-20T00:00:00Z', expires: '2026-12-01T00:00:00Z',
  items: [{
    id: 'math-3-1', title: '分数的初步认识', subject: '数学', grade: 3, edition: '人教版', unit: '第八单元', kind: 'video', size: 1000,
    infohash: 'a'.repeat(40), sha256: 'b'.repeat(64), fileName: '分数 微课.mp4', webSeeds: ['http://seed.example/catalog/files/' + 'a'.repeat(40)], tags: ['分数'],
  }],
  ...over,
});
const check = (over: Partial<Parameters<typeof verifyManifest>[1]> = {}) => ({ publisherKeys: [publisher.publicKey], clock, toleranceMs: 3_600_000, highestVersion: 0, ...over });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isBoxError(e)) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('catalogue manifest checks', () => {
  it('accepts a good manifest', () => {
    const m = verifyManifest(JSON.stringify(signManifest(publisher, payload())), check());
    expect(m.payload.items[0]!.title).toBe('分数的初步认识');
  });

  it('names each refusal with its own code', () => {
    const good = signManifest(publisher, payload());
    const tampered = structuredClone(good);
    tampered.payload.items[0]!.size = 2000;
    expect(codeOf(() => verifyManifest(JSON.stringify(tampered), check()))).toBe('E_MANIFEST_TAMPERED');
    expect(codeOf(() => verifyManifest(JSON.stringify(signManifest(generateKeyPair(), payload())), check()))).toBe('E_MANIFEST_WRONG_KEY');
    expect(codeOf(() => verifyManifest(JSON.stringify({ payload: good.payload }), check()))).toBe('E_MANIFEST_UNSIGNED');
    expect(codeOf(() => verifyManifest(JSON.stringify(good), check({ highestVersion: 4 })))).toBe('E_MANIFEST_ROLLBACK');
    expect(codeOf(() => verifyManifest('{not json', check()))).toBe('E_MANIFEST_MALFORMED');
    expect(codeOf(() => signManifest(publisher, payload({ version: 0 })))).toBe('E_MANIFEST_MALFORMED');
  });

  it('tolerates a rural clock within the tolerance, refuses beyond it', () => {
    const doc = JSON.stringify(signManifest(publisher, payload({ expires: '2026-11-23T07:30:00Z' })));
    expect(codeOf(() => verifyManifest(doc, check()))).toBe('accepted');
    expect(codeOf(() => verifyManifest(doc, check({ toleranceMs: 0 })))).toBe('E_MANIFEST_EXPIRED');
    const later = new ManualClock(Date.UTC(2026, 10, 23, 9));
    expect(codeOf(() => verifyManifest(doc, check({ clock: later })))).toBe('E_MANIFEST_EXPIRED');
  });

  it('accepts the same version again (a re-fetch is not a rollback)', () => {
    expect(codeOf(() => verifyManifest(JSON.stringify(signManifest(publisher, payload())), check({ highestVersion: 3 })))).toBe('accepted');
  });

  it('refuses file names that break web seeds and duplicate ids', () => {
    const bad = payload();
    bad.items[0]!.fileName = 'unit#1 100%.mp4';
    expect(codeOf(() => signManifest(publisher, bad))).toBe('E_MANIFEST_MALFORMED');
    const dup = payload();
    dup.items.push({ ...dup.items[0]! });
    expect(codeOf(() => signManifest(publisher, dup))).toBe('E_MANIFEST_MALFORMED');
  });
});
