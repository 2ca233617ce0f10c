import type { Wire } from 'webtorrent';

/** True when a connected BitTorrent peer (not a web seed) holds a piece this torrent still lacks. */
export function peerOffers(t: { wires: ReadonlyArray<Pick<Wire, 'type' | 'destroyed' | 'peerPieces'>>; bitfield: { get(i: number): boolean } | null; pieces: { length: number } }): boolean {
  const have = t.bitfield;
  if (!have) return false;
  const n = t.pieces.length;
  for (const w of t.wires) {
    if (w.type === 'webSeed' || w.destroyed) continue;
    for (let i = 0; i < n; i++) if (!have.get(i) && w.peerPieces.get(i)) return true;
  }
  return false;
}

export interface WebSeedInputs {
  now: number;
  /** The fallback time (preferences.webSeedFallbackMs). */
  waitMs: number;
  /** Last time a peer sent data for this torrent (its start counts as such). */
  lastPeerDataAt: number;
  /** Last time any peer sent data for any torrent of this box. */
  lastSwarmDataAt: number;
  /** Last time a connected peer held a piece this torrent lacks. */
  lastOfferAt: number;
  offersNow: boolean;
  /** When the web seeds joined this torrent; null when they are not in use. */
  webSeedsSince: number | null;
}

/** A peer that holds pieces but sent nothing for this many fallback times is as good as no peer. */
export const SILENT_PEER_FACTOR = 4;

/**
 * Web seeds are served by the origin over its province link: they are the fallback when no box can help, never a
 * second source while boxes still hold what this box lacks. Each time a web seed fetches a piece some box holds,
 * the origin sends that piece once more.
 */
export function webSeedDecision(i: WebSeedInputs): 'add' | 'remove' | 'keep' {
  const peersQuiet = i.now - i.lastPeerDataAt >= i.waitMs && i.now - i.lastSwarmDataAt >= i.waitMs;
  if (i.webSeedsSince === null) {
    if (!peersQuiet) return 'keep';
    const nobodyOffers = i.now - i.lastOfferAt >= i.waitMs;
    const offersButSilent = i.now - i.lastPeerDataAt >= SILENT_PEER_FACTOR * i.waitMs;
    return nobodyOffers || offersButSilent ? 'add' : 'keep';
  }
  // Boxes hold pieces again and deliver them: the web seeds leave (they come back if the swarm stalls again).
  const peersDeliver = i.now - i.lastPeerDataAt < i.waitMs;
  return i.offersNow && peersDeliver && i.now - i.webSeedsSince >= i.waitMs ? 'remove' : 'keep';
}
