import { SignJWT, jwtVerify, decodeJwt, errors as joseErrors, type KeyObject } from 'jose';
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import { BoxError } from './errors.js';
import { privateKeyObject, publicKeyObject, type KeyPair } from './signing.js';

// Box-to-box calls carry a short-lived EdDSA JWT signed by the calling box's identity key.
// Each token is single-use (jti remembered until it expires), so a captured token cannot be replayed.

export interface TokenIssuer extends KeyPair {
  boxId: string;
}

export interface IssueOptions {
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

export async function issueBoxToken(me: TokenIssuer, opts: IssueOptions): Promise<string> {
  const iat = Math.floor(opts.clock.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: me.boxId })
    .setIssuer(me.boxId)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(privateKeyObject(me) as unknown as KeyObject);
}

export type TokenRefusal = 'missing' | 'malformed' | 'not-yet-valid' | 'unknown-box' | 'revoked' | 'bad-signature' | 'expired' | 'replayed' | 'wrong-audience' | 'too-long-lived';

export class TokenRefused extends BoxError {
  constructor(readonly reason: TokenRefusal, readonly issuer: string | undefined) {
    super('E_UNAUTHORIZED', `Box token refused: ${reason}.`, { reason });
  }
}

export interface KnownBox {
  publicKey: string;
  status: 'active' | 'revoked';
}

export interface VerifyOptions {
  audience: string;
  clock: Clock;
  toleranceSeconds: number;
  maxTtlSeconds: number;
  lookup(boxId: string): KnownBox | undefined;
  /** Records a jti; returns false when it was seen before (a replay). */
  remember(jti: string, issuer: string, expiresAtMs: number): boolean;
}

export async function verifyBoxToken(token: string | undefined, opts: VerifyOptions): Promise<{ boxId: string }> {
  if (!token) throw new TokenRefused('missing', undefined);
  let iss: string | undefined;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    throw new TokenRefused('malformed', undefined);
  }
  if (!iss) throw new TokenRefused('malformed', undefined);
  const known = opts.lookup(iss);
  if (!known) throw new TokenRefused('unknown-box', iss);
  if (known.status !== 'active') throw new TokenRefused('revoked', iss);
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, publicKeyObject(known.publicKey) as unknown as KeyObject, {
      algorithms: ['EdDSA'],
      audience: opts.audience,
      issuer: iss,
      currentDate: new Date(opts.clock.now()),
      clockTolerance: opts.toleranceSeconds,
      // A token issued in the future (or long ago) is refused too: iat must be within tolerance of now.
      maxTokenAge: opts.maxTtlSeconds + opts.toleranceSeconds,
      requiredClaims: ['exp', 'iat', 'jti'],
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw new TokenRefused('expired', iss);
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'iat') throw new TokenRefused('not-yet-valid', iss);
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud') throw new TokenRefused('wrong-audience', iss);
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenRefused('bad-signature', iss);
    throw new TokenRefused('malformed', iss);
  }
  const exp = claims.exp as number;
  const iat = claims.iat as number;
  if (exp - iat > opts.maxTtlSeconds) throw new TokenRefused('too-long-lived', iss);
  if (!opts.remember(claims.jti as string, iss, (exp + opts.toleranceSeconds) * 1000)) throw new TokenRefused('replayed', iss);
  return { boxId: iss };
}
