// This screen's media token: lets the kiosk / hub console read lessons and play or send live video on
// its own box, within its scope (view, classroom, console). A technician issues it once behind the
// settings PIN; it stays on this screen and only ever travels in a header: where a URL must carry a
// credential (a <video src>, the control WebSocket) the screen swaps it for a short-lived ticket.
import { ref } from 'vue';
import type { MediaScope, MediaTicket, MediaTokenEntry } from '../../../core/contract/media-scope.js';
import { getJson, request } from './http.js';
import { sessionToken } from './settings.js';

const KEY = 'box.mediaToken';

interface StoredToken { token: string; id: string }

function read(): StoredToken | null {
  try {
    const raw = localStorage.getItem(KEY);
    const v = raw ? (JSON.parse(raw) as Partial<StoredToken>) : null;
    return v && typeof v.token === 'string' && typeof v.id === 'string' ? { token: v.token, id: v.id } : null;
  } catch {
    return null;
  }
}

export const mediaToken = ref<StoredToken | null>(read());

export async function authoriseScreen(label: string, scope: MediaScope): Promise<void> {
  const out = await getJson<{ token: string; id: string }>('/api/admin/media-tokens', { method: 'POST', body: { label, scope }, token: sessionToken.value });
  mediaToken.value = { token: out.token, id: out.id };
  localStorage.setItem(KEY, JSON.stringify(mediaToken.value));
}

export async function revokeScreen(): Promise<void> {
  const t = mediaToken.value;
  if (t) await request(`/api/admin/media-tokens/${t.id}`, { method: 'DELETE', token: sessionToken.value }).catch(() => undefined);
  mediaToken.value = null;
  localStorage.removeItem(KEY);
}

/** Every screen holding a working token on this box (behind the PIN). */
export async function screenTokens(): Promise<MediaTokenEntry[]> {
  return (await getJson<{ tokens: MediaTokenEntry[] }>('/api/admin/media-tokens', { token: sessionToken.value })).tokens;
}

/** Revokes another screen's token (or this one's: then this screen forgets it too). */
export async function revokeToken(id: string): Promise<void> {
  await request(`/api/admin/media-tokens/${encodeURIComponent(id)}`, { method: 'DELETE', token: sessionToken.value });
  if (mediaToken.value?.id === id) dropRefusedToken();
}

/** A short-lived ticket for one path on this box, to put in a URL instead of the token: `path?ticket=…`. */
export async function ticketUrl(path: string, token: string | null = mediaToken.value?.token ?? null): Promise<string> {
  const out = await getJson<MediaTicket>('/api/media-tickets', { method: 'POST', body: { path }, token });
  return `${path}?ticket=${encodeURIComponent(out.ticket)}`;
}

/** Forget a token the box refused (revoked, or the box was re-imaged). */
export function dropRefusedToken(): void {
  mediaToken.value = null;
  localStorage.removeItem(KEY);
}

const TOKEN_SHAPE = /^mt_[A-Za-z0-9_-]{20,80}$/;

/**
 * The box's own kiosk opens with its media token in the URL fragment (`#mt=…&mtid=…`, issued when the
 * box launched it): keep the token on this screen and take it out of the address bar at once, so it is
 * not in the history or a reload. Returns whether a token was taken.
 */
export function takeTokenFromFragment(): boolean {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('mt');
  if (token === null) return false;
  const id = params.get('mtid') ?? '';
  params.delete('mt');
  params.delete('mtid');
  const rest = params.toString();
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  if (!TOKEN_SHAPE.test(token)) return false;
  mediaToken.value = { token, id };
  try { localStorage.setItem(KEY, JSON.stringify(mediaToken.value)); } catch { /* kept for this page only */ }
  return true;
}
