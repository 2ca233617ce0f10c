import { readFileSync, statSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { generateKeyPair, keyId, type KeyPair } from './signing.js';
import { writeFileAtomic } from './atomic-file.js';

/** The box's own ed25519 identity. Made on first boot, never shipped inside an image. */
export interface Identity extends KeyPair {
  boxId: string;
  createdAt: string;
}

interface IdentityFile extends Identity {
  version: 1;
  fingerprint: string;
}

export type IdentityEvent =
  | { kind: 'loaded' }
  | { kind: 'created'; reason: 'first-boot' }
  | { kind: 'created'; reason: 'cloned'; previousBoxId: string; previousPublicKey: string }
  | { kind: 'created'; reason: 'unreadable'; error: string };

export interface IdentityResult {
  identity: Identity;
  event: IdentityEvent;
}

/**
 * What ties an identity to one machine and one data folder. A data folder copied to another
 * folder gets a new inode and birth time (cp, rsync and tar do not keep birth time); a disk image
 * cloned to another machine keeps those but normally changes the machine id or the board's UUID.
 */
function machineFingerprint(dataDir: string, sources: FingerprintSources = defaultSources): string {
  const st = statSync(dataDir, { bigint: true });
  const parts = [
    `machine-id:${sources.machineId() ?? ''}`,
    `product-uuid:${sources.productUuid() ?? ''}`,
    `data-inode:${st.ino}`,
    `data-birth:${st.birthtimeNs}`,
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

export interface FingerprintSources {
  machineId(): string | undefined;
  productUuid(): string | undefined;
}

function readTrimmed(path: string): string | undefined {
  try {
    const s = readFileSync(path, 'utf8').trim();
    return s.length ? s : undefined;
  } catch {
    return undefined;
  }
}

const defaultSources: FingerprintSources = {
  machineId: () => readTrimmed('/etc/machine-id') ?? readTrimmed('/var/lib/dbus/machine-id'),
  productUuid: () => readTrimmed('/sys/class/dmi/id/product_uuid'),
};

export function identityPath(dataDir: string): string {
  return join(dataDir, 'identity.json');
}

/** A box's id is derived from its identity key: anyone holding the key can check the id it claims. */
export function boxIdOf(publicKey: string): string {
  return `box-${keyId(publicKey)}`;
}

function newIdentity(now: Date): Identity {
  const pair = generateKeyPair();
  return { ...pair, boxId: boxIdOf(pair.publicKey), createdAt: now.toISOString() };
}

/** Loads this box's identity, or makes a fresh one on first boot or when the folder was cloned. */
export function loadOrCreateIdentity(dataDir: string, now: Date, sources: FingerprintSources = defaultSources): IdentityResult {
  const file = identityPath(dataDir);
  const fingerprint = machineFingerprint(dataDir, sources);
  let event: IdentityEvent = { kind: 'created', reason: 'first-boot' };
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as IdentityFile;
      if (stored.fingerprint === fingerprint) {
        const { boxId, publicKey, privateKey, createdAt } = stored;
        return { identity: { boxId, publicKey, privateKey, createdAt }, event: { kind: 'loaded' } };
      }
      event = { kind: 'created', reason: 'cloned', previousBoxId: stored.boxId, previousPublicKey: stored.publicKey };
    } catch (e) {
      event = { kind: 'created', reason: 'unreadable', error: (e as Error).message };
    }
  }
  const identity = newIdentity(now);
  const body: IdentityFile = { version: 1, ...identity, fingerprint };
  writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n', 0o600);
  return { identity, event };
}

/** Reads the identity without creating one (for `box status` on a stopped box). */
export function readIdentity(dataDir: string): (Identity & { fingerprintMatches: boolean }) | undefined {
  const file = identityPath(dataDir);
  if (!existsSync(file)) return undefined;
  const stored = JSON.parse(readFileSync(file, 'utf8')) as IdentityFile;
  const { boxId, publicKey, privateKey, createdAt } = stored;
  return { boxId, publicKey, privateKey, createdAt, fingerprintMatches: stored.fingerprint === machineFingerprint(dataDir) };
}
