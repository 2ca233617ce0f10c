import { z } from 'zod';
import { isAbsolute } from 'node:path';
import { isPublicKey } from './signing.js';
import { PIN_HASH_PATTERN } from './pin.js';

export const publicKeySchema = z.string().refine(isPublicKey, 'an ed25519 public key (43 base64url characters)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
const port = z.number({ error: 'a port number 0–65535' }).int().min(0).max(65535);
const isoTime = z.iso.datetime({ offset: true, error: 'an ISO 8601 time such as 2026-11-23T08:00:00Z' });

/** The image-level config file: where data lives, where to listen, which county keys to trust. */
export const boxConfigSchema = z.strictObject({
  dataDir: z.string().refine(isAbsolute, 'an absolute folder path'),
  listen: z.strictObject({
    host: z.string().min(1).default('::'),
    port: port.default(8420),
  }).default({ host: '::', port: 8420 }),
  trust: z.strictObject({
    countyKeys: z.array(publicKeySchema).min(1, 'at least one county IT public key'),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    file: z.string().refine(isAbsolute, 'an absolute file path').optional(),
  }).default({ level: 'info' }),
  security: z.strictObject({
    pinMaxAttempts: z.number().int().min(1).max(20).default(5),
    pinLockoutSeconds: z.number().int().min(1).max(86_400).default(300),
    /** Wrong PINs from all LAN addresses together in an hour before the PIN is locked for every LAN address (loopback keeps its own count). */
    pinGlobalMaxAttempts: z.number().int().min(1).max(10_000).default(50),
    sessionTtlSeconds: z.number().int().min(30).max(86_400).default(900),
    tokenTtlSeconds: z.number().int().min(5).max(3600).default(120),
    clockToleranceSeconds: z.number().int().min(0).max(86_400).default(300),
  }).default({ pinMaxAttempts: 5, pinLockoutSeconds: 300, pinGlobalMaxAttempts: 50, sessionTtlSeconds: 900, tokenTtlSeconds: 120, clockToleranceSeconds: 300 }),
  /** The audit log keeps at least six months (Cybersecurity Law art. 21) and at most this many rows. */
  audit: z.strictObject({
    maxRows: z.number().int().min(1000).max(10_000_000).default(200_000),
    maxAgeDays: z.number().int().min(180).max(3650).default(365),
  }).default({ maxRows: 200_000, maxAgeDays: 365 }),
  limits: z.strictObject({
    bodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  }).default({ bodyBytes: 1024 * 1024 }),
});
export type BoxConfig = z.infer<typeof boxConfigSchema>;

export type Role = 'hub' | 'teaching-point' | 'seed';

const networkSchema = z.strictObject({
  listenHost: z.string().min(1).optional(),
  port: port.optional(),
  /** How other boxes reach this one, when it differs from the listen address (NAT, DNS name). */
  publicUrl: httpUrl.optional(),
}).default({});

const common = {
  format: z.literal('tpbox-provision/1', { error: '"tpbox-provision/1"' }),
  bundleId: z.string().min(1).max(100),
  issuedAt: isoTime,
  expires: isoTime,
  schoolId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a school id of letters, digits, "-", "_" or "." (1–64)'),
  name: z.string().trim().min(1).max(100),
  publisherKeys: z.array(publicKeySchema).default([]),
  settingsPinHash: z.string().regex(PIN_HASH_PATTERN, 'a PIN hash made by `box bundle` (scrypt$...)'),
  network: networkSchema,
};

/** What a county IT bundle provisions on one box. The role decides which fields are required. */
export const provisionPayloadSchema = z.discriminatedUnion('role', [
  z.strictObject({ ...common, role: z.literal('hub') }),
  z.strictObject({
    ...common,
    role: z.literal('teaching-point'),
    hub: z.strictObject({ url: httpUrl, publicKey: publicKeySchema }),
    enrolmentCode: z.string().regex(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/, 'an enrolment code like ABCD-1234').optional(),
  }),
  z.strictObject({ ...common, role: z.literal('seed') }),
], { error: 'role "hub", "teaching-point" or "seed"' });
export type ProvisionPayload = z.infer<typeof provisionPayloadSchema>;
