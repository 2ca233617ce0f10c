import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, createHash, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** An ed25519 key pair as base64url strings of the raw 32-byte keys (JWK `x` and `d`). */
export interface KeyPair {
  publicKey: string;
  privateKey: string;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = publicKey.export({ format: 'jwk' });
  if (!jwk.d || !pub.x) throw new Error('ed25519 export failed');
  return { publicKey: pub.x, privateKey: jwk.d };
}

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

export function isPublicKey(s: unknown): s is string {
  return typeof s === 'string' && B64URL_32.test(s);
}

export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

export function privateKeyObject(pair: KeyPair): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pair.publicKey, d: pair.privateKey }, format: 'jwk' });
}

/** Short, stable id of a key: what logs, audit rows and `keyId` fields carry. */
export function keyId(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('hex').slice(0, 16);
}

export function signBytes(pair: KeyPair, data: Buffer): string {
  return sign(null, data, privateKeyObject(pair)).toString('base64url');
}

export function verifyBytes(publicKey: string, data: Buffer, signature: string): boolean {
  try {
    return verify(null, data, publicKeyObject(publicKey), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** A signed JSON document: the payload and an ed25519 signature over its canonical form. */
export interface SignedDocument<T> {
  payload: T;
  signature: { alg: 'ed25519'; keyId: string; value: string };
}

export function signDocument<T>(pair: KeyPair, payload: T): SignedDocument<T> {
  return {
    payload,
    signature: { alg: 'ed25519', keyId: keyId(pair.publicKey), value: signBytes(pair, Buffer.from(canonicalJson(payload))) },
  };
}

export type VerifyResult =
  | { ok: true; publicKey: string }
  | { ok: false; reason: 'unsigned' | 'unknown-key' | 'bad-signature' };

/**
 * Checks a signed document against trusted keys. A signature by a key we do not trust is
 * `unknown-key`; a trusted key whose signature does not match the payload is `bad-signature`
 * (the document was changed after signing).
 */
export function verifyDocument(doc: { payload?: unknown; signature?: unknown }, trusted: readonly string[]): VerifyResult {
  const sig = doc.signature as { alg?: unknown; keyId?: unknown; value?: unknown } | undefined;
  if (!sig || typeof sig !== 'object' || typeof sig.value !== 'string' || sig.value.length === 0) {
    return { ok: false, reason: 'unsigned' };
  }
  const data = Buffer.from(canonicalJson(doc.payload));
  const byId = trusted.find((k) => keyId(k) === sig.keyId);
  if (!byId) return { ok: false, reason: 'unknown-key' };
  if (sig.alg !== 'ed25519' || !verifyBytes(byId, data, sig.value)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, publicKey: byId };
}
