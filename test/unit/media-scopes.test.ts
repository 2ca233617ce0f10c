// The parts behind scoped tokens, tickets and control quotas, each on its own: the migration's safe
// default for old tokens, expiry and listing, tickets bound to one path and a short life, the per-lesson
// timeline cap, and per-credential quota accounts.
import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type Db } from '../../core/store/database.js';
import { migrations } from '../../core/store/migrations.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { isBoxError } from '../../core/errors.js';
import { scopeForControl, scopeIncludes } from '../../core/contract/media-scope.js';
import { MediaTokens } from '../../media/media-tokens.js';
import { MediaTickets } from '../../media/media-tickets.js';
import { LessonStore } from '../../media/lesson-store.js';
import { ControlHub } from '../../media/control-hub.js';
import { ControlQuotas, defaultControlLimits } from '../../main/http/control-quota.js';
import { tempDir } from '../support/boxes.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) d.remove();
});
function freshDb(): Db {
  const dir = tempDir('box-scopes-unit-');
  dirs.push(dir);
  const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
  dbs.push(db);
  return db;
}
const DAY = 86_400_000;

describe('media token scopes', () => {
  it('migration 9 gives every token from before scopes `view` and an expiry, and leaves revoked ones revoked', () => {
    const dir = tempDir('box-migrate-');
    dirs.push(dir);
    const file = join(dir.path, 'box.sqlite');
    const old = new Database(file);
    for (const m of migrations.filter((x) => x.version <= 8)) old.exec(m.sql);
    old.pragma('user_version = 8');
    const ins = old.prepare('INSERT INTO media_tokens (id, token_hash, label, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)');
    ins.run('aaaaaaaaaaaa', 'h1', '教室平板', 1, null, null);
    ins.run('bbbbbbbbbbbb', 'h2', '旧白板', 1, null, 5);
    ins.run('cccccccccccc', 'h3', 'OBS', 1, 4_000_000_000_000, null);
    old.close();
    const db = openDatabase(file, silentLogger());
    dbs.push(db);
    const rows = db.prepare('SELECT id, scope, expires_at AS e, revoked_at AS r FROM media_tokens ORDER BY id').all() as Array<{ id: string; scope: string; e: number | null; r: number | null }>;
    expect(rows.map((r) => r.scope)).toEqual(['view', 'view', 'view']);
    expect(rows[0]!.e).toBeGreaterThan(Date.now() + 179 * DAY);
    expect(rows[0]!.e).toBeLessThan(Date.now() + 181 * DAY);
    expect(rows[1]).toMatchObject({ e: null, r: 5 });
    expect(rows[2]!.e).toBe(4_000_000_000_000);
    expect(() => db.prepare("UPDATE media_tokens SET scope = 'admin' WHERE id = 'aaaaaaaaaaaa'").run()).toThrow(/CHECK/);
  });

  it('a token is view unless asked, expires (180 days by default), is listed while it works and found by id until revoked', () => {
    const clock = new ManualClock();
    const tokens = new MediaTokens(freshDb(), clock);
    const v = tokens.issue('平板');
    const c = tokens.issue('主讲屏', 3600, 'console');
    expect(tokens.check(v.token)).toMatchObject({ scope: 'view', expiresAt: clock.now() + 180 * DAY });
    expect(tokens.check(c.token)).toMatchObject({ scope: 'console', expiresAt: clock.now() + 3600_000 });
    expect(tokens.list().map((t) => t.id).sort()).toEqual([v.info.id, c.info.id].sort());
    clock.advance(3601_000);
    expect(tokens.check(c.token)).toBeUndefined();
    expect(tokens.byId(c.info.id)).toBeUndefined();
    expect(tokens.list().map((t) => t.id)).toEqual([v.info.id]);
    expect(tokens.revoke(v.info.id)).toBe(true);
    expect(tokens.byId(v.info.id)).toBeUndefined();
    expect(tokens.list()).toEqual([]);
  });

  it('scopes include each other in order, and each control type needs the right one', () => {
    expect(scopeIncludes('console', 'classroom')).toBe(true);
    expect(scopeIncludes('classroom', 'console')).toBe(false);
    expect(scopeIncludes('view', 'classroom')).toBe(false);
    expect(scopeForControl('hand')).toBe('classroom');
    for (const t of ['page', 'stroke', 'mute', 'spotlight', 'lesson'] as const) expect(scopeForControl(t)).toBe('console');
    expect(scopeForControl('preset')).toBeNull();
  });
});

