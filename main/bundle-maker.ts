import { randomUUID } from 'node:crypto';
import type { KeyPair } from '../core/signing.js';
import { hashPin } from '../core/pin.js';
import { provisionPayloadSchema, type ProvisionPayload } from '../core/config.js';
import { signBundle, type ProvisionBundle } from '../core/provisioning.js';
import { parseOrThrow } from '../core/validation.js';
import { BoxError } from '../core/errors.js';

/** What county IT writes by hand: the payload minus the fields `box bundle` fills in. */
type Filled = 'format' | 'bundleId' | 'issuedAt' | 'expires' | 'settingsPinHash' | 'network' | 'publisherKeys';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type BundleDraft = DistributiveOmit<ProvisionPayload, Filled> & {
  pin?: string;
  settingsPinHash?: string;
  bundleId?: string;
  issuedAt?: string;
  expires?: string;
  validDays?: number;
  network?: ProvisionPayload['network'];
  publisherKeys?: string[];
};

/** New PINs have at least 6 digits (a million tries, not ten thousand); boxes provisioned with shorter ones keep them. */
export const MIN_PIN_DIGITS = 6;

export function checkNewPin(pin: string): void {
  if (!/^\d+$/.test(pin) || pin.length > 12) throw new BoxError('E_VALIDATION', `pin: expected ${MIN_PIN_DIGITS}–12 digits.`);
  if (pin.length < MIN_PIN_DIGITS) throw new BoxError('E_PIN_TOO_SHORT', `The settings PIN must have at least ${MIN_PIN_DIGITS} digits (this one has ${pin.length}).`);
}

/** Fills defaults (id, times, PIN hash), validates, and signs with the county IT key. */
export function makeBundle(countyKey: KeyPair, draft: BundleDraft, now: Date = new Date()): ProvisionBundle {
  const { pin, validDays, ...rest } = draft;
  if (!rest.settingsPinHash && !pin) throw new Error(`The bundle needs a settings PIN: give "pin" (${MIN_PIN_DIGITS}–12 digits) or "settingsPinHash".`);
  if (pin !== undefined) checkNewPin(pin);
  const payload = parseOrThrow(provisionPayloadSchema, {
    format: 'tpbox-provision/1',
    bundleId: rest.bundleId ?? randomUUID(),
    issuedAt: rest.issuedAt ?? now.toISOString(),
    expires: rest.expires ?? new Date(now.getTime() + (validDays ?? 30) * 86_400_000).toISOString(),
    ...rest,
    settingsPinHash: rest.settingsPinHash ?? hashPin(pin as string),
    publisherKeys: rest.publisherKeys ?? [],
    network: rest.network ?? {},
  }, 'The bundle');
  return signBundle(countyKey, payload);
}
