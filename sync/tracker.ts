import type { IncomingMessage, ServerResponse } from 'node:http';
import Server from 'bittorrent-tracker/server';
import type { Logger } from '../core/log.js';

export interface PrivateTracker {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * A private HTTP tracker mounted on the box's own port: it answers only for torrents in this
 * box's catalogue, with a short re-announce interval so a box that started first still finds peers.
 */
export function createTracker(o: { knows: (infohash: string) => boolean; intervalMs?: number; log: Logger }): PrivateTracker {
  const server = new Server({
    http: false, udp: false, ws: false, stats: false, interval: o.intervalMs ?? 60_000,
    filter: (infoHash, _params, cb) => cb(o.knows(infoHash) ? null : new Error('torrent not in this catalogue')),
  });
  server.on('warning', (e: Error) => o.log.debug({ err: e.message }, 'tracker warning'));
  server.on('error', (e: Error) => o.log.warn({ err: e.message }, 'tracker error'));
  return {
    handle: (req, res) => server.onHttpRequest(req, res),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
