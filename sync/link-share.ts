import type { Torrent } from 'webtorrent';

// A teaching point runs two torrent clients over one thin link: the resource sync and the recordings.
// Each used to apply the whole plan rate, so together they took up to twice the technician's cap on
// the link that also carries the live lesson. Both now join one LinkShare per box and apply only
// their share of the plan.

export type LinkDirection = 'down' | 'up';

/** Whether a link user has data to move now, per direction. */
export interface LinkActivity { down: boolean; up: boolean }

export interface LinkShareMember {
  /**
   * This member's part of a plan rate (bytes/s; -1 no limit and 0 nothing pass through unchanged).
   * The rate is split evenly between the members active in that direction, counting this member as
   * active even while it is idle: an idle member that starts moving data then starts at its share,
   * not at the whole rate on top of the others' (the link would briefly carry 1.5× the cap).
   */
  rate(dir: LinkDirection, planBps: number): number;
  /** Re-reads every member's activity now (a member that just started or stopped moving data). */
  poll(): void;
  leave(): void;
}

interface Member {
  name: string;
  activity: () => LinkActivity;
  onShareChange: () => void;
  /** Last activity read, and how many users (this one included) split each direction as last told to it. */
  active: LinkActivity;
  users: { down: number; up: number };
}

/** Splits a plan rate between the torrent clients of one box; polls their activity every `intervalMs`. */
export class LinkShare {
  private readonly members = new Set<Member>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(o: { intervalMs?: number } = {}) {
    const ms = o.intervalMs ?? 1000;
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`LinkShare: intervalMs must be ≥ 0 (got ${ms}).`);
    // 0: no timer, poll() only (tests).
    if (ms > 0) {
      this.timer = setInterval(() => this.poll(), ms);
      this.timer.unref();
    }
  }

  /**
   * Adds a link user. `activity` must be cheap (read every second); `onShareChange` is called when the
   * number of users this member shares a direction with changes, and should re-apply its throttle.
   */
  join(name: string, hooks: { activity: () => LinkActivity; onShareChange: () => void }): LinkShareMember {
    const m: Member = { name, activity: hooks.activity, onShareChange: hooks.onShareChange, active: { down: false, up: false }, users: { down: 1, up: 1 } };
    this.members.add(m);
    this.poll();
    return {
      rate: (dir, planBps) => {
        m.users[dir] = this.usersFor(m, dir);
        return splitRate(planBps, m.users[dir]);
      },
      poll: () => this.poll(),
      leave: () => {
        if (this.members.delete(m)) this.poll();
      },
    };
  }

  /** Which users move data in each direction now (status, tests). */
  snapshot(): Array<{ name: string } & LinkActivity> {
    return [...this.members].map((m) => ({ name: m.name, ...m.active }));
  }

  /** Reads every member's activity and tells each member whose share changed. */
  poll(): void {
    for (const m of this.members) {
      try {
        m.active = m.activity();
      } catch {
        // A member that cannot tell (closing) counts as idle.
        m.active = { down: false, up: false };
      }
    }
    for (const m of [...this.members]) {
      const down = this.usersFor(m, 'down');
      const up = this.usersFor(m, 'up');
      if (down === m.users.down && up === m.users.up) continue;
      m.users = { down, up };
      m.onShareChange();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.members.clear();
  }

  private usersFor(m: Member, dir: LinkDirection): number {
    let n = 1;
    for (const o of this.members) if (o !== m && o.active[dir]) n++;
    return n;
  }
}

/** `planBps` split between `users`: -1 (no limit) and 0 (paused) stay; a real rate never drops below 1 B/s. */
export function splitRate(planBps: number, users: number): number {
  if (planBps < 0) return -1;
  if (planBps === 0) return 0;
  return Math.max(1, Math.floor(planBps / Math.max(1, users)));
}

/**
 * What a torrent client has to move, read from its wires (cheap: no I/O): down when an unfinished
 * torrent wants pieces from a peer or web seed that lets it ask; up when a peer that wants pieces is
 * let ask (not choked).
 */
export function torrentActivity(torrents: Iterable<Torrent>): LinkActivity {
  let down = false;
  let up = false;
  for (const t of torrents) {
    if ((t as unknown as { destroyed?: boolean }).destroyed) continue;
    for (const w of t.wires ?? []) {
      if (!down && !t.done && w.amInterested && !w.peerChoking) down = true;
      if (!up && w.peerInterested && !w.amChoking) up = true;
      if (down && up) return { down, up };
    }
  }
  return { down, up };
}
