import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { BoxError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { verifyBundle } from '../core/provisioning.js';
import type { ProvisionPayload } from '../core/config.js';

function provisioningPath(dataDir: string): string {
  return join(dataDir, 'provisioning.json');
}

/**
 * The applied bundle is kept verbatim and re-verified at every start, so a hand-edited file on
 * disk is caught. Expiry matters only when a bundle is applied, not for the box's later life.
 */
export function loadProvisioning(dataDir: string, countyKeys: readonly string[], clock: Clock): ProvisionPayload | undefined {
  const file = provisioningPath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return verifyBundle(readFileSync(file, 'utf8'), countyKeys, clock, 0, { checkExpiry: false });
  } catch (e) {
    const msg = e instanceof BoxError ? e.message : String(e);
    throw new BoxError('E_CONFIG', `The applied provisioning in ${file} no longer verifies: ${msg} Re-provision the box with \`box provision\`.`);
  }
}

export interface ApplyResult {
  payload: ProvisionPayload;
  previous: ProvisionPayload | undefined;
}

/**
 * Verifies first and writes only then: a refused bundle leaves every byte of the data folder as
 * it was. An older bundle than the one applied is refused, so a replayed bundle cannot bring back
 * an old PIN or an old hub.
 */
export function applyBundle(dataDir: string, raw: string, countyKeys: readonly string[], clock: Clock, toleranceMs: number): ApplyResult {
  const payload = verifyBundle(raw, countyKeys, clock, toleranceMs);
  const previous = existsSync(provisioningPath(dataDir)) ? loadProvisioning(dataDir, countyKeys, clock) : undefined;
  if (previous && Date.parse(payload.issuedAt) < Date.parse(previous.issuedAt)) {
    throw new BoxError(
      'E_BUNDLE_ROLLBACK',
      `The provisioning bundle was issued at ${payload.issuedAt}, before the one already applied (${previous.bundleId}, issued ${previous.issuedAt}). Ask county IT for a current bundle.`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(provisioningPath(dataDir), raw, 0o600);
  return { payload, previous };
}
