// The shell: status bar, banners, the current screen and the bottom bar. It never goes blank: while the
// daemon is down the shell (precached by the service worker) shows plain words and recovers by itself.
import { computed, defineComponent, h, watch } from 'vue';
import { box } from './api/box.js';
import { StatusBar } from './components/StatusBar.js';
import { NavBar } from './components/NavBar.js';
import { hasLocalLanguage, setLanguage, t } from './i18n.js';
import { route, type Screen } from './router.js';
import { Home } from './screens/Home.js';
import { LessonScreen } from './screens/Lesson.js';
import { Library } from './screens/Library.js';
import { Recordings } from './screens/Recordings.js';
import { Settings } from './screens/Settings.js';
import { Console } from './screens/Console.js';
import { note } from './ui.js';

const screens = { home: Home, lesson: LessonScreen, library: Library, recordings: Recordings, settings: Settings, console: Console };

export const App = defineComponent({
  name: 'BoxApp',
  setup() {
    // The box's language setting applies unless someone switched language on this screen.
    watch(() => box.prefs?.language, (lang) => { if (lang && !hasLocalLanguage()) setLanguage(lang, false); }, { immediate: true });

    const role = computed(() => box.health?.role ?? null);
    const navScreens = computed<Screen[]>(() => role.value === 'hub' ? ['console', 'library', 'recordings', 'settings']
      : role.value === 'teaching-point' ? ['home', 'library', 'recordings', 'settings'] : ['library', 'settings']);
    const current = computed<Screen>(() => {
      const s = route.value.screen;
      // "/" is the role's own start screen: the hub console on a hub, the library on a seed.
      if (s === 'home' && role.value === 'hub') return 'console';
      if (s === 'home' && role.value !== 'teaching-point' && role.value !== null) return 'library';
      return s;
    });

    return () => {
      document.title = box.health?.name ?? t('app.title');
      if (!box.daemonUp) {
        return h('div', { class: 'app', 'data-testid': 'app', 'data-state': 'daemon-down' }, [
          h('main', { class: 'daemon-down', 'data-testid': 'daemon-down' }, [
            h('h1', t('daemon.down.title')),
            h('p', t('daemon.down.body')),
            h('p', { role: 'status', class: 'pulse' }, t('daemon.down.retrying')),
          ]),
        ]);
      }
      const hb = box.health;
      const banners = [
        hb && !hb.provisioned ? note(t('box.unprovisioned'), 'warn', 'unprovisioned') : null,
        hb?.hub && !hb.hub.enrolled ? note(t('hub.notEnrolled'), 'warn', 'not-enrolled') : null,
        hb?.hub && hb.hub.enrolled && !hb.hub.reachable ? h('div', { class: 'banner-offline', role: 'status', 'data-testid': 'hub-offline' }, t('hub.offline')) : null,
      ];
      return h('div', { class: 'app', 'data-testid': 'app', 'data-state': box.checkedOnce ? 'ready' : 'loading', 'data-role': role.value ?? '' }, [
        h(StatusBar),
        ...banners,
        // The lesson fills the whiteboard: its own 离开课堂 button is the way out.
        h('main', { class: ['main', current.value === 'lesson' ? 'in-lesson' : ''] }, box.checkedOnce ? [h(screens[current.value], { key: `${current.value}` })] : [note(t('app.opening'))]),
        // Drawn once the box's role is known, so the buttons never shift under a finger.
        current.value === 'lesson' || !box.checkedOnce ? null : h(NavBar, { screens: navScreens.value }),
      ]);
    };
  },
});
