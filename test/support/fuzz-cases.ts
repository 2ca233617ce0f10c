// Building blocks for the HTTP fuzz test: a seeded PRNG, a raw HTTP client that sends paths exactly
// as written, hostile payloads, and a parser for fastify's printRoutes() tree.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  sample<T>(xs: readonly T[], n: number): T[] {
    const copy = [...xs];
    const out: T[] = [];
    while (out.length < n && copy.length) out.push(copy.splice(Math.floor(this.next() * copy.length), 1)[0]!);
    return out;
  }
  string(n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(0, 255)));
  }
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  /** 0 when no answer came (connection refused, reset before a status line, timeout). */
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  error?: string;
}

/**
 * One request on a fresh connection. The path goes out byte for byte (no URL normalisation), a
 * 101 Switching Protocols is reported as status 101, and the connection is dropped after the answer.
 */
export function sendRaw(port: number, r: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string> = { ...r.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
    let settled = false;
    const done = (res: RawResponse) => {
      if (settled) return;
      settled = true;
      resolve(res);
    };
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent: false, timeout: timeoutMs });
    } catch (e) {
      done({ status: 0, headers: {}, text: '', error: `client refused to send: ${(e as Error).message}` });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // The box may not have read a body it did not want: drop the connection rather than finish sending.
        req.destroy();
        done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), error: e.message }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      done({ status: res.statusCode ?? 101, headers: res.headers, text: '' });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => done({ status: 0, headers: {}, text: '', error: e.code ?? e.message }));
    req.end(body);
  });
}

/** Parses `printRoutes({ commonPrefix: false })` into sorted "METHOD /path" lines, HEAD left out. */
export function parseRouteTree(tree: string): string[] {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const raw of tree.split('\n')) {
    const line = raw.replace(/\u00a0/g, ' ');
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const seg = m[2]!;
    const parent = depth === 0 ? '' : stack[depth - 1]!;
    // find-my-way prints `/a/*` next to `/a` as a child `*` of `a`, without the slash.
    const path = depth === 0 ? (seg.startsWith('/') ? seg : `/${seg}`) : seg === '*' && !parent.endsWith('/') ? `${parent}/*` : parent + seg;
    stack.push(path);
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method && method !== 'HEAD') out.add(`${method} ${path}`);
    }
  }
  return [...out].sort();
}

// ---------------------------------------------------------------------------------------------
// Payloads

export const INVALID_JSON = [
  '{', '{"pin":', "{'pin':'1234'}", '{"pin":"1234",}', 'NaN', '{"a":1}}', 'undefined', '[1,2', '\u0000', '{"pin":"1234"} trailing',
'{"pin":"\\x41"}', '--', '{"a":01}', '{"a":Infinity}', '{"a":"\u0001"}', '/* c */ {}', '{"a" 1}',
];

export const WRONG_TYPES: unknown[] = [null, [], 42, 'a string', true, false, [null], [{}], {}, -0, 1e308, { '': '' }, { a: { b: { c: [] } } }, [[[[[]]]]]];

/** Query strings carrying a control character (C0, DEL, C1; raw-encoded or in UTF-8): every route answers 400 E_CONTROL_CHARACTERS. */
export const CONTROL_QUERIES = [
  'q=%00', 'q=%E6%95%B0%00%E5%AD%A6', 'limit=1%00', 'action=%1B%5B31m', 'q=%7F', 'x=%0D%0ASet-Cookie:%20a=b', 'q=%C2%85', 'token=%00mt_x', 'q=a%09b', '%00=1',
];
/** Path parameters carrying one: the same answer. */
export const CONTROL_PARAMS = ['%00', 'a%00b', '%0A', '%1F', '%7F', '%C2%9F', 'item%0D%0Aid'];

export const UNICODE = [
  '\u0000', '\u0007\u001b[31mred\u001b[0m', '\ud800', '\udfff\ud800', '\u202eevil\u202c', '💥🧨', '\u200b\u200d\ufeff', '１２３４', '١٢٣٤',
  'é\u0301', '\r\n\r\nHTTP/1.1 200 OK', '<script>alert(1)</script>', "'; DROP TABLE audit_log; --", '%00%zz', '\\u0000', '../../etc/passwd', '数学'.repeat(500),
];

