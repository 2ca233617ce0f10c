import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request as httpRequest } from 'node:http';
import { generateKeyPair, keyId } from '../../core/signing.js';
import { issueBoxToken } from '../../core/box-token.js';
import { ManualClock, systemClock } from '../../core/clock.js';
import { pinSession, startHubAndTeachingPoint, tempDir, TEST_PIN } from '../support/boxes.js';

type Pair = Awaited<ReturnType<typeof startHubAndTeachingPoint>>;

async function callHubTime(hubUrl: string, token?: string) {
  const res = await fetch(`${hubUrl}/api/peer/time`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as { code?: string; details?: { reason?: string }; time?: number } };
}

describe('box-to-box authentication and the settings PIN', () => {
  let dir: ReturnType<typeof tempDir>;
  let pair: Pair;
  let hubUrl: string;

  beforeAll(async () => {
    dir = tempDir();
    pair = await startHubAndTeachingPoint(dir.path, generateKeyPair(), { security: { pinLockoutSeconds: 1, pinMaxAttempts: 5 } });
    hubUrl = pair.hub.box.url;
  });
  afterAll(async () => {
    await pair.close();
    dir.remove();
  });

  const tpToken = (clock = systemClock, ttlSeconds = 60) =>
    issueBoxToken(pair.tp.box.identity, { audience: pair.hub.box.identity.boxId, ttlSeconds, clock });
  const refusals = (reason: string) =>
    pair.hub.box.context.audit.list(1000, 'auth.refused').filter((e) => e.details?.reason === reason);

  it('enrols the teaching point with its one-time code and follows the hub clock', async () => {
    const snap = pair.tp.box.context.hubLink!.snapshot();
    expect(snap).toMatchObject({ enrolled: true, reachable: true });
    const peers = pair.hub.box.context.peers.list();
    expect(peers.map((p) => p.boxId)).toContain(pair.tp.box.identity.boxId);
    const ok = await callHubTime(hubUrl, await tpToken());
    expect(ok.status).toBe(200);
    expect(Math.abs((ok.body.time ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('refuses a spent, unknown or wrong enrolment code, and audits the attempt', async () => {
    const stranger = generateKeyPair();
    const body = (code: string) => ({
      code, boxId: `box-${keyId(stranger.publicKey)}`, publicKey: stranger.publicKey, hubBoxId: pair.hub.box.identity.boxId,
      at: Date.now(), name: '陌生盒子', schoolId: 'x', role: 'teaching-point', proof: 'AAAA',
    });
    const res = await fetch(`${hubUrl}/api/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body('ZZZZ-9999')) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('E_ENROL_CODE');
    const audited = pair.hub.box.context.audit.list(100, 'enrolment.request').filter((e) => e.outcome === 'refused');
    expect(audited.length).toBeGreaterThan(0);
  });

  it('audits a run of guessed enrolment codes from one address as one row with a count, not one row each', async () => {
    const guesser = generateKeyPair();
    const url = new URL(hubUrl);
    const refusedRows = () => pair.hub.box.context.audit.list(1000, 'enrolment.request').filter((e) => e.outcome === 'refused' && (e.details as { ip?: string }).ip === '127.0.0.9').length;
    // From 127.0.0.9 (Linux routes all of 127/8 to lo): a LAN device of its own.
    const guess = (code: string) => new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ code, boxId: `box-${keyId(guesser.publicKey)}`, publicKey: guesser.publicKey, hubBoxId: pair.hub.box.identity.boxId, at: Date.now(), name: '猜码', schoolId: 'x', role: 'teaching-point', proof: 'AAAA' });
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/enrol', method: 'POST', localAddress: '127.0.0.9', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    for (let i = 0; i < 15; i++) expect(await guess(`GUES-${1000 + i}`)).toBe(403);
    expect(refusedRows()).toBe(1);
  });

  it('answers 401 to a call with no token, and audits it', async () => {
    const r = await callHubTime(hubUrl);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ code: 'E_UNAUTHORIZED', details: { reason: 'missing' } });
    expect(refusals('missing').length).toBeGreaterThan(0);
  });

  it('audits a flood of refused tokens from one source as one row a minute with a count', async () => {
    const before = refusals('missing').length;
    for (let i = 0; i < 50; i++) expect((await callHubTime(hubUrl)).status).toBe(401);
    // The first refusal of this source is on record already (or, in a new minute, this flood's first).
    expect(refusals('missing').length - before).toBeLessThanOrEqual(1);
    pair.hub.box.context.audit.flush(true);
    const summary = refusals('missing')[0]!;
    expect(summary.details).toMatchObject({ repeated: true, ip: '127.0.0.1' });
    expect(summary.details!.count as number).toBeGreaterThanOrEqual(49);
  });

  it('answers 401 to an unknown box, and audits it', async () => {
    const pairKey = generateKeyPair();
    const stranger = { ...pairKey, boxId: `box-${keyId(pairKey.publicKey)}` };
    const token = await issueBoxToken(stranger, { audience: pair.hub.box.identity.boxId, ttlSeconds: 60, clock: systemClock });
    const r = await callHubTime(hubUrl, token);
    expect(r.status).toBe(401);
    expect(r.body.details?.reason).toBe('unknown-box');
    expect(refusals('unknown-box').some((e) => e.actor === stranger.boxId)).toBe(true);
  });

  it('answers 401 to a token signed by another key under an enrolled box id (forged)', async () => {
    const forger = { ...generateKeyPair(), boxId: pair.tp.box.identity.boxId };
    const r = await callHubTime(hubUrl, await issueBoxToken(forger, { audience: pair.hub.box.identity.boxId, ttlSeconds: 60, clock: systemClock }));
    expect(r.status).toBe(401);
    expect(r.body.details?.reason).toBe('bad-signature');
  });

  it('answers 401 to an expired token, and audits it', async () => {
    const past = new ManualClock(Date.now() - 15 * 60_000);
    const r = await callHubTime(hubUrl, await tpToken(past, 60));
    expect(r.status).toBe(401);
    expect(r.body.details?.reason).toBe('expired');
    expect(refusals('expired').length).toBe(1);
  });

  it('answers 401 to a long-lived token (tokens must be short-lived)', async () => {
    const r = await callHubTime(hubUrl, await tpToken(systemClock, 24 * 3600));
    expect(r.status).toBe(401);
    expect(r.body.details?.reason).toBe('too-long-lived');
  });

  it('answers 401 to a replayed token, and audits it', async () => {
    const token = await tpToken();
    expect((await callHubTime(hubUrl, token)).status).toBe(200);
    const again = await callHubTime(hubUrl, token);
    expect(again.status).toBe(401);
    expect(again.body.details?.reason).toBe('replayed');
    expect(refusals('replayed').some((e) => e.actor === pair.tp.box.identity.boxId)).toBe(true);
  });

  it('answers 401 to a revoked box from then on, and the teaching point says it is no longer enrolled', async () => {
    const session = await pinSession(hubUrl);
    const res = await fetch(`${hubUrl}/api/admin/boxes/${pair.tp.box.identity.boxId}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${session}` } });
    expect(res.status).toBe(200);
    const r = await callHubTime(hubUrl, await tpToken());
    expect(r.status).toBe(401);
    expect(r.body.details?.reason).toBe('revoked');
    expect(refusals('revoked').length).toBeGreaterThan(0);
    expect(pair.hub.box.context.audit.list(100, 'box.revoke')[0]).toMatchObject({ target: pair.tp.box.identity.boxId, outcome: 'ok' });
    const link = pair.tp.box.context.hubLink!;
    await link.tick();
    expect(link.snapshot()).toMatchObject({ enrolled: false, reachable: false, enrolmentProblem: 'revoked' });
  });

  it('locks settings after five wrong PINs and opens them with the right PIN once the lockout ends', async () => {
    const url = pair.tp.box.url;
    const tryPin = async (pin: string) => {
      const res = await fetch(`${url}/api/settings/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin }) });
      return { status: res.status, body: (await res.json()) as { code?: string; token?: string; details?: { remainingAttempts?: number; retryAfterSeconds?: number } } };
    };
    const remaining: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await tryPin('0000');
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('E_PIN_WRONG');
      remaining.push(r.body.details!.remainingAttempts!);
    }
    expect(remaining).toEqual([4, 3, 2, 1]);
    const locked = await tryPin('0000');
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('E_PIN_LOCKED');
    // During the lockout even the right PIN is refused.
    expect((await tryPin(TEST_PIN)).status).toBe(429);
    expect((await fetch(`${url}/api/settings`)).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1200));
    const ok = await tryPin(TEST_PIN);
    expect(ok.status).toBe(201);
    const settings = await fetch(`${url}/api/settings`, { headers: { authorization: `Bearer ${ok.body.token}` } });
    expect(settings.status).toBe(200);
    expect(((await settings.json()) as { ui: { language: string } }).ui.language).toBe('zh-CN');
    const audit = pair.tp.box.context.audit.list(100);
    expect(audit.some((e) => e.action === 'settings.lockout')).toBe(true);
    expect(audit.filter((e) => e.action === 'settings.unlock' && e.outcome === 'refused').length).toBeGreaterThanOrEqual(5);
  });

  it('locks only the address that guessed: another LAN address and the whiteboard (loopback) still open settings', async () => {
    const url = new URL(pair.tp.box.url);
    // Linux routes all of 127/8 to lo: 127.0.0.2 and 127.0.0.3 stand in for two LAN devices.
    const tryFrom = (localAddress: string, pin: string) => new Promise<{ status: number; body: { code?: string; token?: string; details?: { scope?: string } } }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/settings/session', method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { code?: string } }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ pin }));
    });
    for (let i = 0; i < 4; i++) expect((await tryFrom('127.0.0.2', '000000')).body.code).toBe('E_PIN_WRONG');
    const locked = await tryFrom('127.0.0.2', '000000');
    expect(locked).toMatchObject({ status: 429, body: { code: 'E_PIN_LOCKED' } });
    expect((await tryFrom('127.0.0.2', TEST_PIN)).status).toBe(429);
    // Another device, and the whiteboard's own screen, are not locked out by it.
    const other = await tryFrom('127.0.0.3', TEST_PIN);
    expect(other.status).toBe(201);
    const local = await tryFrom('127.0.0.1', TEST_PIN);
    expect(local.status).toBe(201);
    expect((await fetch(`${pair.tp.box.url}/api/settings`, { headers: { authorization: `Bearer ${local.body.token}` } })).status).toBe(200);
    expect(locked.body.details?.scope).toBe('source');
    const lockouts = pair.tp.box.context.audit.list(100, 'settings.lockout');
    expect(lockouts[0]?.details).toMatchObject({ ip: '127.0.0.2', scope: 'source' });
  });
});
