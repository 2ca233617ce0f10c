import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { BoxError } from '../core/errors.js';
import { keyId, signDocument, verifyBytes, type KeyPair, type SignedDocument } from '../core/signing.js';
import { canonicalJson } from '../core/canonical-json.js';
import { describeProblems, parseOrThrow, problemsToText } from '../core/validation.js';
import { arrayElements, JsonSpanError, objectMembers, skipWs } from './json-spans.js';

import { itemKinds, type CatalogItemView } from '../core/contract/library.js';

export { itemKinds, type ItemKind } from '../core/contract/library.js';

const isoTime = z.iso.datetime({ offset: true, error: 'an ISO 8601 time such as 2026-11-23T08:00:00Z' });
/** File names travel in torrents and web-seed URLs: no '#', '%', path separators or leading dot (notes/webtorrent.md). */
const safeFileName = z.string().min(1).max(200)
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
  /** Present for a folder item (a digital textbook, an exercise set): how many files the folder holds.
   * Then `fileName` is the folder's name and `sha256` is the digest of its file listing (sync/item-files.ts). */
  fileCount: z.number().int().min(1).max(100_000).optional(),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;
// The schema and the type the kiosk reads must not drift apart: a field added to one fails tsc here.
const _sameShape: [(i: CatalogItem) => CatalogItemView, (i: CatalogItemView) => CatalogItem] = [(i) => i, (i) => i];
void _sameShape;

const MAX_ITEMS = 1_000_000;
/** A manifest bigger than this is refused before it is read: memory stays bounded whatever a source sends. */
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

