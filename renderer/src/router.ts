// A small history router: a handful of fixed screens, so no routing library is needed.
import { ref } from 'vue';

export type Screen = 'home' | 'lesson' | 'library' | 'recordings' | 'settings' | 'console';

export interface Route {
  screen: Screen;
  /** The library item or recording opened, when the path names one. */
  id: string | null;
}

const screenPaths: Record<Screen, string> = {
  home: '/', lesson: '/lesson', library: '/library', recordings: '/recordings', settings: '/settings', console: '/console',
};

// The opened item rides in the query (?id=…), so the daemon needs only one fixed path per screen.
function parsePath(path: string, search: string): Route {
  const screen = (Object.keys(screenPaths) as Screen[]).find((s) => screenPaths[s] === path.replace(/\/+$/, '') || screenPaths[s] === path) ?? 'home';
  return { screen, id: new URLSearchParams(search).get('id') };
}

export const route = ref<Route>(parsePath(location.pathname, location.search));

export function go(screen: Screen, id: string | null = null): void {
  const path = screenPaths[screen] + (id ? `?id=${encodeURIComponent(id)}` : '');
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  route.value = { screen, id };
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  route.value = parsePath(location.pathname, location.search);
});
