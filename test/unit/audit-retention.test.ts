// The audit log keeps what a reviewer needs and no more: the oldest rows go past a row count or an age, always
// as a prefix (never a hole), never the newest 1000; anything else is still refused by the database itself.
import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database.js';
import { AuditStore } from '../../core/store/audit-store.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { csvCell } from '../../main/http/audit-export.js';
import { tempDir } from '../support/boxes.js';

describe('audit log retention', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  function store(retention: { maxRows?: number; maxAgeMs?: number }) {
    const dir = tempDir('audit-retention-');
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const audit = new AuditStore(db, clock, silentLogger(), {}, retention);
    const stats = () => db.prepare('SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM audit_log').get() as { n: number; lo: number; hi: number };
    return { db, clock, audit, stats };
  }
  const row = (i: number) => ({ actor: 'pin', action: 'settings.unlock', outcome: 'refused' as const, details: { i } });

  it('drops the oldest rows beyond the row cap, as one prefix, and records that it did', () => {
    const { db, audit, stats } = store({ maxRows: 1500 });
    for (let i = 0; i < 3000; i++) audit.append(row(i));
    const s = stats();
    // Checked every 500 appends: never more than the cap plus one batch.
    expect(s.n).toBeLessThanOrEqual(1500 + 500 + 10);
    expect(s.hi - s.lo + 1).toBe(s.n);
    expect(audit.list(1, 'audit.retention')[0]?.details).toMatchObject({ maxRows: 1500 });
    expect(audit.prune()).toBeGreaterThan(0);
    expect(stats().n).toBeLessThanOrEqual(1501);
    db.close();
  });

  it('drops rows older than the age cap, but never the newest 1000', () => {
    const { db, clock, audit, stats } = store({ maxRows: 1_000_000, maxAgeMs: 30 * 86_400_000 });
    for (let i = 0; i < 1500; i++) audit.append(row(i));
    clock.advance(31 * 86_400_000);
    for (let i = 0; i < 300; i++) audit.append(row(i));
    audit.prune();
    // All 1500 old rows are past the age, but only those beyond the newest 1000 may go.
    expect(stats().n).toBeLessThanOrEqual(1001);
    expect(stats().n).toBeGreaterThanOrEqual(1000);
    clock.advance(31 * 86_400_000);
    audit.prune();
    expect(stats().n).toBeGreaterThanOrEqual(1000);
    db.close();
  });

  it('still refuses any other delete or change: a hole, the newest rows, everything', () => {
    const { db, audit, stats } = store({ maxRows: 1_000_000 });
    for (let i = 0; i < 1200; i++) audit.append(row(i));
    const { lo, hi } = stats();
    expect(() => db.prepare('DELETE FROM audit_log WHERE id = ?').run(lo + 50)).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE id = ?').run(hi)).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => db.prepare('UPDATE audit_log SET actor = ? WHERE id = ?').run('x', lo)).toThrow(/append-only/);
    expect(stats().n).toBe(1200);
    db.close();
  });
});

describe('audit CSV cells', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas a caller could plant', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(null)).toBe('');
    expect(csvCell('拒绝')).toBe('拒绝');
  });
});
