import { describe, expect, it } from 'vitest';
import { peerOffers, webSeedDecision, SILENT_PEER_FACTOR, type WebSeedInputs } from '../../sync/web-seed-policy.js';

const bits = (set: number[]) => ({ get: (i: number) => set.includes(i) });
const wire = (type: string, pieces: number[]) => ({ type, peerPieces: bits(pieces) }) as never;
const base: WebSeedInputs = { now: 100_000, waitMs: 15_000, lastPeerDataAt: 100_000, lastSwarmDataAt: 100_000, lastOfferAt: 100_000, offersNow: true, webSeedsSince: null };

describe('web seeds are the fallback, not a second source', () => {
  it('sees an offer only from a peer holding a piece this box lacks (web seeds do not count)', () => {
    const t = (wires: never[]) => ({ pieces: [1, 2, 3, 4], bitfield: bits([0, 1]), wires });
    expect(peerOffers(t([wire('tcpOutgoing', [0, 1])]))).toBe(false);
    expect(peerOffers(t([wire('webSeed', [0, 1, 2, 3])]))).toBe(false);
    expect(peerOffers(t([wire('webSeed', [0, 1, 2, 3]), wire('tcpIncoming', [1, 3])]))).toBe(true);
  });

  it('waits while peers deliver, or while a peer holds missing pieces, for the fallback time', () => {
    expect(webSeedDecision({ ...base, lastPeerDataAt: 90_000, lastSwarmDataAt: 90_000, lastOfferAt: 90_000 })).toBe('keep');
    // Quiet for the fallback time, but a connected box still holds a piece it lacks.
    expect(webSeedDecision({ ...base, lastPeerDataAt: 80_000, lastSwarmDataAt: 80_000, lastOfferAt: 99_000 })).toBe('keep');
    // Another download of this box still receives from peers.
    expect(webSeedDecision({ ...base, lastPeerDataAt: 80_000, lastSwarmDataAt: 99_000, lastOfferAt: 80_000, offersNow: false })).toBe('keep');
  });

  it('adds web seeds when no peer can help, or when peers hold pieces but send nothing for long', () => {
    expect(webSeedDecision({ ...base, lastPeerDataAt: 85_000, lastSwarmDataAt: 85_000, lastOfferAt: 85_000, offersNow: false })).toBe('add');
    const silentSince = base.now - SILENT_PEER_FACTOR * base.waitMs;
    expect(webSeedDecision({ ...base, lastPeerDataAt: silentSince, lastSwarmDataAt: silentSince })).toBe('add');
  });

  it('lets web seeds go once boxes deliver again, not before they had the fallback time', () => {
    expect(webSeedDecision({ ...base, webSeedsSince: 80_000 })).toBe('remove');
    expect(webSeedDecision({ ...base, webSeedsSince: 95_000 })).toBe('keep');
    expect(webSeedDecision({ ...base, webSeedsSince: 80_000, offersNow: false })).toBe('keep');
    expect(webSeedDecision({ ...base, webSeedsSince: 80_000, lastPeerDataAt: 80_000 })).toBe('keep');
  });
});
