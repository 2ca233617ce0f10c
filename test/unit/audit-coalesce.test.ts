// Refused box tokens are audited, but a flood from one source costs one row per window with a count:
// the audit log stays append-only and cannot be grown without bound by an attacker.
import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database.js';
import { AuditStore } from '../../core/store/audit-store.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../support/boxes.js';

describe('audit coalescing of repeated refusals', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  function store(maxKeys = 5000) {
    const dir = tempDir('audit-coalesce-');
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    const clock = new ManualClock();
    const audit = new AuditStore(db, clock, silentLogger(), { windowMs: 60_000, maxKeys });
    const rows = () => (db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'auth.refused'").get() as { n: number }).n;
    return { db, clock, audit, rows };
  }
  const refusal = (ip: string, actor = 'anonymous') => ({ actor, action: 'auth.refused', target: 'GET /api/peer/time', outcome: 'refused' as const, details: { reason: 'missing', ip } });

  it('writes the first refusal at once and one summary row with the count per window', () => {
    const { db, clock, audit, rows } = store();
    expect(audit.appendCoalesced('a|missing', refusal('10.0.0.9'))).toBeTypeOf('number');
    expect(rows()).toBe(1);
    for (let i = 0; i < 999; i++) {
      clock.advance(10);
      expect(audit.appendCoalesced('a|missing', refusal('10.0.0.9', `box-${i % 3}`))).toBeNull();
    }
    expect(rows()).toBe(1);
    clock.advance(60_000);
    audit.appendCoalesced('a|missing', refusal('10.0.0.9')); // the next window: its first row, after the summary of the last
    const list = audit.list(10, 'auth.refused');
    expect(list.map((e) => e.details?.count)).toEqual([1, 999, 1]);
    expect(list[1]!.details).toMatchObject({ repeated: true, reason: 'missing', ip: '10.0.0.9', actors: ['box-0', 'box-1', 'box-2'] });
    // Another source is audited on its own, at once.
    audit.appendCoalesced('b|missing', refusal('10.0.0.10'));
    expect(rows()).toBe(4);
    // Close writes what is pending; a burst of one has no summary.
    audit.appendCoalesced('b|missing', refusal('10.0.0.10'));
    audit.close();
    expect(audit.list(1, 'auth.refused')[0]!.details).toMatchObject({ ip: '10.0.0.10', count: 1, repeated: true });
    expect(rows()).toBe(5);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
  });

  it('folds new sources into one overflow key when too many are followed at once', () => {
    const { db, audit, rows } = store(10);
    for (let i = 0; i < 500; i++) audit.appendCoalesced(`ip${i}|missing`, refusal(`10.0.${i >> 8}.${i & 255}`));
    // 10 tracked sources + one overflow row; the rest wait in the overflow count.
    expect(rows()).toBe(11);
    audit.flush(true);
    const summary = audit.list(1, 'auth.refused')[0]!;
    expect(summary.details).toMatchObject({ count: 489, repeated: true });
    db.close();
  });
});
