import type { Clock } from './clock.js';
import { BoxError } from './errors.js';
import { provisionPayloadSchema, type ProvisionPayload } from './config.js';
import { signDocument, verifyDocument, type KeyPair, type SignedDocument } from './signing.js';
import { parseOrThrow } from './validation.js';

export type ProvisionBundle = SignedDocument<ProvisionPayload>;

export function signBundle(countyKey: KeyPair, payload: ProvisionPayload): ProvisionBundle {
  return signDocument(countyKey, payload);
}

/**
 * Checks a county IT bundle and returns its payload, or refuses it with a code that says which
 * problem it has: malformed, unsigned, signed by a key this box does not trust, changed after
 * signing, or expired. Nothing here touches the box.
 */
export function verifyBundle(
  raw: string,
  countyKeys: readonly string[],
  clock: Clock,
  toleranceMs: number,
  opts: { checkExpiry: boolean } = { checkExpiry: true },
): ProvisionPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    throw new BoxError('E_BUNDLE_MALFORMED', `The provisioning bundle is not valid JSON (${(e as Error).message}).`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('payload' in doc)) {
    throw new BoxError('E_BUNDLE_MALFORMED', 'The provisioning bundle is malformed: it needs a "payload" and a "signature".');
  }
  const verdict = verifyDocument(doc as { payload: unknown; signature?: unknown }, countyKeys);
  if (!verdict.ok) {
    switch (verdict.reason) {
      case 'unsigned':
        throw new BoxError('E_BUNDLE_UNSIGNED', 'The provisioning bundle is not signed. Ask county IT for a signed bundle (`box bundle`).');
      case 'unknown-key':
        throw new BoxError('E_BUNDLE_WRONG_KEY', 'The provisioning bundle is signed by a key this box does not trust (not one of the county IT keys in its config).');
      case 'bad-signature':
        throw new BoxError('E_BUNDLE_TAMPERED', 'The provisioning bundle was changed after it was signed: its signature does not match its contents.');
    }
  }
  const payload = parseOrThrow(provisionPayloadSchema, (doc as { payload: unknown }).payload, 'The provisioning bundle', 'E_BUNDLE_MALFORMED');
  if (!opts.checkExpiry) return payload;
  const now = clock.now();
  const expires = Date.parse(payload.expires);
  if (now > expires + toleranceMs) {
    throw new BoxError(
      'E_BUNDLE_EXPIRED',
      `The provisioning bundle expired at ${payload.expires}; this box's clock says ${new Date(now).toISOString()}. Ask county IT for a new bundle, or correct the clock.`,
    );
  }
  return payload;
}
