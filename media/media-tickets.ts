import { randomBytes } from 'node:crypto';
import type { MediaTicket } from '../core/contract/media-scope.js';

/** Whose ticket it is: the media token it was minted with (checked again when it is used). */
export interface TicketOwner {
  tokenId: string;
}

export interface TicketOptions {
  /** A ticket not used within this long after minting is void (a URL that leaked unused dies fast). */
  firstUseMs: number;
  /** A reusable ticket lapses after this long without use… */
  idleMs: number;
  /** …and after this long in any case. */
  maxMs: number;
  /** Tickets held at once, per token and in all (oldest dropped first). */
  perToken: number;
  total: number;
  /** Monotonic milliseconds: the wall clock may jump when a teaching point adopts its hub's time. */
  now: () => number;
}

export const defaultTicketOptions: TicketOptions = {
  firstUseMs: 60_000, idleMs: 10 * 60_000, maxMs: 4 * 3600_000, perToken: 32, total: 2000, now: () => performance.now(),
};

interface Held {
  owner: TicketOwner;
  path: string;
  singleUse: boolean;
  mintedAt: number;
  usedAt: number | null;
}

/**
 * Short-lived, single-purpose tickets for where a browser cannot send a header: the control WebSocket
 * (single use, one minute) and a recording's `<video src>` (one path; first use within a minute, then
 * alive while the player keeps asking for ranges, at most a few hours). Held in memory only: a restart
 * voids them all, and the page simply mints new ones. The long-lived media token never enters a URL.
 */
export class MediaTickets {
  private readonly held = new Map<string, Held>();
  private readonly o: TicketOptions;

  constructor(o: Partial<TicketOptions> = {}) {
    this.o = { ...defaultTicketOptions, ...o };
  }

  mint(owner: TicketOwner, path: string, singleUse: boolean): MediaTicket {
    this.sweep();
    const mine = [...this.held].filter(([, h]) => h.owner.tokenId === owner.tokenId);
    for (const [k] of mine.slice(0, Math.max(0, mine.length - this.o.perToken + 1))) this.held.delete(k);
    if (this.held.size >= this.o.total) this.held.delete(this.held.keys().next().value!);
    const ticket = `tk_${randomBytes(24).toString('base64url')}`;
    const now = this.o.now();
    this.held.set(ticket, { owner, path, singleUse, mintedAt: now, usedAt: null });
    return { ticket, path, expiresAt: Date.now() + this.o.firstUseMs };
  }

  /** The owner when `ticket` is alive and for exactly `path`; a single-use ticket is spent here. */
  redeem(ticket: string, path: string): TicketOwner | undefined {
    const h = this.held.get(ticket);
    if (!h || !this.alive(h, this.o.now())) {
      if (h) this.held.delete(ticket);
      return undefined;
    }
    if (h.path !== path) return undefined;
    if (h.singleUse) this.held.delete(ticket);
    else h.usedAt = this.o.now();
    return h.owner;
  }

  /** Drops every ticket of a token (revoked). */
  forget(tokenId: string): void {
    for (const [k, h] of this.held) if (h.owner.tokenId === tokenId) this.held.delete(k);
  }

  get size(): number {
    return this.held.size;
  }

  private alive(h: Held, now: number): boolean {
    if (now - h.mintedAt > this.o.maxMs) return false;
    return h.usedAt === null ? now - h.mintedAt <= this.o.firstUseMs : now - h.usedAt <= this.o.idleMs;
  }

  private sweep(): void {
    const now = this.o.now();
    for (const [k, h] of this.held) if (!this.alive(h, now)) this.held.delete(k);
  }
}
