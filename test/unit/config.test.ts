import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../main/config-file.js';
import { generateKeyPair } from '../../core/signing.js';
import { isBoxError } from '../../core/errors.js';

const key = generateKeyPair().publicKey;

function problems(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/teaching-point-box/box.json');
  } catch (e) {
    expect(isBoxError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('box config', () => {
  it('accepts a minimal config and fills defaults', () => {
    const c = parseConfig({ dataDir: '/var/lib/box', trust: { countyKeys: [key] } }, 'x');
    expect(c.listen).toEqual({ host: '::', port: 8420 });
    expect(c.security.pinMaxAttempts).toBe(5);
  });

  it('names the field, the value and what was expected', () => {
    const msg = problems({ dataDir: '/var/lib/box', listen: { port: 'eighty' }, trust: { countyKeys: [key] } });
    expect(msg).toContain('listen.port');
    expect(msg).toContain('"eighty"');
    expect(msg).toMatch(/expected a port number/);
    expect(msg).toContain('/etc/teaching-point-box/box.json');
  });

  it('reports every wrong field at once, including unknown ones and bad keys', () => {
    const msg = problems({ dataDir: 'relative/path', trust: { countyKeys: ['not-a-key'] }, colour: 'blue' });
    expect(msg).toContain('dataDir: got "relative/path", expected an absolute folder path');
    expect(msg).toContain('trust.countyKeys.0: got "not-a-key", expected an ed25519 public key');
    expect(msg).toMatch(/colour/);
  });

  it('refuses a missing trust section instead of starting half-configured', () => {
    expect(problems({ dataDir: '/d' })).toContain('trust: got (missing)');
  });
});
