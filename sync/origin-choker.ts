import type { Torrent, Wire } from 'webtorrent';

interface SeedWire extends Wire {
  destroyed?: boolean;
  hasFast: boolean;
  peerPieces: { get(i: number): boolean };
  have(i: number): void;
  bitfield(b: unknown): void;
  haveAll(): void;
  haveNone(): void;
}

export interface SuperSeedOptions {
  /** Pieces announced to one peer and not yet held by it. */
  perPeer?: number;
  /** A peer that reported no new piece for this long is given a piece others hold too (no stall). */
  starveMs?: number;
  /** A piece announced to a peer that did not ask for it within this long goes to others. */
  staleMs?: number;
  tickMs?: number;
  /** After a peer leaves, pieces no connected peer holds this much later are the origin's to send again. */
  rejoinMs?: number;
  /** This client's peer id: a connection to itself is never a box to send pieces to. */
  selfPeerId?: string;
}

/**
 * The origin of a catalogue (the seed, on the province link) should send each piece about once per
 * swarm. Like BEP 16 super-seeding, it hides which pieces it has and announces to each peer only
 * pieces no one has been sent yet, a few at a time; the boxes fetch everything else from each other.
 * A peer that made no progress for `starveMs` gets again a piece no connected box holds, so the
 * swarm never stalls when the box holding a piece has left.
 */
export function superSeed(torrent: Torrent, o: SuperSeedOptions = {}): () => void {
  const perPeer = o.perPeer ?? 4;
  const starveMs = o.starveMs ?? 30_000;
  const staleMs = o.staleMs ?? 15_000;
  const rejoinMs = o.rejoinMs ?? 15_000;
  const sweeps = new Set<NodeJS.Timeout>();
  const wires = new Map<SeedWire, { revealed: Set<number>; lastProgress: number; have: (i: number) => void }>();
  /** Piece → when it was last announced to, or asked for by, some peer. */
  const outAt = new Map<number, number>();
  const sent = new Set<number>();
  const pieceCount = () => torrent.pieces.length;

  const heldElsewhere = (i: number, except: SeedWire) => [...wires.keys()].some((w) => w !== except && !w.destroyed && w.peerPieces.get(i));

  const topUp = (w: SeedWire) => {
    const s = wires.get(w);
    const n = pieceCount();
    if (!s || w.destroyed || !n) return;
    const now = Date.now();
    // A piece announced long ago and still not held no longer blocks the peer's next piece.
    let pending = [...s.revealed].filter((i) => !w.peerPieces.get(i) && now - (outAt.get(i) ?? 0) < staleMs).length;
    for (let i = 0; i < n && pending < perPeer; i++) {
      if (s.revealed.has(i) || w.peerPieces.get(i)) continue;
      const busy = sent.has(i) || now - (outAt.get(i) ?? -Infinity) < staleMs;
      if (busy) continue;
      s.revealed.add(i); outAt.set(i, now); pending++;
      s.have(i);
    }
    if (now - s.lastProgress < starveMs) return;
    // Starved: the least available piece it lacks, even if it leaves the origin twice.
    let best = -1;
    let bestHeld = true;
    for (let i = 0; i < n; i++) {
      if (s.revealed.has(i) || w.peerPieces.get(i)) continue;
      const held = heldElsewhere(i, w);
      if (best < 0 || (bestHeld && !held)) { best = i; bestHeld = held; }
      if (!held) break;
    }
    // A piece some connected box holds is left to the boxes; the origin sends only what it alone can.
    if (best >= 0 && bestHeld) best = -1;
    if (best >= 0) {
      s.revealed.add(best); outAt.set(best, now); s.lastProgress = now;
      s.have(best);
    }
  };

  const onWire = (wire: Wire) => {
    const w = wire as SeedWire;
    if (w.destroyed || (o.selfPeerId !== undefined && w.peerId === o.selfPeerId)) return;
    const have = w.have.bind(w);
    const haveNone = w.haveNone.bind(w);
    const bitfield = w.bitfield.bind(w);
    // webtorrent announces every piece (bitfield / have-all); the origin announces none and reveals them itself.
    w.have = () => undefined;
    w.haveAll = () => haveNone();
    w.bitfield = () => {
      const bytes = new Uint8Array(Math.ceil(pieceCount() / 8));
      bitfield(bytes);
    };
    wires.set(w, { revealed: new Set(), lastProgress: Date.now(), have });
    const asked = new Set<number>();
    w.on('request', (index: number) => { sent.add(index); asked.add(index); outAt.set(index, Date.now()); });
    w.on('have', () => {
      const s = wires.get(w);
      if (s) s.lastProgress = Date.now();
      for (const other of wires.keys()) topUp(other);
    });
    w.once('close', () => {
      wires.delete(w);
      // A box that left (killed, disk full) before holding a piece it asked for: the piece is unsent again.
      for (const i of asked) if (!w.peerPieces.get(i) && !heldElsewhere(i, w)) { sent.delete(i); outAt.delete(i); }
      // So is a piece it held that no connected box holds once it had time to come back (a box rejoins as a seeder
      // when an item completes): a box that comes later gets it from the origin at full speed, not by the starved
      // trickle of one piece per starveMs.
      const sweep = setTimeout(() => {
        sweeps.delete(sweep);
        for (const i of sent) if (!heldElsewhere(i, w)) sent.delete(i);
      }, rejoinMs);
      sweep.unref();
      sweeps.add(sweep);
    });
    setTimeout(() => topUp(w), 0);
  };
  torrent.on('wire', onWire);
  const timer = setInterval(() => { for (const w of [...wires.keys()]) { if (w.destroyed) wires.delete(w); else topUp(w); } }, o.tickMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const t of sweeps) clearTimeout(t);
    torrent.removeListener('wire', onWire);
  };
}
