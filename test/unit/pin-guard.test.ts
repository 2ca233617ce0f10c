// The settings PIN counts failures per source: guessing from the LAN locks out only the guesser, a box-wide
// ceiling stops guessing from many addresses, and the whiteboard's own (loopback) screen is never locked by others.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { openDatabase } from '../../core/store/database.js';
import { hashPin } from '../../core/pin.js';
import { PinGuard, pinSource } from '../../main/security/pin-guard.js';
import { checkNewPin, makeBundle } from '../../main/bundle-maker.js';
import { generateKeyPair } from '../../core/signing.js';
import { isBoxError } from '../../core/errors.js';
import { tempDir } from '../support/boxes.js';

const PIN = '246810';
const hash = hashPin(PIN);

function guard(dir: string, clock: ManualClock) {
  const db = openDatabase(join(dir, 'box.sqlite'), silentLogger());
  return { db, pin: new PinGuard(db, clock, () => hash, { maxAttempts: 5, lockoutSeconds: 60, sessionTtlSeconds: 900, globalMaxAttempts: 20 }) };
}

describe('PIN failures per source', () => {
  it('locks the guessing address only, for longer each time, and forgets it after a quiet day', () => {
    const dir = tempDir('box-pin-');
    const clock = new ManualClock(Date.UTC(2026, 8, 1, 8));
    const { db, pin } = guard(dir.path, clock);
    try {
      for (let i = 0; i < 4; i++) expect(pin.tryPin('000000', '192.168.1.50')).toMatchObject({ ok: false, locked: false, remainingAttempts: 4 - i });
      expect(pin.tryPin('000000', '192.168.1.50')).toMatchObject({ locked: true, justLocked: true, scope: 'source', retryAfterSeconds: 60 });
      expect(pin.tryPin(PIN, '192.168.1.50')).toMatchObject({ locked: true, scope: 'source' });
      expect(pin.tryPin(PIN, '::ffff:192.168.1.51').ok).toBe(true);
      expect(pin.tryPin(PIN, '127.0.0.1').ok).toBe(true);
      clock.advance(61_000);
      for (let i = 0; i < 5; i++) pin.tryPin('000000', '192.168.1.50');
      expect(pin.tryPin(PIN, '192.168.1.50')).toMatchObject({ locked: true, retryAfterSeconds: 120 });
      clock.advance(86_400_000 + 121_000);
      for (let i = 0; i < 5; i++) pin.tryPin('000000', '192.168.1.50');
      expect(pin.tryPin(PIN, '192.168.1.50')).toMatchObject({ locked: true, retryAfterSeconds: 60 });
    } finally {
      db.close();
      dir.remove();
    }
  });

  it('a ceiling across LAN addresses locks the network, never the whiteboard', () => {
    const dir = tempDir('box-pin-');
    const clock = new ManualClock(Date.UTC(2026, 8, 1, 8));
    const { db, pin } = guard(dir.path, clock);
    try {
      // 20 failures from ten addresses, two each: none reaches its own limit, together they reach the box's.
      let last;
      for (let i = 0; i < 20; i++) last = pin.tryPin('000000', `10.0.0.${10 + (i % 10)}`);
      expect(last).toMatchObject({ locked: true, justLocked: true, scope: 'box' });
      expect(pin.tryPin(PIN, '10.0.0.99')).toMatchObject({ locked: true, scope: 'box' });
      expect(pin.tryPin(PIN, '127.0.0.1').ok).toBe(true);
      expect(pin.tryPin(PIN, '::1').ok).toBe(true);
      clock.advance(61_000);
      expect(pin.tryPin(PIN, '10.0.0.99').ok).toBe(true);
    } finally {
      db.close();
      dir.remove();
    }
  });

  it('counts an IPv6 /64 as one source (one host can hold all of it)', () => {
    expect(pinSource('2001:db8:1:2:aaaa::1')).toBe(pinSource('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(pinSource('2001:db8:1:2::1')).not.toBe(pinSource('2001:db8:1:3::1'));
    expect(pinSource('::ffff:10.1.2.3')).toBe('10.1.2.3');
    const dir = tempDir('box-pin-');
    const { db, pin } = guard(dir.path, new ManualClock(Date.UTC(2026, 8, 1, 8)));
    try {
      for (let i = 0; i < 5; i++) pin.tryPin('000000', `2001:db8:1:2::${i + 1}`);
      expect(pin.tryPin(PIN, '2001:db8:1:2::99')).toMatchObject({ locked: true, scope: 'source' });
    } finally {
      db.close();
      dir.remove();
    }
  });

  it('new PINs need at least 6 digits; a bundle with an old short PIN hash still opens settings', () => {
    const county = generateKeyPair();
    const code = (fn: () => unknown) => { try { fn(); return 'accepted'; } catch (e) { return isBoxError(e) ? e.code : String(e); } };
    expect(code(() => checkNewPin('2468'))).toBe('E_PIN_TOO_SHORT');
    expect(code(() => makeBundle(county, { role: 'hub', schoolId: 'h', name: '中心校', pin: '12345' }))).toBe('E_PIN_TOO_SHORT');
    expect(code(() => makeBundle(county, { role: 'hub', schoolId: 'h', name: '中心校', pin: '123456' }))).toBe('accepted');
    const old = makeBundle(county, { role: 'hub', schoolId: 'h', name: '中心校', settingsPinHash: hashPin('2468') });
    const dir = tempDir('box-pin-');
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    try {
      const g = new PinGuard(db, new ManualClock(Date.now()), () => old.payload.settingsPinHash, { maxAttempts: 5, lockoutSeconds: 60, sessionTtlSeconds: 900 });
      expect(g.tryPin('2468', '127.0.0.1').ok).toBe(true);
    } finally {
      db.close();
      dir.remove();
    }
  });
});
