// The few parts of the BitTorrent libraries this room uses (they ship no current types).
declare module 'webtorrent' {
  import type { EventEmitter } from 'node:events';
  export interface Wire extends EventEmitter {
    type: string;
    peerId: string;
    remoteAddress?: string;
    uploaded: number;
    downloaded: number;
    destroyed?: boolean;
    /** BitTorrent choke/interest state of this connection (sync/link-share.ts reads it). */
    amInterested: boolean;
    amChoking: boolean;
    peerInterested: boolean;
    peerChoking: boolean;
    /** What the remote side says it holds. */
    peerPieces: { get(i: number): boolean };
    destroy(): void;
  }
  export interface TorrentFile {
    name: string;
    path: string;
    length: number;
  }
  export interface Torrent extends EventEmitter {
    infoHash: string;
    name: string;
    length: number;
    downloaded: number;
    uploaded: number;
    received: number;
    progress: number;
    done: boolean;
    ready: boolean;
    paused: boolean;
    numPeers: number;
    pieceLength: number;
    pieces: unknown[];
    files: TorrentFile[];
    path: string;
    bitfield: { buffer: Uint8Array; get(i: number): boolean } | null;
    torrentFile: Uint8Array;
    wires: Wire[];
    addPeer(addr: string): boolean;
    addWebSeed(url: string): void;
    /** Disconnects a peer or web seed (a web seed's id is its URL). */
    removePeer(id: string): void;
    pause(): void;
    resume(): void;
    destroy(opts?: { destroyStore?: boolean }, cb?: (err?: Error | null) => void): void;
  }
  export interface AddOptions {
    path?: string;
    announce?: string[];
    urlList?: string[];
    bitfield?: Uint8Array;
    strategy?: 'rarest' | 'sequential';
    private?: boolean;
    skipVerify?: boolean;
    maxWebConns?: number;
  }
  export interface ClientOptions {
    dht?: boolean;
    lsd?: boolean;
    utp?: boolean;
    natUpnp?: boolean;
    natPmp?: boolean;
    webSeeds?: boolean;
    torrentPort?: number;
    downloadLimit?: number;
    uploadLimit?: number;
    maxConns?: number;
    /** Protocol encryption: 0 off, 1 MSE with plaintext fallback (default), 2 MSE only. */
    secure?: 0 | 1 | 2;
    tracker?: Record<string, unknown> | false;
  }
  export default class WebTorrent extends EventEmitter {
    constructor(opts?: ClientOptions);
    torrents: Torrent[];
    torrentPort: number;
    /** This client's peer id (hex), sent in every handshake. */
    peerId: string;
    address(): { address: string; port: number } | null;
    add(torrentId: Uint8Array | string, opts?: AddOptions, onTorrent?: (t: Torrent) => void): Torrent;
    seed(input: string | string[], opts?: Record<string, unknown>, onTorrent?: (t: Torrent) => void): Torrent;
    get(id: string): Promise<Torrent | null>;
    remove(id: string | Torrent, opts?: { destroyStore?: boolean }, cb?: (err?: Error | null) => void): Promise<void>;
    throttleDownload(rate: number): void;
    throttleUpload(rate: number): void;
    destroy(cb?: (err?: Error | null) => void): void;
  }
}

declare module 'create-torrent' {
  interface CreateOptions {
    name?: string;
    comment?: string;
    createdBy?: string;
    creationDate?: Date | number;
    private?: boolean;
    pieceLength?: number;
    announceList?: string[][];
    urlList?: string[];
  }
  export default function createTorrent(input: string | string[], opts: CreateOptions, cb: (err: Error | null, torrent: Uint8Array) => void): void;
}

declare module 'parse-torrent' {
  export interface ParsedTorrent {
    infoHash: string;
    name: string;
    length: number;
    pieceLength: number;
    lastPieceLength: number;
    pieces: string[];
    files: Array<{ name: string; path: string; length: number; offset: number }>;
    announce: string[];
    urlList: string[];
    private?: boolean;
  }
  export default function parseTorrent(input: Uint8Array | string): Promise<ParsedTorrent>;
  export function toTorrentFile(parsed: ParsedTorrent): Uint8Array;
  /** The info dictionary as given (bencoded with sorted keys), plus the non-signed top-level fields. */
  export function toTorrentFile(parsed: { info: Record<string, unknown>; announce?: string[]; urlList?: string[]; created?: Date; createdBy?: string }): Uint8Array;
}

declare module 'bittorrent-tracker/server' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';
  export default class Server extends EventEmitter {
    constructor(opts: { http?: boolean; udp?: boolean; ws?: boolean; stats?: boolean; interval?: number; trustProxy?: boolean; filter?: (infoHash: string, params: unknown, cb: (err: Error | null) => void) => void });
    onHttpRequest(req: IncomingMessage, res: ServerResponse, opts?: { action?: string }): void;
    torrents: Record<string, { peers: { length: number } }>;
    close(cb?: () => void): void;
  }
}
