import { describe, expect, it } from 'vitest';
import type { Torrent, Wire } from 'webtorrent';
import { LinkShare, splitRate, torrentActivity, type LinkActivity, type LinkShareMember } from '../../sync/link-share.js';

/** A link user whose activity the test sets, recording the rates it would apply. */
function user(share: LinkShare, name: string, plan: { down: number; up: number }) {
  const state: LinkActivity = { down: false, up: false };
  const applied: Array<{ down: number; up: number }> = [];
  // join() may call onShareChange before it returns: the member is read through a holder.
  const ref: { member?: LinkShareMember } = {};
  const apply = () => { if (ref.member) applied.push({ down: ref.member.rate('down', plan.down), up: ref.member.rate('up', plan.up) }); };
  ref.member = share.join(name, { activity: () => ({ ...state }), onShareChange: apply });
  apply();
  return { state, applied, member: ref.member, last: () => applied[applied.length - 1]! };
}

describe('the link share between the box torrent clients', () => {
  it('splits a rate evenly; no limit and paused pass through', () => {
    expect(splitRate(40_000, 1)).toBe(40_000);
    expect(splitRate(40_000, 2)).toBe(20_000);
    expect(splitRate(40_001, 2)).toBe(20_000);
    expect(splitRate(-1, 2)).toBe(-1);
    expect(splitRate(0, 2)).toBe(0);
    expect(splitRate(1, 2)).toBe(1);
    expect(splitRate(40_000, 0)).toBe(40_000);
  });

  it('gives all of a direction to the only active user and half each while both are, re-applying on a change', () => {
    const share = new LinkShare({ intervalMs: 0 });
    const sync = user(share, 'sync', { down: 40_000, up: 10_000 });
    const rec = user(share, 'recordings', { down: 40_000, up: 10_000 });
    expect(sync.last()).toEqual({ down: 40_000, up: 10_000 });
    expect(rec.last()).toEqual({ down: 40_000, up: 10_000 });

    // Sync downloads: it keeps the whole download rate; the idle recordings client is held at its share.
    sync.state.down = true;
    share.poll();
    expect(sync.last()).toEqual({ down: 40_000, up: 10_000 });
    expect(rec.last()).toEqual({ down: 20_000, up: 10_000 });

    // Both download: half each, each told once.
    rec.state.down = true;
    const before = sync.applied.length;
    share.poll();
    expect(sync.applied.length).toBe(before + 1);
    expect(sync.last()).toEqual({ down: 20_000, up: 10_000 });
    expect(rec.last()).toEqual({ down: 20_000, up: 10_000 });
    const told = [sync.applied.length, rec.applied.length];
    share.poll();
    expect([sync.applied.length, rec.applied.length]).toEqual(told);

    // The directions are independent: an upload of recordings does not touch the split download.
    rec.state.up = true;
    share.poll();
    expect(sync.last()).toEqual({ down: 20_000, up: 5000 });
    expect(rec.last()).toEqual({ down: 20_000, up: 10_000 });

    // Sync's download ends: recordings gets all of it again.
    sync.state.down = false;
    share.poll();
    expect(rec.last()).toEqual({ down: 40_000, up: 10_000 });

    // A user that leaves no longer counts.
    sync.state.down = true;
    share.poll();
    expect(rec.last().down).toBe(20_000);
    sync.member.leave();
    expect(rec.last().down).toBe(40_000);
    share.close();
  });

  it('treats a user whose activity throws as idle', () => {
    const share = new LinkShare({ intervalMs: 0 });
    const rec = user(share, 'recordings', { down: 40_000, up: -1 });
    share.join('broken', { activity: () => { throw new Error('closing'); }, onShareChange: () => undefined });
    expect(rec.last()).toEqual({ down: 40_000, up: -1 });
    expect(share.snapshot()).toEqual([{ name: 'recordings', down: false, up: false }, { name: 'broken', down: false, up: false }]);
    share.close();
  });

  it('polls by itself every intervalMs', async () => {
    const share = new LinkShare({ intervalMs: 50 });
    const a = user(share, 'a', { down: 1000, up: 1000 });
    user(share, 'b', { down: 1000, up: 1000 }).state.down = true;
    await new Promise((r) => setTimeout(r, 200));
    expect(a.last().down).toBe(500);
    share.close();
    expect(() => new LinkShare({ intervalMs: -1 })).toThrow(/intervalMs/);
  });

  it('reads activity from torrent wires: wanting pieces from an unchoking peer, or a peer let to want ours', () => {
    const wire = (w: Partial<Wire>) => ({ amInterested: false, amChoking: true, peerInterested: false, peerChoking: true, ...w }) as Wire;
    const torrent = (done: boolean, wires: Wire[]) => ({ done, wires }) as unknown as Torrent;
    expect(torrentActivity([])).toEqual({ down: false, up: false });
    expect(torrentActivity([torrent(false, [wire({ amInterested: true })])])).toEqual({ down: false, up: false });
    expect(torrentActivity([torrent(false, [wire({ amInterested: true, peerChoking: false })])])).toEqual({ down: true, up: false });
    expect(torrentActivity([torrent(true, [wire({ amInterested: true, peerChoking: false })])])).toEqual({ down: false, up: false });
    expect(torrentActivity([torrent(true, [wire({ peerInterested: true })])])).toEqual({ down: false, up: false });
    expect(torrentActivity([torrent(true, [wire({ peerInterested: true, amChoking: false })])])).toEqual({ down: false, up: true });
    expect(torrentActivity([{ ...torrent(false, [wire({ amInterested: true, peerChoking: false })]), destroyed: true } as unknown as Torrent])).toEqual({ down: false, up: false });
  });
});
