// Recordings kept on this box (its own and the hub's master recordings), with playback.
import { computed, defineComponent, h, onMounted, ref } from 'vue';
import { load, type Loaded } from '../api/http.js';
import { errorWords } from '../errors.js';
import { language, t } from '../i18n.js';
import { go, route } from '../router.js';
import { button, note } from '../ui.js';

export interface RecordingEntry {
  id: string;
  title: string;
  startedAt: string;
  durationSeconds: number | null;
  /** Range-capable file URL on this box. */
  fileUrl: string;
}

export const Recordings = defineComponent({
  name: 'RecordingsScreen',
  setup() {
    const list = ref<Loaded<{ recordings: RecordingEntry[] }>>({ state: 'loading' });
    onMounted(async () => { list.value = await load<{ recordings: RecordingEntry[] }>('/api/recordings'); });
    const playing = computed(() => {
      const l = list.value;
      return l.state === 'ready' && route.value.id ? l.data.recordings.find((r) => r.id === route.value.id) ?? null : null;
    });
    return () => {
      const l = list.value;
      const p = playing.value;
      return h('div', { class: 'screen recordings', 'data-testid': 'screen-recordings' }, [
        h('h1', t('recordings.title')),
        p ? h('div', [button(t('nav.back'), () => go('recordings')), h('video', { class: 'player', src: p.fileUrl, controls: true, 'aria-label': p.title })]) : null,
        l.state === 'loading' ? note(t('app.opening')) : null,
        l.state === 'unavailable' ? note(t('recordings.unavailable'), 'info', 'recordings-unavailable') : null,
        l.state === 'error' ? note(errorWords(l.error), 'warn') : null,
        l.state === 'ready' && l.data.recordings.length === 0 ? note(t('recordings.empty')) : null,
        l.state === 'ready' && l.data.recordings.length ? h('ul', { class: 'list' }, l.data.recordings.map((r) => h('li', [
          h('span', `${new Date(r.startedAt).toLocaleString(language.value)} · ${r.title}`),
          button(t('recordings.play'), () => go('recordings', r.id)),
        ]))) : null,
      ]);
    };
  },
});
