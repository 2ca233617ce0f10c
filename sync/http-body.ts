import { BoxError } from '../core/errors.js';

/**
 * A response body as one Buffer, filled as chunks arrive: `arrayBuffer()` holds every chunk and then a copy
 * of all of them, twice the memory for a manifest of tens of MB. Refuses bodies over `maxBytes`.
 */
export async function readBody(res: Response, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new BoxError('E_CATALOG_SOURCE', `${what} is ${declared} bytes, more than the ${maxBytes} a box reads.`);
  if (!res.body) return Buffer.alloc(0);
  let buf = Buffer.allocUnsafe(Number.isFinite(declared) && declared >= 0 ? declared : 1024 * 1024);
  let n = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (n + chunk.length > buf.length) {
      if (n + chunk.length > maxBytes) throw new BoxError('E_CATALOG_SOURCE', `${what} is more than the ${maxBytes} bytes a box reads.`);
      const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(buf.length * 2, n + chunk.length)));
      buf.copy(grown, 0, 0, n);
      buf = grown;
    }
    buf.set(chunk, n);
    n += chunk.length;
  }
  return n === buf.length ? buf : buf.subarray(0, n);
}
