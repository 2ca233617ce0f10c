// The box's own state: health (role, hub link, disk) polled so the screen follows the daemon.
import { reactive } from 'vue';
import type { HealthReport } from '../../../core/contract/health.js';
import type { Language } from '../../../core/contract/settings.js';
import { getJson } from './http.js';

export interface UiPreferences {
  language: Language;
  volume: number;
}

export const box = reactive({
  health: null as HealthReport | null,
  /** False while the daemon does not answer (stopped, restarting): the shell shows the offline page. */
  daemonUp: true,
  checkedOnce: false,
  prefs: null as UiPreferences | null,
});

const UP_INTERVAL_MS = 5000;
const DOWN_INTERVAL_MS = 1500;
let timer: ReturnType<typeof setTimeout> | undefined;

export async function checkHealth(): Promise<void> {
  try {
    box.health = await getJson<HealthReport>('/api/health', { timeoutMs: 4000 });
    box.daemonUp = true;
    if (!box.prefs) box.prefs = await getJson<UiPreferences>('/api/ui-preferences', { timeoutMs: 4000 }).catch(() => null);
  } catch {
    box.daemonUp = false;
  } finally {
    box.checkedOnce = true;
  }
}

/** Polls /api/health for the life of the page; faster while the daemon is down so recovery is quick. */
export function startHealthPolling(): void {
  const loop = async () => {
    await checkHealth();
    timer = setTimeout(() => void loop(), box.daemonUp ? UP_INTERVAL_MS : DOWN_INTERVAL_MS);
  };
  if (timer === undefined) void loop();
}
