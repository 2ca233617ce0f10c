import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { openDatabase, integrityCheck } from '../../core/store/database.js';
import { migrations } from '../../core/store/migrations.js';
import { AuditStore } from '../../core/store/audit-store.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../support/boxes.js';

describe('SQLite store', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('opens in WAL with full sync, applies numbered migrations once, and passes integrity_check', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'box.sqlite');
    const db = openDatabase(file, silentLogger());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    db.close();
    const again = openDatabase(file, silentLogger());
    expect(integrityCheck(again)).toBe('ok');
    again.close();
  });

  it('keeps the audit log append-only', () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    const audit = new AuditStore(db, new ManualClock(), silentLogger());
    const id = audit.append({ actor: 'pin-session:ab', action: 'settings.update', outcome: 'ok', details: { changed: { ui: { volume: 3 } } } });
    expect(() => db.prepare('UPDATE audit_log SET outcome = ? WHERE id = ?').run('refused', id)).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE id = ?').run(id)).toThrow(/append-only/);
    expect(audit.list(10)[0]).toMatchObject({ id, action: 'settings.update', details: { changed: { ui: { volume: 3 } } } });
    db.close();
  });
});
