import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { BoxError } from '../core/errors.js';
import { signDocument, verifyDocument, type KeyPair, type SignedDocument } from '../core/signing.js';
import { parseOrThrow } from '../core/validation.js';

export const itemKinds = ['video', 'courseware-pdf', 'slides', 'image', 'audio', 'textbook', 'exercise-set'] as const;
export type ItemKind = (typeof itemKinds)[number];

const isoTime = z.iso.datetime({ offset: true, error: 'an ISO 8601 time such as 2026-11-23T08:00:00Z' });
/** File names travel in torrents and web-seed URLs: no '#', '%', path separators or leading dot (notes/webtorrent.md). */
export const safeFileName = z.string().min(1).max(200)
  .regex(/^[^#%/\\?*:|"<>\x00-\x1f.][^#%/\\?*:|"<>\x00-\x1f]*$/, 'a plain file name without # % / \\ ? * : | " < > or a leading dot');

export const catalogItemSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'an item id of letters, digits, "-", "_" or "." (1–100)'),
  title: z.string().trim().min(1).max(300),
  subject: z.string().trim().min(1).max(50),
  grade: z.number().int().min(0).max(12),
  edition: z.string().trim().min(1).max(100),
  unit: z.string().trim().max(200),
  kind: z.enum(itemKinds),
  size: z.number().int().min(1).max(64 * 1024 ** 3),
  infohash: z.string().regex(/^[0-9a-f]{40}$/, 'a BitTorrent v1 infohash (40 lower-case hex)'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 (64 lower-case hex)'),
  fileName: safeFileName,
  webSeeds: z.array(z.url({ protocol: /^https?$/ })).max(8),
  tags: z.array(z.string().trim().min(1).max(50)).max(30),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;

export const manifestPayloadSchema = z.strictObject({
  format: z.literal('tpbox-catalog/1', { error: '"tpbox-catalog/1"' }),
  publisher: z.string().trim().min(1).max(100),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issuedAt: isoTime,
  expires: isoTime,
  pieceLength: z.number().int().min(16 * 1024).max(16 * 1024 * 1024),
  items: z.array(catalogItemSchema).max(1_000_000).superRefine((items, ctx) => {
    const ids = new Set<string>();
    for (const [i, it] of items.entries()) {
      if (ids.has(it.id)) ctx.addIssue({ code: 'custom', message: `a unique item id ("${it.id}" repeats)`, path: [i, 'id'] });
      ids.add(it.id);
    }
  }),
});
export type ManifestPayload = z.infer<typeof manifestPayloadSchema>;
export type SignedManifest = SignedDocument<ManifestPayload>;

export function signManifest(publisher: KeyPair, payload: ManifestPayload): SignedManifest {
  return signDocument(publisher, parseOrThrow(manifestPayloadSchema, payload, 'The catalogue manifest', 'E_MANIFEST_MALFORMED'));
}

export interface ManifestCheck {
  publisherKeys: readonly string[];
  clock: Clock;
  /** Rural clocks are wrong: an expiry this close is still accepted (the hub's time is the reference). */
  toleranceMs: number;
  /** The highest version this box has ever accepted; anything lower is a replay. */
  highestVersion: number;
}

/**
 * Checks a catalogue manifest, or refuses it with a code that says why. Pure: the caller persists
 * the accepted version, so a refusal changes nothing.
 */
export function verifyManifest(raw: string | unknown, check: ManifestCheck): SignedManifest {
  let doc: unknown = raw;
  if (typeof raw === 'string') {
    try {
      doc = JSON.parse(raw);
    } catch (e) {
      throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid JSON (${(e as Error).message}).`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('payload' in doc)) {
    throw new BoxError('E_MANIFEST_MALFORMED', 'The catalogue manifest is malformed: it needs a "payload" and a "signature".');
  }
  const verdict = verifyDocument(doc as { payload: unknown; signature?: unknown }, check.publisherKeys);
  if (!verdict.ok) {
    switch (verdict.reason) {
      case 'unsigned':
        throw new BoxError('E_MANIFEST_UNSIGNED', 'The catalogue manifest is not signed.');
      case 'unknown-key':
        throw new BoxError('E_MANIFEST_WRONG_KEY', 'The catalogue manifest is signed by a publisher key this box was not provisioned with.');
      case 'bad-signature':
        throw new BoxError('E_MANIFEST_TAMPERED', 'The catalogue manifest was changed after it was signed: its signature does not match its contents.');
    }
  }
  const payload = parseOrThrow(manifestPayloadSchema, (doc as { payload: unknown }).payload, 'The catalogue manifest', 'E_MANIFEST_MALFORMED');
  if (payload.version < check.highestVersion) {
    throw new BoxError('E_MANIFEST_ROLLBACK',
      `The catalogue manifest is version ${payload.version}, older than version ${check.highestVersion} this box already accepted (a replayed old catalogue).`,
      { version: payload.version, highestVersion: check.highestVersion });
  }
  const now = check.clock.now();
  if (now > Date.parse(payload.expires) + check.toleranceMs) {
    throw new BoxError('E_MANIFEST_EXPIRED',
      `The catalogue manifest expired at ${payload.expires}; this box's clock says ${new Date(now).toISOString()}.`,
      { expires: payload.expires, now: new Date(now).toISOString() });
  }
  return { payload, signature: (doc as SignedManifest).signature };
}
