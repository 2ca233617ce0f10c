import type { IncomingMessage, ServerResponse } from 'node:http';
import Server from 'bittorrent-tracker/server';
import type { Logger } from '../core/log.js';

export interface PrivateTracker {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

export interface PrivateTrackerOptions {
  /** The filter: only these torrents are served (the catalogue's, a hub's published recordings…). */
  knows: (infohash: string) => boolean;
  intervalMs?: number;
  log: Logger;
  /** Mounted at a path other than /announce (e.g. /recordings/announce): every request is an announce. */
  announceAnyPath?: boolean;
  /** What a client asking for another torrent is told. */
  refusal?: string;
}

/**
 * A private HTTP tracker mounted on the box's own port: it answers only for torrents this box
 * knows, with a short re-announce interval so a box that started first still finds peers.
 */
export function createTracker(o: PrivateTrackerOptions): PrivateTracker {
  const server = new Server({
    http: false, udp: false, ws: false, stats: false, interval: o.intervalMs ?? 60_000,
    filter: (infoHash, _params, cb) => cb(o.knows(infoHash) ? null : new Error(o.refusal ?? 'torrent not in this catalogue')),
  });
  server.on('warning', (e: Error) => o.log.debug({ err: e.message }, 'tracker warning'));
  server.on('error', (e: Error) => o.log.warn({ err: e.message }, 'tracker error'));
  return {
    handle: (req, res) => server.onHttpRequest(req, res, o.announceAnyPath ? { action: 'announce' } : {}),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