/** Bracketed nesting `depth` deep, with `inner` at the bottom. JSON.parse copes; recursive code may not. */
export function deepJson(kind: 'array' | 'object', depth: number, inner = '1'): string {
  return kind === 'array' ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

/** A minimal offer that passes the box's own SDP checks (ICE credentials, fingerprint, one m= line). */
export function plausibleOffer(rng: Rng): string {
  const fp = createHash('sha256').update(rng.string(8)).digest('hex').toUpperCase().match(/../g)!.join(':');
  return [
    'v=0', `o=- ${rng.int(1, 1e9)} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly',
    `a=ice-ufrag:${rng.string(8)}`, `a=ice-pwd:${rng.string(24)}`, `a=fingerprint:sha-256 ${fp}`, 'a=setup:actpass', 'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000', '',
  ].join('\r\n');
}

/** Malformed or hostile SDP offers: structure broken in one way each, or the plausible offer mangled. */
export function junkSdp(rng: Rng): string | Buffer {
  const good = plausibleOffer(rng);
  const lines = good.split('\r\n');
  const options: Array<() => string | Buffer> = [
    () => '',
    () => '   \r\n',
    () => 'v=0',
    () => 'v=1\r\ns=-\r\n',
    () => 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
    () => good.replace(/a=ice-pwd:.*\r\n/, ''),
    () => good.replace(/a=fingerprint:.*\r\n/, 'a=fingerprint:sha-256 ZZ\r\n'),
    () => good.replace('m=video 9 UDP/TLS/RTP/SAVPF 96', 'm=video -1 UDP/TLS/RTP/SAVPF 999999999999'),
    () => good.replace('m=video 9 UDP/TLS/RTP/SAVPF 96', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel'),
    () => good.replace('m=video 9 UDP/TLS/RTP/SAVPF 96', `m=${rng.string(3000)}`),
    () => good.replace('c=IN IP4 0.0.0.0', 'c=IN IP4 999.999.999.999'),
    () => good.replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 VP8/-1\r\na=fmtp:96 x=' + 'y'.repeat(10_000)),
    () => good + 'a=candidate:1 1 udp 2122260223 256.0.0.1 99999 typ host\r\n'.repeat(200),
    () => good + lines.slice(5).join('\r\n').repeat(500),
    () => good.replace(/\r\n/g, '\n'),
    () => good.replace(/\r\n/g, '\r'),
    () => lines.filter(() => rng.next() < 0.7).join('\r\n'),
    () => lines.map((l) => (rng.next() < 0.2 ? `${l}${rng.pick(UNICODE)}` : l)).join('\r\n'),
    () => good.replace('a=sendonly', 'a=sendrecv\r\na=recvonly\r\na=inactive'),
    () => good.replace('a=ice-ufrag:', 'a=ice-ufrag:\u0000'),
    () => Buffer.concat([Buffer.from('v=0\r\n'), rng.bytes(rng.int(10, 2000))]),
    () => `v=0\r\n${'a=x:'.padEnd(200_000, 'x')}\r\n`,
  ];
  return rng.pick(options)();
}

const binary = (rng: Rng, n: number) => [...rng.bytes(n)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** A well-formed announce (also a fine scrape query): 20-byte info_hash and peer_id, port, counters. */
export function validAnnounce(rng: Rng): string {
  return `info_hash=${binary(rng, 20)}&peer_id=${binary(rng, 20)}&port=6881&uploaded=0&downloaded=0&left=0&compact=1`;
}

/** Query strings a BitTorrent tracker has to survive (binary info_hash, wrong lengths, junk numbers). */
export function trackerQuery(rng: Rng): string {
  const bin = (n: number) => binary(rng, n);
  return rng.pick([
    () => validAnnounce(rng),
    () => `info_hash=${bin(rng.int(0, 40))}&peer_id=${bin(rng.int(0, 40))}&port=${rng.pick(['-1', '99999999', 'abc', ''])}`,
    () => `info_hash=${bin(20)}&info_hash=${bin(20)}&event=${rng.pick(['started', 'stopped', 'completed', 'paused', '%00'])}&numwant=${rng.pick(['-5', '1e99', '100000000'])}`,
    () => `info_hash=%zz&peer_id=%&port=1`,
    () => `compact=1&left=${rng.pick(['NaN', '-1', '1'.repeat(40)])}&ip=${rng.pick(['999.1.1.1', '::ffff:', '<script>'])}`,
    () => rng.string(rng.int(0, 300), 'abc=&%0123456789_'),
    () => '',
  ])();
}
