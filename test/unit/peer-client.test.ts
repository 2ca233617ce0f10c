// The one box-to-box client against a real HTTP server on loopback: every call carries a fresh token the
// other box accepts once; a slow, dead, oversized or malformed answer becomes a clear error, never a hang.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { PeerClient, PeerHttpError } from '../../core/peer-client.js';
import { verifyBoxToken } from '../../core/box-token.js';
import { generateKeyPair } from '../../core/signing.js';
import { boxIdOf } from '../../core/identity.js';
import { systemClock } from '../../core/clock.js';
import { bearer } from '../../core/bearer.js';
import { isBoxError } from '../../core/errors.js';

const me = (() => { const k = generateKeyPair(); return { ...k, boxId: boxIdOf(k.publicKey) }; })();
const HUB = 'box-hub0000';
const seen = new Set<string>();

async function accepts(auth: string | undefined): Promise<string> {
  const { boxId } = await verifyBoxToken(bearer(auth), {
    audience: HUB, clock: systemClock, toleranceSeconds: 5, maxTtlSeconds: 60,
    lookup: (id) => (id === me.boxId ? { publicKey: me.publicKey, status: 'active' } : undefined),
    remember: (jti) => (seen.has(jti) ? false : (seen.add(jti), true)),
  });
  return boxId;
}

describe('peer client', () => {
  let server: Server;
  let wss: { close(): void };
  let base: string;
  const hung = new Set<() => void>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const send = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => { res.writeHead(status, headers); res.end(body); };
      if (req.url === '/api/peer/time') {
        accepts(req.headers.authorization).then((boxId) => send(200, JSON.stringify({ time: Date.now(), boxId })), (e: Error) => send(401, JSON.stringify({ code: 'E_UNAUTHORIZED', message: e.message })));
      } else if (req.url === '/huge-declared') send(200, 'x'.repeat(5000));
      else if (req.url === '/huge-chunked') {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 20; i++) res.write('x'.repeat(1000));
        res.end();
      } else if (req.url === '/slow') hung.add(() => send(200, '{}'));
      else if (req.url === '/not-json') send(200, '<html>captive portal</html>', { 'content-type': 'text/html' });
      else if (req.url === '/refuse') send(403, JSON.stringify({ code: 'E_FORBIDDEN', message: 'not yours', details: { reason: 'revoked' } }));
      else if (req.url === '/redirect') send(302, '', { location: 'http://127.0.0.1:1/elsewhere' });
      else if (req.url === '/echo' && req.method === 'POST') {
        let b = '';
        req.on('data', (c: Buffer) => { b += c.toString(); });
        req.on('end', () => send(200, JSON.stringify({ got: JSON.parse(b), type: req.headers['content-type'], auth: req.headers.authorization ?? null })));
      } else send(404, '{}');
    });
    const ws = new WebSocketServer({ server });
    ws.on('connection', (sock: { send(d: string): void; close(c: number): void }, req: { headers: { authorization?: string } }) => {
      void accepts(req.headers.authorization).then((id) => sock.send(id), () => sock.close(4401));
    });
    wss = ws;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const f of hung) f();
    wss.close();
    await new Promise((r) => server.close(r));
  });

  const client = (extra: Partial<ConstructorParameters<typeof PeerClient>[0]> = {}) =>
    new PeerClient({ baseUrl: base, peerBoxId: HUB, identity: me, clock: systemClock, timeoutMs: 2000, maxBytes: 4096, ...extra });

  it('signs a fresh single-use token for every call, which the other box accepts', async () => {
    const c = client();
    for (let i = 0; i < 3; i++) expect(await c.json<{ boxId: string }>('/api/peer/time')).toMatchObject({ boxId: me.boxId });
    expect(seen.size).toBe(3);
  });

  it('sends JSON bodies, and none of its token on an anonymous call', async () => {
    const r = await client().json<{ got: unknown; type: string; auth: string | null }>('/echo', { json: { a: 1 }, anonymous: true });
    expect(r).toEqual({ got: { a: 1 }, type: 'application/json', auth: null });
  });

  it('refuses an answer larger than the cap, declared or streamed', async () => {
    for (const path of ['/huge-declared', '/huge-chunked']) {
      const e = await client().request(path).catch((x: unknown) => x);
      expect(isBoxError(e) && e.code).toBe('E_PEER_ANSWER_TOO_LARGE');
    }
    expect((await client({ maxBytes: 50_000 }).request('/huge-chunked')).body.length).toBe(20_000);
  });

  it('gives up on a box that does not answer in time, and names an unreachable one', async () => {
    const started = Date.now();
    const slow = await client({ timeoutMs: 300 }).request('/slow').catch((x: unknown) => x);
    expect(isBoxError(slow) && slow.code).toBe('E_PEER_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(2000);
    const dead = await new PeerClient({ baseUrl: 'http://127.0.0.1:1', peerBoxId: HUB, identity: me, clock: systemClock }).request('/x').catch((x: unknown) => x);
    expect(isBoxError(dead) && dead.code).toBe('E_PEER_UNREACHABLE');
    expect((dead as Error).message).toContain('127.0.0.1:1');
  });

  it('turns HTTP errors, malformed answers and redirects into errors', async () => {
    const refused = await client().json('/refuse').catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(PeerHttpError);
    expect(refused).toMatchObject({ status: 403, answer: { code: 'E_FORBIDDEN', details: { reason: 'revoked' } } });
    const html = await client().json('/not-json').catch((x: unknown) => x);
    expect(isBoxError(html) && html.code).toBe('E_PEER_ANSWER_MALFORMED');
    const moved = await client().request('/redirect').catch((x: unknown) => x);
    expect(isBoxError(moved) && moved.code).toBe('E_PEER_UNREACHABLE');
  });

  it('opens an authenticated WebSocket on the same base URL', async () => {
    const ws = await client().webSocket('/control');
    const id = await new Promise<string>((resolve, reject) => {
      ws.on('message', (d) => resolve(d.toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(id).toBe(me.boxId);
  });

  it('keeps a base URL path prefix (a box behind a reverse proxy)', () => {
    const c = new PeerClient({ baseUrl: 'http://[2001:db8::10]:8420/box', peerBoxId: HUB, identity: me, clock: systemClock });
    expect(c.url('/api/peer/time').toString()).toBe('http://[2001:db8::10]:8420/box/api/peer/time');
  });
});
