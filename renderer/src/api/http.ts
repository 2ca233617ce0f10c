// The renderer talks only to its own box: every request is a relative URL on this origin.

/** An API failure with the box's stable code (E_…); E_OFFLINE when the box did not answer at all. */
export class ApiError extends Error {
  constructor(readonly code: string, readonly status: number, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  token?: string | null;
  timeoutMs?: number;
}

function sameOrigin(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//')) throw new Error(`not a path on this box: ${path}`);
  return path;
}

export async function request(path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(sameOrigin(path), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      cache: 'no-store',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 8000),
    });
  } catch {
    throw new ApiError('E_OFFLINE', 0, 'the box did not answer');
  }
  if (!res.ok) {
    let code = 'E_INTERNAL';
    let message = `HTTP ${res.status}`;
    let details: Record<string, unknown> = {};
    try {
      const body = (await res.json()) as { code?: unknown; message?: unknown; details?: unknown };
      if (typeof body.code === 'string') code = body.code;
      if (typeof body.message === 'string') message = body.message;
      if (body.details && typeof body.details === 'object') details = body.details as Record<string, unknown>;
    } catch {
      // not JSON (a proxy page, or the service worker's fallback): keep the HTTP status only
      if (res.status === 404) code = 'E_NOT_FOUND';
    }
    throw new ApiError(code, res.status, message, details);
  }
  return res;
}

export async function getJson<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await request(path, opts);
  return (await res.json()) as T;
}

/** A screen's data: loaded, empty, a route this box does not offer (yet), or an error to put in words. */
export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'unavailable' }
  | { state: 'error'; error: ApiError };

/** Loads a resource; a 404 on the route itself means this box does not offer it. */
export async function load<T>(path: string, opts: RequestOptions = {}): Promise<Loaded<T>> {
  try {
    return { state: 'ready', data: await getJson<T>(path, opts) };
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError('E_INTERNAL', 0, String(e));
    if (err.status === 404 && err.code === 'E_NOT_FOUND') return { state: 'unavailable' };
    return { state: 'error', error: err };
  }
}