describe('media tickets', () => {
  it('open exactly one path; a control ticket once; a media ticket while used, within its first minute and a few hours', () => {
    let now = 0;
    const tickets = new MediaTickets({ now: () => now });
    const ws = tickets.mint({ tokenId: 't1' }, '/api/lessons/L1/control', true);
    expect(ws.ticket).toMatch(/^tk_[A-Za-z0-9_-]{32}$/);
    expect(tickets.redeem(ws.ticket, '/api/lessons/L2/control')).toBeUndefined();
    expect(tickets.redeem(ws.ticket, '/api/lessons/L1/control')).toEqual({ tokenId: 't1' });
    expect(tickets.redeem(ws.ticket, '/api/lessons/L1/control')).toBeUndefined();

    const late = tickets.mint({ tokenId: 't1' }, '/api/recordings/r1/media', false);
    now += 61_000;
    expect(tickets.redeem(late.ticket, '/api/recordings/r1/media')).toBeUndefined();

    const video = tickets.mint({ tokenId: 't1' }, '/api/recordings/r1/media', false);
    now += 30_000;
    expect(tickets.redeem(video.ticket, '/api/recordings/r1/media')).toEqual({ tokenId: 't1' });
    for (let i = 0; i < 20; i++) {
      now += 9 * 60_000;
      expect(tickets.redeem(video.ticket, '/api/recordings/r1/media'), `range request ${i}`).toEqual({ tokenId: 't1' });
    }
    now += 60 * 60_000; // past four hours since minting
    expect(tickets.redeem(video.ticket, '/api/recordings/r1/media')).toBeUndefined();

    const idle = tickets.mint({ tokenId: 't1' }, '/api/recordings/r1/media', false);
    expect(tickets.redeem(idle.ticket, '/api/recordings/r1/media')).toBeDefined();
    now += 11 * 60_000;
    expect(tickets.redeem(idle.ticket, '/api/recordings/r1/media')).toBeUndefined();
  });

  it('die with their token, and one token cannot pile up more than a few', () => {
    const tickets = new MediaTickets({ now: () => 0, perToken: 3 });
    const mine = Array.from({ length: 5 }, () => tickets.mint({ tokenId: 'a' }, '/api/lessons/L1/control', true));
    const theirs = tickets.mint({ tokenId: 'b' }, '/api/lessons/L1/control', true);
    expect(tickets.size).toBe(4);
    expect(mine.map((m) => tickets.redeem(m.ticket, m.path) !== undefined)).toEqual([false, false, true, true, true]);
    tickets.forget('b');
    expect(tickets.redeem(theirs.ticket, theirs.path)).toBeUndefined();
  });
});

describe('lesson timeline cap', () => {
  it('refuses new events past the cap with E_TIMELINE_FULL, but still takes the lesson\'s end, resends and what the hub relays', () => {
    const db = freshDb();
    const clock = new ManualClock();
    const lessons = new LessonStore(db, clock);
    const l = lessons.create({ subject: '数学', grade: '三年级', title: '课', hubTeacher: '王老师', teachingPoints: [], startsAt: new Date(clock.now()).toISOString(), endsAt: new Date(clock.now() + 3600_000).toISOString() });
    const hub = new ControlHub({ db, clock, log: silentLogger(), lessons, cap: { events: 3, bytes: 10_000 } });
    const msg = (seq: number, type = 'page', body: Record<string, unknown> = { page: seq }) => ({ sender: 'forged', seq, type, body });
    for (let s = 1; s <= 3; s++) hub.accept(l.id, msg(s), { sender: 'box-hub' });
    expect(hub.since(l.id, 0).map((e) => e.sender)).toEqual(['box-hub', 'box-hub', 'box-hub']);
    let err: unknown;
    try { hub.accept(l.id, msg(4), { sender: 'box-hub' }); } catch (e) { err = e; }
    expect(isBoxError(err) && err.code).toBe('E_TIMELINE_FULL');
    expect(hub.accept(l.id, msg(2), { sender: 'box-hub' }).duplicate).toBe(true);
    expect(hub.accept(l.id, msg(5, 'lesson', { state: 'ended' }), { sender: 'box-hub' }).duplicate).toBe(false);
    expect(lessons.get(l.id)!.status).toBe('ended');
    expect(hub.accept(l.id, msg(6), { sender: 'box-hub', at: 1000 }).duplicate).toBe(false);
    // The byte cap: one 10 kB body on a fresh lesson is one too many.
    const l2 = lessons.create({ subject: '数学', grade: '三年级', title: '课2', hubTeacher: '王老师', teachingPoints: [], startsAt: new Date(clock.now()).toISOString(), endsAt: new Date(clock.now() + 3600_000).toISOString() });
    err = undefined;
    try { hub.accept(l2.id, msg(1, 'stroke', { pad: 'x'.repeat(10_000) })); } catch (e) { err = e; }
    expect(isBoxError(err) && err.code).toBe('E_TIMELINE_FULL');
    expect(hub.size(l2.id)).toEqual({ events: 0, bytes: 0 });
  });
});

describe('control quota accounts', () => {
  it('are per credential, shared by its connections (reconnecting does not refill), refill with time, and cap open connections', () => {
    let now = 0;
    const limits = { ...defaultControlLimits, messageBurst: 5, messagesPerSecond: 1, byteBurst: 1000, bytesPerSecond: 100, connections: 2 };
    const q = new ControlQuotas(limits, () => now);
    const a1 = q.open('token:a')!;
    expect([1, 2, 3, 4, 5, 6].map(() => a1.take(10))).toEqual([true, true, true, true, true, false]);
    a1.close();
    const a2 = q.open('token:a')!;
    expect(a2.take(10)).toBe(false);
    expect(q.open('token:b')!.take(10)).toBe(true);
    now += 2000;
    expect(a2.take(10)).toBe(true);
    expect(a2.take(2000)).toBe(false); // too many bytes: refused, and the message it would have cost is refunded
    expect(a2.take(10)).toBe(true);
    expect(q.open('token:a')).toBeDefined();
    expect(q.open('token:a')).toBeUndefined();
  });
});
