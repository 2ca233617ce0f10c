// This screen's media token: lets the kiosk / hub console read lessons and play or send live video on
// its own box. A technician issues it once behind the settings PIN; it stays on this screen.
import { ref } from 'vue';
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

export async function authoriseScreen(label: string): Promise<void> {
  const out = await getJson<{ token: string; id: string }>('/api/admin/media-tokens', { method: 'POST', body: { label }, token: sessionToken.value });
  mediaToken.value = { token: out.token, id: out.id };
  localStorage.setItem(KEY, JSON.stringify(mediaToken.value));
}

export async function revokeScreen(): Promise<void> {
  const t = mediaToken.value;
  if (t) await request(`/api/admin/media-tokens/${t.id}`, { method: 'DELETE', token: sessionToken.value }).catch(() => undefined);
  mediaToken.value = null;
  localStorage.removeItem(KEY);
}

/** Forget a token the box refused (revoked, or the box was re-imaged). */
export function dropRefusedToken(): void {
  mediaToken.value = null;
  localStorage.removeItem(KEY);
}
