import type { Torrent, Wire } from 'webtorrent';

interface ChokeWire extends Wire {
  amChoking: boolean;
  peerInterested: boolean;
  destroyed?: boolean;
  choke(): void;
  unchoke(): void;
}

/**
 * The origin of a catalogue (the seed, on the province link) should send each piece about once per
 * swarm. webtorrent unchokes every interested peer, so six boxes each pull the same pieces from the
 * origin. This keeps only `slots` peers unchoked at a time and rotates them, preferring the peers it
 * has sent least: the unchoked boxes get distinct pieces and pass them on to the others over the LAN.
 */
export function limitOriginSlots(torrent: Torrent, slots: number, rotateMs = 10_000): () => void {
  const allowed = new Set<ChokeWire>();
  const since = new Map<ChokeWire, number>();
  const sent = new Map<ChokeWire, number>();
  const wires = new Set<ChokeWire>();

  const rotate = () => {
    for (const w of [...wires]) if (w.destroyed) { wires.delete(w); allowed.delete(w); }
    const now = Date.now();
    const queued = [...wires].some((w) => w.peerInterested && !allowed.has(w));
    // A slot frees when its peer lost interest or left, or had its turn while others wait.
    for (const w of [...allowed]) {
      if (!w.peerInterested || (queued && now - (since.get(w) ?? 0) >= rotateMs)) {
        allowed.delete(w);
        if (!w.amChoking) w.choke();
      }
    }
    const waiting = [...wires].filter((w) => w.peerInterested && !allowed.has(w)).sort((a, b) => (sent.get(a) ?? 0) - (sent.get(b) ?? 0));
    for (const w of [...allowed]) if (w.amChoking) realUnchoke.get(w)?.();
    for (const w of waiting) {
      if (allowed.size >= slots) break;
      allowed.add(w);
      since.set(w, now);
      realUnchoke.get(w)?.();
    }
  };

  const realUnchoke = new Map<ChokeWire, () => void>();
  const onWire = (wire: Wire) => {
    const w = wire as ChokeWire;
    wires.add(w);
    const unchoke = w.unchoke.bind(w);
    realUnchoke.set(w, unchoke);
    // webtorrent unchokes on 'interested' and in its own rechoke: only peers holding a slot get through.
    w.unchoke = () => { if (allowed.has(w)) unchoke(); };
    w.on('upload', (n: number) => sent.set(w, (sent.get(w) ?? 0) + n));
    w.on('interested', () => rotate());
    w.once('close', () => { wires.delete(w); allowed.delete(w); rotate(); });
  };
  torrent.on('wire', onWire);
  const timer = setInterval(rotate, Math.max(250, Math.floor(rotateMs / 4)));
  timer.unref();
  return () => {
    clearInterval(timer);
    torrent.removeListener('wire', onWire);
  };
}