const manifestPayloadSchema = z.strictObject({
  format: z.literal('tpbox-catalog/1', { error: '"tpbox-catalog/1"' }),
  publisher: z.string().trim().min(1).max(100),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issuedAt: isoTime,
  expires: isoTime,
  pieceLength: z.number().int().min(16 * 1024).max(16 * 1024 * 1024),
  items: z.array(catalogItemSchema).max(MAX_ITEMS).superRefine((items, ctx) => {
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

/**
 * The manifest file as `box publish` writes it: the payload in its canonical form, so a box can check the
 * signature over the bytes as they are, without building a second copy of a 100,000-item catalogue.
 */
export function serializeManifest(m: SignedManifest): string {
  return `{"payload":${canonicalJson(m.payload)},"signature":${JSON.stringify(m.signature)}}`;
}

export interface ManifestCheck {
  publisherKeys: readonly string[];
  clock: Clock;
  /** Rural clocks are wrong: an expiry this close is still accepted (the hub's time is the reference). */
  toleranceMs: number;
  /** The highest version this box has ever accepted; anything lower is a replay. */
  highestVersion: number;
}

const headerSchema = manifestPayloadSchema.omit({ items: true });
export type ManifestHeader = z.infer<typeof headerSchema> & { itemCount: number };

/** A manifest whose signature, version and expiry passed; its items are read (and checked) one at a time. */
export interface CheckedManifest {
  payload: ManifestHeader;
  signature: SignedManifest['signature'];
  /** Each item, validated; throws E_MANIFEST_MALFORMED at the first bad or repeated one (run it inside a transaction). */
  items(): Generator<CatalogItem>;
}

const malformed = (why: string) => new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is malformed: ${why}.`);

function spans(raw: Buffer) {
  let payload: [number, number] | undefined;
  let signature: [number, number] | undefined;
  let items: [number, number] | undefined;
  const payloadMembers: string[] = [];
  try {
    const start = skipWs(raw, 0);
    const end = objectMembers(raw, start, (m) => {
      if (m.key === 'payload') {
        if (payload) throw malformed('"payload" appears twice');
        payload = [m.start, m.end];
      } else if (m.key === 'signature') {
        if (signature) throw malformed('"signature" appears twice');
        signature = [m.start, m.end];
      } else {
        JSON.parse(raw.toString('utf8', m.start, m.end));
      }
    });
    if (skipWs(raw, end) !== raw.length) throw new JsonSpanError(`text after the document at byte ${end}`);
    if (!payload || raw[payload[0]] !== 0x7b) throw malformed('it needs a "payload" object and a "signature"');
    objectMembers(raw, payload[0], (m) => {
      if (m.key === 'items') {
        if (items) throw malformed('"items" appears twice');
        items = [m.start, m.end];
      }
      payloadMembers.push(m.key);
    });
  } catch (e) {
    if (e instanceof BoxError) throw e;
    throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid JSON (${(e as Error).message}).`);
  }
  return { payload, signature, items, payloadMembers };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid JSON (${what}: ${(e as Error).message}).`);
  }
}

/** A growable byte buffer for the canonical form: one off-heap copy, no per-item objects kept. */
class ByteSink {
  private buf: Buffer;
  length = 0;
  constructor(hint: number) { this.buf = Buffer.allocUnsafe(Math.max(1024, hint)); }
  write(s: string): void {
    const need = Buffer.byteLength(s);
    if (this.length + need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + need));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    this.length += this.buf.write(s, this.length);
  }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

/**
 * Checks a catalogue manifest (signature, known key, version, expiry) or refuses it with a code that says
 * why. Memory stays near the size of the manifest's bytes: items are never all parsed at once. The
 * signature is first checked over the payload's bytes as sent (what `box publish` writes is canonical);
 * otherwise the canonical form is rebuilt item by item. Pure: the caller persists what it accepts.
 */
/** The manifest's HTTP ETag: a publisher never signs two catalogues with one version, so the version names its bytes. */
export const manifestEtag = (version: number) => `"catalog-v${version}"`;

export function checkManifest(input: Buffer | string, check: ManifestCheck): CheckedManifest {
  const raw = typeof input === 'string' ? Buffer.from(input) : input;
  if (raw.length > MAX_MANIFEST_BYTES) throw malformed(`${raw.length} bytes is more than the ${MAX_MANIFEST_BYTES} a box reads`);
  const s = spans(raw);
  const payloadSpan = s.payload!;
  const sig = s.signature ? parseJson(raw.toString('utf8', s.signature[0], s.signature[1]), 'signature') as { alg?: unknown; keyId?: unknown; value?: unknown } | null : undefined;
  if (!sig || typeof sig !== 'object' || typeof sig.value !== 'string' || sig.value.length === 0) {
    throw new BoxError('E_MANIFEST_UNSIGNED', 'The catalogue manifest is not signed.');
  }
  const key = check.publisherKeys.find((k) => keyId(k) === sig.keyId);
  if (!key) throw new BoxError('E_MANIFEST_WRONG_KEY', 'The catalogue manifest is signed by a publisher key this box was not provisioned with.');

  // The payload without its items: small, parsed whole.
  const itemsSpan = s.items;
  const headerText = itemsSpan
    ? raw.toString('utf8', payloadSpan[0], itemsSpan[0]) + '[]' + raw.toString('utf8', itemsSpan[1], payloadSpan[1])
    : raw.toString('utf8', payloadSpan[0], payloadSpan[1]);
  const header = parseJson(headerText, 'payload') as Record<string, unknown>;
  let elements: Uint32Array = new Uint32Array(0);
  if (itemsSpan && raw[itemsSpan[0]] === 0x5b) {
    try {
      elements = arrayElements(raw, itemsSpan[0], MAX_ITEMS);
    } catch (e) {
      throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid JSON (items: ${(e as Error).message}).`);
    }
  }
  const count = elements.length / 2;
  const element = (i: number) => raw.toString('utf8', elements[i * 2]!, elements[i * 2 + 1]!);

  let authentic = sig.alg === 'ed25519' && verifyBytes(key, raw.subarray(payloadSpan[0], payloadSpan[1]), sig.value);
  if (!authentic && sig.alg === 'ed25519') {
    // Not in canonical form as sent (re-serialised on the way): rebuild the signed bytes one item at a time.
    const marker = `\u0000items-${randomBytes(16).toString('hex')}\u0000`;
    const headerCanon = canonicalJson({ ...header, ...(itemsSpan ? { items: marker } : {}) });
    const at = headerCanon.indexOf(JSON.stringify(marker));
    const sink = new ByteSink(raw.length + 1024);
    if (at < 0 || !itemsSpan || raw[itemsSpan[0]] !== 0x5b) {
      sink.write(itemsSpan ? canonicalJson({ ...header, items: parseJson(raw.toString('utf8', itemsSpan[0], itemsSpan[1]), 'items') }) : headerCanon);
    } else {
      sink.write(headerCanon.slice(0, at));
      sink.write('[');
      for (let i = 0; i < count; i++) {
        if (i > 0) sink.write(',');
        sink.write(canonicalJson(parseJson(element(i), `item ${i}`)));
      }
      sink.write(']');
      sink.write(headerCanon.slice(at + JSON.stringify(marker).length));
    }
    authentic = verifyBytes(key, sink.bytes(), sig.value);
  }
  if (!authentic) {
    throw new BoxError('E_MANIFEST_TAMPERED', 'The catalogue manifest was changed after it was signed: its signature does not match its contents.');
  }

  if (!itemsSpan || raw[itemsSpan[0]] !== 0x5b) {
    throw new BoxError('E_MANIFEST_MALFORMED', 'The catalogue manifest is not valid: items: expected an array of items.', { problems: [{ field: 'items', value: undefined, expected: 'an array of items' }] });
  }
  delete header.items;
  const fields = parseOrThrow(headerSchema, header, 'The catalogue manifest', 'E_MANIFEST_MALFORMED');
  if (fields.version < check.highestVersion) {
    throw new BoxError('E_MANIFEST_ROLLBACK',
      `The catalogue manifest is version ${fields.version}, older than version ${check.highestVersion} this box already accepted (a replayed old catalogue).`,
      { version: fields.version, highestVersion: check.highestVersion });
  }
  const now = check.clock.now();
  if (now > Date.parse(fields.expires) + check.toleranceMs) {
    throw new BoxError('E_MANIFEST_EXPIRED',
      `The catalogue manifest expired at ${fields.expires}; this box's clock says ${new Date(now).toISOString()}.`,
      { expires: fields.expires, now: new Date(now).toISOString() });
  }
  return {
    payload: { ...fields, itemCount: count },
    signature: sig as SignedManifest['signature'],
    *items() {
      const ids = new Set<string>();
      for (let i = 0; i < count; i++) {
        const value = parseJson(element(i), `item ${i}`);
        const r = catalogItemSchema.safeParse(value);
        if (!r.success) {
          const problems = describeProblems(r.error, value).map((p) => ({ ...p, field: `items.${i}.${p.field}` }));
          throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid: ${problemsToText(problems)}`, { problems });
        }
        if (ids.has(r.data.id)) throw new BoxError('E_MANIFEST_MALFORMED', `The catalogue manifest is not valid: items.${i}.id: a unique item id ("${r.data.id}" repeats).`);
        ids.add(r.data.id);
        yield r.data;
      }
    },
  };
}

/** Checks a manifest and returns it whole (every item in memory): for small catalogues and tests. */
export function verifyManifest(raw: string | Buffer | unknown, check: ManifestCheck): SignedManifest {
  const input = typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : JSON.stringify(raw);
  const m = checkManifest(input, check);
  const { itemCount: _n, ...fields } = m.payload;
  return { payload: { ...fields, items: [...m.items()] }, signature: m.signature };
}
