// The one client for box-to-box calls (a teaching point to its hub, a hub to a teaching point's
// camera endpoint): base URL, a fresh single-use box token per call, a timeout, and a size cap on
// every answer read. Transport security (pinning the other box's key) belongs here and nowhere else.
import { WebSocket } from 'ws';
import type { Clock } from './clock.js';
import { BoxError } from './errors.js';
import { issueBoxToken, type TokenIssuer } from './box-token.js';
import { bearerHeader } from './bearer.js';

export interface PeerClientOptions {
  /** The other box's base URL, e.g. http://[2001:db8::10]:8420 (a path prefix is kept). */
  baseUrl: string;
  /** The other box's id: the audience of every token this client signs. */
  peerBoxId: string;
  identity: TokenIssuer;
  clock: Clock;
  tokenTtlSeconds?: number;
  timeoutMs?: number;
  /** Largest answer body read, bytes; a larger one is refused (E_PEER_ANSWER_TOO_LARGE). */
  maxBytes?: number;
}

/** The calls the box makes on a box-to-box WebSocket (a `ws` client socket). */
export interface PeerSocket {
  readyState: number;
  /** Bytes queued for sending and not yet handed to the network. */
  bufferedAmount: number;
  send(data: string): void;
  close(): void;
  terminate(): void;
  on(ev: 'open' | 'close', fn: () => void): void;
  on(ev: 'message', fn: (data: Buffer) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
}

export interface PeerRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
  /** No box token: the other box does not know this one yet (enrolment). */
  anonymous?: boolean;
}

export interface PeerResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  /** The answer body, at most `maxBytes`. */
  body: Buffer;
  text(): string;
  /** The body parsed as JSON; E_PEER_ANSWER_MALFORMED when it is not. */
  json<T = unknown>(): T;
}

/** The other box answered with an HTTP error: its status and, when it sent one, its `{ code, message, details }`. */
export class PeerHttpError extends Error {
  constructor(readonly status: number, readonly answer: { code?: string; message?: string; details?: { reason?: string } & Record<string, unknown> }) {
    super(`the other box answered ${status}${answer.code ? ` ${answer.code}` : ''}${answer.message ? `: ${answer.message.slice(0, 200)}` : ''}`);
    this.name = 'PeerHttpError';
  }
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new BoxError('E_PEER_ANSWER_TOO_LARGE', `The other box's answer is ${declared} bytes, more than the ${max} accepted.`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new BoxError('E_PEER_ANSWER_TOO_LARGE', `The other box's answer is more than the ${max} bytes accepted.`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, total);
}

export class PeerClient {
  readonly peerBoxId: string;

  constructor(private readonly o: PeerClientOptions) {
    this.peerBoxId = o.peerBoxId;
  }

  get baseUrl(): string {
    return this.o.baseUrl;
  }

  /** A fresh single-use token for one call to the other box (WHIP/WHEP links sign one per request). */
  token = (): Promise<string> =>
    issueBoxToken(this.o.identity, { audience: this.o.peerBoxId, ttlSeconds: this.o.tokenTtlSeconds ?? 60, clock: this.o.clock });

  /** The absolute URL of a path on the other box. */
  url(path: string): URL {
    const base = this.o.baseUrl.endsWith('/') ? this.o.baseUrl : `${this.o.baseUrl}/`;
    return new URL(path.replace(/^\//, ''), base);
  }

  /** One call; any HTTP status comes back (see `json()` for the throwing form). Network failures and timeouts throw E_PEER_UNREACHABLE. */
  async request(path: string, r: PeerRequest = {}): Promise<PeerResponse> {
    const headers: Record<string, string> = { ...r.headers };
    if (!r.anonymous) Object.assign(headers, bearerHeader(await this.token()));
    let body: string | undefined;
    if (r.json !== undefined) {
      body = JSON.stringify(r.json);
      headers['content-type'] = 'application/json';
    } else if (r.body !== undefined) {
      body = r.body;
      if (r.contentType) headers['content-type'] = r.contentType;
    }
    const url = this.url(path);
    let res: Response;
    try {
      res = await fetch(url, { method: r.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: AbortSignal.timeout(r.timeoutMs ?? this.o.timeoutMs ?? 10_000), redirect: 'error' });
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? 'did not answer in time' : ((e as { cause?: Error }).cause?.message ?? (e as Error).message);
      throw new BoxError('E_PEER_UNREACHABLE', `Cannot reach the other box at ${url.origin}: ${why}.`);
    }
    let bytes: Buffer;
    try {
      bytes = await readCapped(res, r.maxBytes ?? this.o.maxBytes ?? DEFAULT_MAX_BYTES);
    } catch (e) {
      if (e instanceof BoxError) throw e;
      throw new BoxError('E_PEER_UNREACHABLE', `The answer from ${url.origin} broke off: ${(e as Error).message}.`);
    }
    return {
      status: res.status, ok: res.ok, headers: res.headers, body: bytes,
      text: () => bytes.toString('utf8'),
      json<T>(): T {
        try {
          return JSON.parse(bytes.toString('utf8')) as T;
        } catch {
          throw new BoxError('E_PEER_ANSWER_MALFORMED', `The other box's answer to ${url.pathname} is not JSON.`);
        }
      },
    };
  }

  /** A call whose answer must be a 2xx JSON body; anything else throws (PeerHttpError for an HTTP error). */
  async json<T = unknown>(path: string, r: PeerRequest = {}): Promise<T> {
    const res = await this.request(path, r);
    if (!res.ok) {
      let answer: PeerHttpError['answer'] = {};
      try { answer = JSON.parse(res.text()) as PeerHttpError['answer']; } catch { /* not JSON: status only */ }
      throw new PeerHttpError(res.status, answer && typeof answer === 'object' ? answer : {});
    }
    return res.json<T>();
  }

  /** A WebSocket to the other box (ws: or wss: after the base URL), authenticated with a fresh token. */
  async webSocket(path: string, opts: { handshakeTimeoutMs?: number; maxPayload?: number } = {}): Promise<PeerSocket> {
    const url = this.url(path);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(url, {
      headers: bearerHeader(await this.token()), handshakeTimeout: opts.handshakeTimeoutMs ?? 5000,
      maxPayload: opts.maxPayload ?? 1024 * 1024, followRedirects: false,
    }) as PeerSocket;
  }
}
