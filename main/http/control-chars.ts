import type { FastifyInstance } from 'fastify';
import { BoxError } from '../../core/errors.js';

// C0 controls, DEL and the C1 controls: never part of a path or query a person or the box's own pages make.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f|c2%[89][0-9a-f])/i;

/** BitTorrent trackers take binary info_hash and peer_id, percent-encoded (BEP 3): bytes, not text. */
const BINARY_QUERY_ROUTES = new Set(['/announce', '/scrape', '/recordings/announce']);

export function hasControlCharacters(url: string): boolean {
  if (CONTROL.test(url) || ENCODED_CONTROL.test(url)) return true;
  try {
    return CONTROL.test(decodeURIComponent(url));
  } catch {
    return false; // a bad escape is the router's to refuse
  }
}

/**
 * One hook for every route: a control character (NUL included) in the path or the query is refused with
 * a stable code before any route sees it (a NUL in a library search reached SQLite and gave a 500).
 */
export function refuseControlCharacters(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    if (BINARY_QUERY_ROUTES.has(req.routeOptions.url ?? '')) return;
    if (hasControlCharacters(req.url)) throw new BoxError('E_CONTROL_CHARACTERS', 'The address holds a control character (such as NUL), which no page of this box sends.');
  });
}
