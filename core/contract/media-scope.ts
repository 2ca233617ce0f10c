// What a screen's media token lets it do (shared with the renderer, which shows and issues them).
import type { ControlType } from './lesson.js';

/**
 * Scopes, each including the one before it:
 *  - view: play rooms (WHEP), read lessons, the control channel and recordings.
 *  - classroom: also publish this box's own classroom room `<lesson>~<this box>` and raise a hand.
 *  - console: also publish the hub's broadcast room (and take it over) and steer the lesson:
 *    lesson start/end, page, pen, mute, spotlight.
 * The PIN session (settings) is separate: it issues and revokes these tokens.
 */
export const MEDIA_SCOPES = ['view', 'classroom', 'console'] as const;
export type MediaScope = (typeof MEDIA_SCOPES)[number];

export function scopeIncludes(held: MediaScope, needed: MediaScope): boolean {
  return MEDIA_SCOPES.indexOf(held) >= MEDIA_SCOPES.indexOf(needed);
}

/** The scope a control message type needs; presets come only from the hub box itself, never a screen. */
export function scopeForControl(type: ControlType): MediaScope | null {
  switch (type) {
    case 'hand': return 'classroom';
    case 'page': case 'stroke': case 'mute': case 'spotlight': case 'lesson': return 'console';
    case 'preset': return null;
  }
}

/** A media token as the settings list shows it (never the token itself: only its hash is stored). */
export interface MediaTokenEntry {
  id: string;
  label: string;
  scope: MediaScope;
  createdAt: number;
  expiresAt: number | null;
}

/** Default lifetime of a screen's token issued behind the PIN: one school term and a little more. */
export const DEFAULT_TOKEN_TTL_SECONDS = 180 * 86_400;

/**
 * WHIP header (or `?takeover=1`) with which a `console` caller replaces the room's live publisher;
 * without it a second publisher gets 409 E_ROOM_HAS_PUBLISHER.
 */
export const TAKEOVER_HEADER = 'x-box-takeover';

/** What GET /api/media/sessions/<id> says of a WHIP/WHEP session (the Location's id is the capability). */
export interface MediaSessionState {
  id: string;
  state: 'live' | 'ended' | 'unknown';
  /** Why it ended: 'taken-over' when a console took the room over, else 'deleted', 'failed', 'replaced'… */
  reason: string | null;
}

/** A short-lived ticket for one path where a header cannot go (`<video src>`, a WebSocket). */
export interface MediaTicket {
  ticket: string;
  path: string;
  expiresAt: number;
}
